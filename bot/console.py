"""The console: chat with the real bot in a terminal, over the same fake Telegram the tests use.

    complaint-desk console [--db PATH] [--user ID] [--lang zh-CN|en] [--start-time ISO] [--json]
    complaint-desk run        # without TELEGRAM_BOT_TOKEN: the console with its defaults

It is the test simulator (`bot.simulator.Simulator`) with a person at the keyboard: the real
Application (production wiring, `bot.app.build_application`) talks to a `FakeTelegram` world on
a `FakeClock`. Input is read one line at a time, so a file can be piped in as a script; the
console exits 0 at the end of the input or on `:quit`.

Every line is one action of the current user:

    any text             a message (`/start` and other commands included); `::text` sends `:text`
    :tap N | :tap LABEL  press button N (1-based, row by row, left to right) of the newest message
                         with buttons, or the button with that label (else a unique,
                         case-insensitive prefix of one)
    :photo PATH          send a photo from disk (also :video PATH, :document PATH)
    :forward NAME: TEXT  forward a message written by NAME
    :as USER_ID          continue as another user (created on first use, speaking --lang)
    :block / :unblock    the current user blocks / unblocks the bot
    :advance 1h30m       move the clock (d, h, m, s) and run whatever becomes due
    :time                print the clock (ISO 8601, Asia/Shanghai)
    :restart             restart the bot on the same database
    :help, :quit

Operator: user id 9001 (`OPERATOR_ID`) is always added to the operators (`:as 9001`), on top of
any OPERATOR_IDS from the environment.

Database: `--db PATH` if given; otherwise COMPLAINT_DESK_DB when it is set (the settings'
`database`, if it was set explicitly rather than defaulted); otherwise a fresh temporary file,
removed at exit, so a scripted session always starts from nothing. `make run` (`complaint-desk
run` without a token) passes the bot's own database (default `data/complaint-desk.sqlite3`), so
drafts and complaints made there persist. The console's clock restarts at the real time in each
session while `:advance` moved the previous one forward: stored times can then lie ahead.

Clock: a FakeClock starting at `--start-time` (an aware ISO 8601 time; a naive one is read as
Asia/Shanghai) or else at the real current time; after that it moves only with `:advance`.

Output, without `--json`: the chat as text. The bot's messages to the current user are
`bot: ...` followed by numbered buttons (`  [1] File a complaint  [2] Guide`), edits are marked
`(edited)`, messages to other users are prefixed with the recipient (`→ 1002: ...`), pop-up
answers to taps read `(pop-up: ...)`, console errors `error: ...`. With a terminal on stdin it
prompts `you> `; piped, it prints no prompt and echoes the typed messages as `you: ...`.

Output with `--json`, one object per line and nothing else on stdout:

    {"type": "message", "chat_id", "message_id", "text", "media", "buttons": [[label, ...]],
     "edited"}
        every message the bot sends or edits, in any chat; "media" is null or
        {"kind": "photo" | "video" | "document", "file_name", "size", "album": group id}
    {"type": "event", "name", "data"}    every domain event (e.g. `complaint.submitted`)
    {"type": "time", "now"}              the answer to `:time`
    {"type": "error", "message"}         a console error (bad input, a stuck or crashed bot)
    {"type": "idle"}                     after every input line, once it is fully handled

Console notes (help, acknowledgements) go to stderr in JSON mode. Logging goes to stderr at
WARNING; errors the bot raised are reported there too; the bot's own error handler apologises
to the user as in production, and the console carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
import re
import shutil
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from telegram.request import BaseRequest

from bot.app import AnyApp, build_application
from bot.clock import FakeClock, SystemClock
from bot.config import Settings
from bot.fake.actor import Actor
from bot.fake.models import FakeButton, FakeMessage
from bot.fake.transcript import media_label
from bot.fake.world import FakeTelegram
from bot.i18n import Translator
from bot.simulator import BotCrashed, DrainTimeout, Simulator
from flows.replies import DomainEvent

__all__ = ["OPERATOR_ID", "Console", "ConsoleError", "parse_duration", "run_console"]

OPERATOR_ID = 9001
"""An operator out of the box: `:as 9001`."""

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")

HELP = f"""\
Every line is one action of the current user:
  any text             send it as a message (/start and other commands too); ::text sends :text
  :tap N | :tap LABEL  press button N (row by row, left to right) or the button labelled LABEL
                       on the newest message with buttons
  :photo PATH          send a photo from disk (also :video PATH and :document PATH)
  :forward NAME: TEXT  forward a message written by NAME
  :as USER_ID          continue as another user ({OPERATOR_ID} is an operator)
  :block / :unblock    the current user blocks / unblocks the bot
  :advance 1h30m       move the clock (d, h, m, s) and run what becomes due
  :time                show the clock
  :restart             restart the bot on the same database
  :help                this list
  :quit                leave (so does the end of the input)"""

_DURATION = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class ConsoleError(Exception):
    """A console line that cannot be carried out; reported as one error line."""


def parse_duration(text: str) -> timedelta:
    """`90m`, `2h`, `3d`, `45s` or combined (`1h30m`, `1d 2h`) -> a positive timedelta."""
    compact = "".join(text.split()).lower()
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ConsoleError(f"not a duration: {text!r} (e.g. 90m, 2h, 3d, 45s, 1h30m)")
    amounts: dict[str, int] = {}
    for number, unit in parts:
        amounts[_UNITS[unit]] = amounts.get(_UNITS[unit], 0) + int(number)
    delta = timedelta(**amounts)
    if delta <= timedelta(0):
        raise ConsoleError(f"not a duration: {text!r} (it must be more than zero)")
    return delta


def _start_time(start: datetime | None) -> datetime:
    if start is None:
        return SystemClock().now()
    return start if start.tzinfo is not None else start.replace(tzinfo=LOCAL_ZONE)


def _iso(moment: datetime) -> str:
    return moment.astimezone(LOCAL_ZONE).isoformat()


class _LineReader:
    """Reads one line at a time on a helper thread, so the event loop stays responsive.

    A daemon thread per line: a pending read never keeps the process alive at exit, and
    `interrupt()` (Ctrl-C at a terminal) ends the wait as if the input had ended.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending: asyncio.Future[str] | None = None

    async def readline(self) -> str:
        """The next line with its newline; "" at the end of the input."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        self._pending = future

        def settle(line: str | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(line or "")

        def work() -> None:
            try:
                line, error = self._stream.readline(), None
            except Exception as exc:  # handed to the waiting coroutine
                line, error = None, exc
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(settle, line, error)

        threading.Thread(target=work, name="console-stdin", daemon=True).start()
        try:
            return await future
        finally:
            self._pending = None

    def interrupt(self) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.set_result("")


class Console:
    """One console session: a simulator, the current user, and the output format."""

    def __init__(
        self,
        stdout: TextIO,
        *,
        user_id: int,
        language: str,
        as_json: bool,
        interactive: bool,
    ) -> None:
        self.stdout = stdout
        self.user_id = user_id
        self.language = language
        self.as_json = as_json
        self.interactive = interactive
        self._sim: Simulator | None = None
        self._actors: dict[int, Actor] = {}
        self._shown: dict[tuple[int, int], str] = {}  # the text last shown per message
        self._errors_seen = 0
        self._stopped = False
        self.failed = False

    @property
    def sim(self) -> Simulator:
        if self._sim is None:
            raise RuntimeError("the console has not started the bot")
        return self._sim

    @property
    def actor(self) -> Actor:
        """The current user (created on first use, speaking the console's language)."""
        actor = self._actors.get(self.user_id)
        if actor is None:
            actor = self._actors[self.user_id] = self.sim.user(
                self.user_id, language_code=self.language
            )
        return actor

    # ---- start and stop ----------------------------------------------------------------------

    async def start(self, settings: Settings, start: datetime) -> None:
        translator = Translator.load()

        async def factory(request: BaseRequest, clock: FakeClock) -> AnyApp:
            return build_application(
                settings, clock=clock, request=request, translator=translator, sinks=[self.event]
            )

        clock = FakeClock(start)
        # Update ids grow across sessions, as Telegram's do: the database remembers the ids it
        # handled (redeliveries change nothing), so a new session must not start at 1 again.
        world = FakeTelegram(clock, first_update_id=int(SystemClock().now().timestamp() * 1000))
        world.enforce_limits()  # Telegram's flood limits (bot/fake/limits.py), as in production
        world.subscribe(self.message)
        self._sim = await Simulator.start(factory, clock=clock, world=world, raise_errors=False)
        self._sim.translator = translator
        _ = self.actor
        self._report_bot_errors()

    async def stop(self) -> None:
        if self._sim is None or self._stopped:
            return
        self._stopped = True
        try:
            await self._sim.stop()
        except Exception as exc:
            self.error(f"stopping the bot: {_first_line(exc)}")
            self.failed = True
        self._report_bot_errors()

    # ---- output ------------------------------------------------------------------------------

    def _write(self, line: str) -> None:
        self.stdout.write(line + "\n")
        self.stdout.flush()

    def _emit(self, obj: dict[str, Any]) -> None:
        self._write(json.dumps(obj, ensure_ascii=False, default=str))

    def note(self, text: str) -> None:
        """A console remark: stdout in the chat view, stderr in JSON mode."""
        if self.as_json:
            print(text, file=sys.stderr, flush=True)
        else:
            self._write(text)

    def error(self, message: str) -> None:
        if self.as_json:
            self._emit({"type": "error", "message": message})
        else:
            self._write(f"error: {message}")

    def idle(self) -> None:
        if self.as_json:
            self._emit({"type": "idle"})

    def prompt(self) -> None:
        if self.interactive and not self.as_json:
            self.stdout.write("you> ")
            self.stdout.flush()

    def event(self, event: DomainEvent) -> None:
        """A domain-event sink (registered on every Application the factory builds)."""
        if self.as_json:
            self._emit({"type": "event", "name": event.name, "data": dict(event.data)})

    def message(self, kind: str, chat_id: int, msg: FakeMessage) -> None:
        """The world's listener: the bot sent, edited or deleted a message."""
        if self.as_json:
            if kind in ("sent", "edited"):
                self._emit(
                    {
                        "type": "message",
                        "chat_id": chat_id,
                        "message_id": msg.message_id,
                        "text": msg.text,
                        "media": _media_json(msg),
                        "buttons": [[b.label for b in row] for row in msg.buttons],
                        "edited": kind == "edited",
                    }
                )
            return
        who = "bot" if chat_id == self.user_id else f"→ {chat_id}"
        key = (chat_id, msg.message_id)
        before, self._shown[key] = self._shown.get(key), msg.text
        if kind == "deleted":
            self._write(f"{who}: (deleted: {_headline(msg.text)})")
            return
        if kind == "edited" and before == msg.text:
            what = "new buttons on" if msg.buttons else "buttons removed from"
            self._write(f"{who} (edited): ({what} {_headline(msg.text)})")
        else:
            head = f"{who} (edited): " if kind == "edited" else f"{who}: "
            body = " ".join(p for p in (_media(msg), msg.text) if p)
            first, *rest = body.split("\n")
            self._write(head + first)
            for line in rest:
                self._write(" " * len(head) + line if line.strip() else "")
        number = 0
        for row in msg.buttons:
            labels = []
            for button in row:
                number += 1
                link = f" <{button.url}>" if button.data is None and button.url else ""
                labels.append(f"[{number}] {button.label}{link}")
            self._write("  " + "  ".join(labels))

    def _report_bot_errors(self) -> None:
        if self._sim is None:
            return
        fresh = self._sim.errors[self._errors_seen :]
        self._errors_seen = len(self._sim.errors)
        for exc in fresh:
            print(
                f"console: the bot raised {type(exc).__name__}: {exc}", file=sys.stderr, flush=True
            )

    # ---- input -------------------------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Carry out one input line; False when the console should stop."""
        text = line.rstrip("\r\n")
        if not text.strip():
            return True
        if text.startswith(":") and not text.startswith("::"):
            command, _, arg = text[1:].partition(" ")
            if command == "quit":
                return False
            action = self._commands().get(command)
            if action is None:
                raise ConsoleError(f"unknown command :{command} (see :help)")
            await action(arg.strip())
            return True
        if text.startswith("::"):
            text = text[1:]
        if not self.interactive and not self.as_json:
            self._write(f"you: {text}")
        await self.actor.send(text)
        return True

    def _commands(self) -> dict[str, Callable[[str], Awaitable[None]]]:
        return {
            "tap": self._tap,
            "photo": self._photo,
            "video": self._video,
            "document": self._document,
            "forward": self._forward,
            "as": self._as,
            "block": self._block,
            "unblock": self._unblock,
            "advance": self._advance,
            "time": self._time,
            "restart": self._restart,
            "help": self._help,
        }

    async def _tap(self, arg: str) -> None:
        if not arg:
            raise ConsoleError("usage: :tap N or :tap LABEL")
        keyboards = [m for m in self.sim.world.bot_messages(self.user_id) if m.buttons]
        if not keyboards:
            raise ConsoleError("there is no message with buttons to tap")
        msg = keyboards[-1]
        button = _pick(msg, arg)
        if button.data is None:
            raise ConsoleError(f"[{button.label}] is a link ({button.url}), not a button to tap")
        if not self.as_json:
            self._write(f"you tap [{button.label}]")
        actor = self.actor
        await actor.tap(label=button.label, data=button.data, message_id=msg.message_id)
        answer = actor.last_callback_answer
        if answer is not None and answer.text and not self.as_json:
            self._write(f"(pop-up: {answer.text})")

    async def _send_file(self, kind: str, arg: str) -> None:
        if not arg:
            raise ConsoleError(f"usage: :{kind} PATH")
        try:
            path, data = await asyncio.to_thread(_read_file, arg)
        except OSError as exc:
            raise ConsoleError(f"cannot read {arg}: {exc.strerror or exc}") from None
        if not self.as_json:
            self._write(f"you: [{kind} {path.name}, {len(data)} bytes]")
        actor = self.actor
        if kind == "photo":
            await actor.send_photo(data=data, file_name=path.name)
            return
        mime = mimetypes.guess_type(path.name)[0]
        if kind == "video":
            await actor.send_video(data=data, file_name=path.name, mime_type=mime or "video/mp4")
        else:
            await actor.send_document(
                data=data, file_name=path.name, mime_type=mime or "application/octet-stream"
            )

    async def _photo(self, arg: str) -> None:
        await self._send_file("photo", arg)

    async def _video(self, arg: str) -> None:
        await self._send_file("video", arg)

    async def _document(self, arg: str) -> None:
        await self._send_file("document", arg)

    async def _forward(self, arg: str) -> None:
        name, colon, text = arg.partition(":")
        if not colon or not name.strip() or not text.strip():
            raise ConsoleError("usage: :forward NAME: TEXT")
        if not self.as_json:
            self._write(f"you: (forwarded from {name.strip()}) {text.strip()}")
        await self.actor.forward(name.strip(), text.strip())

    async def _as(self, arg: str) -> None:
        try:
            user_id = int(arg)
        except ValueError:
            raise ConsoleError("usage: :as USER_ID (a positive number)") from None
        if user_id <= 0:
            raise ConsoleError("usage: :as USER_ID (a positive number)")
        self.user_id = user_id
        _ = self.actor
        operator = " (an operator)" if user_id == OPERATOR_ID else ""
        self.note(f"(you are now user {user_id}{operator})")

    async def _block(self, arg: str) -> None:
        self.sim.world.block(self.user_id, True)
        self.note(f"(user {self.user_id} blocked the bot)")

    async def _unblock(self, arg: str) -> None:
        self.sim.world.block(self.user_id, False)
        self.note(f"(user {self.user_id} unblocked the bot)")

    async def _advance(self, arg: str) -> None:
        delta = parse_duration(arg)
        await self.sim.advance(seconds=delta.total_seconds())
        self.note(f"(the clock is now {_iso(self.sim.clock.now())})")

    async def _time(self, arg: str) -> None:
        now = _iso(self.sim.clock.now())
        if self.as_json:
            self._emit({"type": "time", "now": now})
        else:
            self._write(f"time: {now}")

    async def _restart(self, arg: str) -> None:
        await self.sim.restart()
        self.note("(the bot restarted on the same database)")

    async def _help(self, arg: str) -> None:
        self.note(HELP)

    # ---- the loop ----------------------------------------------------------------------------

    async def run(self, stdin: TextIO) -> None:
        reader = _LineReader(stdin)
        with _interrupts(reader.interrupt, enabled=self.interactive):
            while True:
                self.prompt()
                line = await reader.readline()
                if not line:
                    if self.interactive and not self.as_json:
                        self._write("")
                    return
                try:
                    go_on = await self.handle(line)
                except ConsoleError as exc:
                    self.error(str(exc))
                    go_on = True
                except (BotCrashed, DrainTimeout) as exc:
                    self.error(f"the bot failed: {_first_line(exc)}")
                    print(f"console: {exc}", file=sys.stderr, flush=True)
                    go_on = True
                except Exception as exc:  # e.g. a restart that could not reopen the database
                    self.error(f"the bot failed: {_first_line(exc)}")
                    traceback.print_exc(file=sys.stderr)
                    go_on = True
                self._report_bot_errors()
                self.idle()
                if not go_on:
                    return


@contextlib.contextmanager
def _interrupts(callback: Callable[[], None], *, enabled: bool) -> Any:
    """At a terminal, Ctrl-C ends the session like the end of the input."""
    loop = asyncio.get_running_loop()
    installed = False
    if enabled:
        try:
            loop.add_signal_handler(signal.SIGINT, callback)
            installed = True
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not main thread
            pass
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)


def _pick(msg: FakeMessage, wanted: str) -> FakeButton:
    """Button N (1-based, reading order) or by label: exact, else a unique prefix (any case)."""
    buttons = [b for row in msg.buttons for b in row]
    if wanted.isdigit():
        index = int(wanted)
        if not 1 <= index <= len(buttons):
            raise ConsoleError(f"no button {index}: the newest keyboard has {len(buttons)}")
        return buttons[index - 1]
    exact = [b for b in buttons if b.label == wanted]
    if exact:
        return exact[0]
    prefixed = [b for b in buttons if b.label.casefold().startswith(wanted.casefold())]
    if len(prefixed) == 1:
        return prefixed[0]
    labels = ", ".join(f"[{b.label}]" for b in (prefixed or buttons))
    if prefixed:
        raise ConsoleError(f"{wanted!r} matches several buttons: {labels}")
    raise ConsoleError(f"no button {wanted!r}; the newest keyboard has {labels}")


def _media(msg: FakeMessage) -> str:
    """What a message carries: `[photo evidence.png 12.0 KB]`, a forward's author."""
    forwarded = f"(forwarded from {msg.forward_sender})" if msg.forward_sender else ""
    return " ".join(p for p in (media_label(msg), forwarded) if p)


def _media_json(msg: FakeMessage) -> dict[str, Any] | None:
    if msg.kind not in ("photo", "video", "document") or msg.file is None:
        return None
    return {
        "kind": msg.kind,
        "file_name": msg.file.file_name,
        "size": msg.file.size,
        "album": msg.media_group_id,
    }


def _read_file(name: str) -> tuple[Path, bytes]:
    path = Path(name).expanduser()
    return path, path.read_bytes()


def _headline(text: str, width: int = 40) -> str:
    """The start of a message's first line, quoted, to say which message changed."""
    line = text.strip().split("\n", 1)[0]
    return f"“{line if len(line) <= width else line[: width - 1] + '…'}”"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def _database(settings: Settings, db: Path | None) -> tuple[Path, Path | None]:
    """The database to use and, if it is a temporary one, the directory to remove at exit."""
    if db is not None:
        return db, None
    if "database" in settings.model_fields_set:  # COMPLAINT_DESK_DB, or set by the caller
        return settings.database, None
    folder = Path(tempfile.mkdtemp(prefix="complaint-desk-console-"))
    return folder / "console.sqlite3", folder


async def run_console(
    settings: Settings,
    stdin: TextIO,
    stdout: TextIO,
    *,
    db: Path | None = None,
    user_id: int = 1001,
    language: str = "zh-CN",
    start: datetime | None = None,
    as_json: bool = False,
) -> int:
    """Chat with the bot over `stdin`/`stdout` until the input ends or `:quit`; the exit code."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    path, temporary = _database(settings, db)
    console = Console(
        stdout,
        user_id=user_id,
        language=language,
        as_json=as_json,
        interactive=stdin.isatty(),
    )
    try:
        console_settings = settings.model_copy(
            update={"database": path, "operator_ids": settings.operator_ids | {OPERATOR_ID}}
        )
        try:
            await console.start(console_settings, _start_time(start))
        except Exception as exc:
            console.error(f"the bot could not start: {_first_line(exc)}")
            return 1
        if console.interactive and not as_json:
            console.note(
                f"Complaint desk console: you are user {user_id} ({language}); "
                f"operator {OPERATOR_ID}; :help lists the commands."
            )
        await console.run(stdin)
        await console.stop()
        return 1 if console.failed else 0
    finally:
        await console.stop()  # after an exception (it does nothing the second time)
        root.setLevel(level)
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
