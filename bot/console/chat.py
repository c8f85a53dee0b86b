"""The console's chat state: the simulator, the current user, and what each `:command` does."""

from __future__ import annotations

import asyncio
import mimetypes
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import runtime
from bot.console.view import View
from bot.convo.recorder import Recorder
from bot.fake.models import FakeButton, FakeMessage
from bot.simulator import Actor, Simulator

OPERATOR_ID = 9001
"""An operator out of the box: `:as 9001`."""

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")

HELP = f"""\
Every line is one action of the current user:
  any text             send it as a message (/start and other commands too); ::TEXT sends :TEXT
  :tap N | :tap LABEL  press button N (row by row, left to right) or the button labelled LABEL
                       on the newest message with buttons
  :photo PATH          send a photo from disk (also :video PATH and :document PATH)
  :forward NAME: TEXT  forward a message written by NAME
  :as USER_ID          continue as another user ({OPERATOR_ID} is an operator)
  :block / :unblock    the current user blocks / unblocks the bot
  :advance 1h30m       move the clock (d, h, m, s) and run what becomes due
  :time                show the clock
  :restart             restart the bot on the same database
  :record FILE         write what follows as a conversation script (*.convo.yaml) to FILE
  :stop                stop recording
  :help                this list
  :quit                leave (so does the end of the input)"""
"""The console's commands, written once: `:help` prints it, a test checks the README against
it and that every command the console knows is in it."""

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


def iso(moment: datetime) -> str:
    return moment.astimezone(LOCAL_ZONE).isoformat()


class Console:
    """One console session: a running simulator, the current user, and the view."""

    def __init__(self, sim: Simulator, view: View, *, user_id: int, language: str) -> None:
        self.sim = sim
        self.view = view
        self.language = language
        self._actors: dict[int, Actor] = {}
        self.recorder: Recorder | None = None
        self.user_id = user_id
        _ = self.actor

    @property
    def user_id(self) -> int:
        return self.view.user_id

    @user_id.setter
    def user_id(self, user_id: int) -> None:
        self.view.user_id = user_id

    @property
    def actor(self) -> Actor:
        """The current user (created on first use, speaking the console's language)."""
        actor = self._actors.get(self.user_id)
        if actor is None:
            actor = self._actors[self.user_id] = self.sim.user(
                self.user_id, language_code=self.language
            )
        return actor

    async def handle(self, line: str) -> bool:
        """Carry out one input line; False when the console should stop."""
        text = line.rstrip("\r\n")
        if not text.strip():
            return True
        if text.startswith(":") and not text.startswith("::"):
            command, _, arg = text[1:].partition(" ")
            if command == "quit":
                return False
            action = COMMANDS.get(command)
            if action is None:
                raise ConsoleError(f"unknown command :{command} (see :help)")
            await action(self, arg.strip())
        else:
            said = text[1:] if text.startswith("::") else text
            self.view.said(said)
            await self.actor.send(said)
        if self.recorder is not None:
            self.recorder.after(self.user_id, text)
        return True

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
        self.view.did_tap(button.label)
        actor = self.actor
        await actor.tap(label=button.label, data=button.data, message_id=msg.message_id)
        answer = actor.last_callback_answer
        if answer is not None and answer.text:
            self.view.popup(answer.text)

    async def _send_file(self, kind: str, arg: str) -> None:
        if not arg:
            raise ConsoleError(f"usage: :{kind} PATH")
        try:
            path, data = await asyncio.to_thread(_read_file, arg)
        except OSError as exc:
            raise ConsoleError(f"cannot read {arg}: {exc.strerror or exc}") from None
        self.view.did(f"[{kind} {path.name}, {len(data)} bytes]")
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
        self.view.did(f"(forwarded from {name.strip()}) {text.strip()}")
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
        self.view.note(f"(you are now user {user_id}{operator})")

    async def _block(self, arg: str) -> None:
        self.sim.world.block(self.user_id, True)
        self.view.note(f"(user {self.user_id} blocked the bot)")

    async def _unblock(self, arg: str) -> None:
        self.sim.world.block(self.user_id, False)
        self.view.note(f"(user {self.user_id} unblocked the bot)")

    async def _advance(self, arg: str) -> None:
        delta = parse_duration(arg)
        await self.sim.advance(seconds=delta.total_seconds())
        self.view.note(f"(the clock is now {iso(self.sim.clock.now())})")

    async def _time(self, arg: str) -> None:
        self.view.time(iso(self.sim.clock.now()))

    async def _restart(self, arg: str) -> None:
        await self.sim.restart()
        self.view.note("(the bot restarted on the same database)")

    async def _help(self, arg: str) -> None:
        self.view.note(HELP)

    async def _record(self, arg: str) -> None:
        self.recorder = self._recorder(arg)
        self.view.note(f"(recording to {arg}; it replays from an empty desk at this time)")

    def _recorder(self, arg: str) -> Recorder:
        if not arg:
            raise ConsoleError("usage: :record FILE (e.g. my_convos/filing.convo.yaml)")
        path = Path(arg).expanduser()
        if not path.parent.is_dir():
            raise ConsoleError(f"cannot record to {arg}: no folder {path.parent}")
        rt = runtime(self.sim.app)
        return Recorder(path, self.sim, rt.renderer.tr, rt.settings.operator_ids)

    async def _stop(self, arg: str) -> None:
        if self.recorder is None:
            raise ConsoleError("not recording (:record FILE starts)")
        path, self.recorder = self.recorder.path, None
        self.view.note(f"(recorded to {path}: run it with `pytest {path}`)")


COMMANDS: dict[str, Callable[[Console, str], Awaitable[None]]] = {
    "tap": Console._tap,
    "photo": Console._photo,
    "video": Console._video,
    "document": Console._document,
    "forward": Console._forward,
    "as": Console._as,
    "block": Console._block,
    "unblock": Console._unblock,
    "advance": Console._advance,
    "time": Console._time,
    "restart": Console._restart,
    "help": Console._help,
    "record": Console._record,
    "stop": Console._stop,
}
"""Every `:command` but `:quit` (on which `Console.handle` ends the session)."""


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


def _read_file(name: str) -> tuple[Path, bytes]:
    path = Path(name).expanduser()
    return path, path.read_bytes()
