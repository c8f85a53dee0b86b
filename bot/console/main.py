"""Starting and running a console session: the database, the clock, the bot, the input loop."""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import traceback
from datetime import datetime
from pathlib import Path
from typing import TextIO

from telegram.request import BaseRequest

from bot.app import AnyApp, build_application, runtime
from bot.clock import FakeClock, SystemClock
from bot.config import Settings
from bot.console.chat import LOCAL_ZONE, OPERATOR_ID, Console, ConsoleError
from bot.console.lines import LineReader, interrupts
from bot.console.view import JsonView, View
from bot.fake.world import FakeTelegram
from bot.i18n import Translator
from bot.simulator import BotCrashed, DrainTimeout, Simulator
from flows.catalog import load_catalog


def _start_time(start: datetime | None) -> datetime:
    if start is None:
        return SystemClock().now()
    return start if start.tzinfo is not None else start.replace(tzinfo=LOCAL_ZONE)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def _database(settings: Settings, db: Path | str | None) -> tuple[Path | str, Path | None]:
    """The database to use and, if it is a temporary one, the directory to remove at exit."""
    if db is not None:
        return db, None
    if "database" in settings.model_fields_set:  # COMPLAINT_DESK_DB, or set by the caller
        return settings.database, None
    folder = Path(tempfile.mkdtemp(prefix="complaint-desk-console-"))
    return folder / "console.sqlite3", folder


async def start_bot(settings: Settings, start: datetime, view: View, language: str) -> Simulator:
    """The production Application on a fake Telegram whose messages and events go to `view`."""
    translator = Translator.load(settings.locales)

    async def factory(request: BaseRequest, clock: FakeClock) -> AnyApp:
        return build_application(
            settings, clock=clock, request=request, translator=translator, sinks=[view.event]
        )

    clock = FakeClock(start)
    world = FakeTelegram(clock)
    world.enforce_limits()  # Telegram's flood limits (bot/fake/limits.py), as in production
    world.subscribe(view.message)
    sim = await Simulator.start(
        factory,
        clock=clock,
        world=world,
        translator=translator,
        default_language=language,
        raise_errors=False,
    )
    # Update ids grow across sessions, as Telegram's do: the database remembers the ids it
    # handled (a redelivery changes nothing), so a new session continues past them. Never from
    # the clock: two sessions started in the same millisecond would reuse each other's ids.
    try:
        last = await runtime(sim.app).store.read(lambda tx: tx.last_update_id())
    except BaseException:
        await sim.stop()
        raise
    world.continue_update_ids(last)
    return sim


class _Session:
    """The input loop: one line, one action, errors reported and the session carried on."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.view = console.view
        self.failed = False
        self._errors_seen = 0

    def report_bot_errors(self) -> None:
        errors = self.console.sim.errors
        fresh, self._errors_seen = errors[self._errors_seen :], len(errors)
        for exc in fresh:
            print(
                f"console: the bot raised {type(exc).__name__}: {exc}", file=sys.stderr, flush=True
            )

    async def run(self, stdin: TextIO) -> None:
        reader = LineReader(stdin)
        with interrupts(reader.interrupt, enabled=self.view.interactive):
            while True:
                self.view.prompt()
                line = await reader.readline()
                if not line:
                    self.view.end()
                    return
                try:
                    go_on = await self.console.handle(line)
                except ConsoleError as exc:
                    self.view.error(str(exc))
                    go_on = True
                except (BotCrashed, DrainTimeout) as exc:
                    self.view.error(f"the bot failed: {_first_line(exc)}")
                    print(f"console: {exc}", file=sys.stderr, flush=True)
                    go_on = True
                except Exception as exc:  # e.g. a restart that could not reopen the database
                    self.view.error(f"the bot failed: {_first_line(exc)}")
                    traceback.print_exc(file=sys.stderr)
                    go_on = True
                self.report_bot_errors()
                self.view.idle()
                if not go_on:
                    return

    async def stop(self) -> None:
        try:
            await self.console.sim.stop()
        except Exception as exc:
            self.view.error(f"stopping the bot: {_first_line(exc)}")
            self.failed = True
        self.report_bot_errors()


async def run_console(
    settings: Settings,
    stdin: TextIO,
    stdout: TextIO,
    *,
    db: Path | str | None = None,
    user_id: int = 1001,
    language: str | None = None,
    start: datetime | None = None,
    as_json: bool = False,
) -> int:
    """Chat with the bot over `stdin`/`stdout` until the input ends or `:quit`; the exit code.

    New users speak `language` (default: the desk's default language)."""
    root = logging.getLogger()
    catalog = load_catalog(settings.catalog)  # an invalid one raises before anything changed
    default = catalog.default_language(settings.default_language)
    language = language or default
    level = root.level
    root.setLevel(logging.WARNING)
    path, temporary = _database(settings, db)
    interactive = stdin.isatty()
    view = (JsonView if as_json else View)(stdout, user_id=user_id, interactive=interactive)
    session: _Session | None = None
    try:
        console_settings = settings.model_copy(
            update={
                "database": path,
                "operator_ids": settings.operator_ids | {OPERATOR_ID},
                # a fresh temporary database is always migrated
                "migrate_on_start": settings.migrate_on_start or temporary is not None,
            }
        )
        try:
            sim = await start_bot(
                console_settings,
                _start_time(start),
                view,
                default,
            )
        except Exception as exc:
            view.error(f"the bot could not start: {_first_line(exc)}")
            return 1
        session = _Session(Console(sim, view, user_id=user_id, language=language))
        session.report_bot_errors()
        if interactive and not as_json:
            view.note(
                f"Complaint desk console: you are user {user_id} ({language}); "
                f"operator {OPERATOR_ID}; :help lists the commands."
            )
        await session.run(stdin)
        await session.stop()
        stopped, session = session, None
        return 1 if stopped.failed else 0
    finally:
        if session is not None:  # after an exception
            await session.stop()
        root.setLevel(level)
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
