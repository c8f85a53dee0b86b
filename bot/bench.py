"""`complaint-desk bench`: updates per second of the real bot against reference arms, one run.

Absolute numbers depend on the machine; the ratios, measured side by side in one process, are
what to hold goals against (research: perf-reliability-anchors.md, section 6):

- A   a no-op PTB handler: the floor (parsing and dispatch only);
- D   a 3-state ConversationHandler with PicklePersistence (commits nothing for up to 60 s);
- desk  whole filing conversations through the real Application, fake Telegram and SQLite,
        every update committed before its reply (10 updates per complaint).

Every arm runs its updates through the same fake Telegram, one at a time, no network. Most of
the desk's cost is the Bot API calls it makes per update (a reply and the next question, the
answer to every tap, the tapped keyboard removed), each parsed by PTB: the table shows them, so
the ratio against D (one message per update, nothing committed) can be read for what it is.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    TypeHandler,
    filters,
)

from bot.app import AnyApp, build_application, runtime
from bot.clock import FakeClock
from bot.config import Settings
from bot.fake.request import FakeRequest
from bot.fake.world import FakeTelegram
from bot.i18n import Translator, plain

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@dataclass
class Result:
    arm: str
    updates: int
    seconds: float
    round_trips: int | None = None
    api_calls: int = 0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


async def _feed(app: AnyApp, update: dict[str, Any]) -> None:
    parsed = Update.de_json(update, app.bot)
    await app.update_processor.process_update(parsed, app.process_update(parsed))


def _builder(world: FakeTelegram) -> Any:
    request = FakeRequest(world)
    return ApplicationBuilder().token("1:BENCH").request(request).get_updates_request(request)


async def _timed(app: AnyApp, users: int, script: Callable[[int], Awaitable[int]]) -> float:
    async with app:
        began = time.perf_counter()
        for uid in range(1, users + 1):
            await script(uid)
        return time.perf_counter() - began


async def arm_noop(users: int, per_user: int) -> Result:
    world = FakeTelegram(FakeClock(START))
    app = _builder(world).updater(None).build()

    async def noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        return None

    app.add_handler(TypeHandler(Update, noop))

    async def script(uid: int) -> int:
        world.add_user(uid)
        for i in range(per_user):
            await _feed(app, world.user_text(uid, f"message {i}"))
        return per_user

    seconds = await _timed(app, users, script)
    return Result("A  no-op PTB handler", users * per_user, seconds, None, _sends(world))


async def arm_conversation(users: int, folder: Path) -> Result:
    world = FakeTelegram(FakeClock(START))
    persistence = PicklePersistence(folder / "conversations.pickle")
    app = _builder(world).updater(None).persistence(persistence).build()

    async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "What happened?")
        return 1

    async def describe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Submit? yes/no")
        return 2

    async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Submitted.")
        return ConversationHandler.END

    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", begin)],
            states={
                1: [MessageHandler(filters.TEXT & ~filters.COMMAND, describe)],
                2: [MessageHandler(filters.TEXT & ~filters.COMMAND, confirm)],
            },
            fallbacks=[],
            name="bench",
            persistent=True,
        )
    )

    async def script(uid: int) -> int:
        world.add_user(uid)
        for text in ("/start", "they took my money", "yes"):
            await _feed(app, world.user_text(uid, text))
        return 3

    seconds = await _timed(app, users, script)
    return Result(
        "D  ConversationHandler + PicklePersistence", users * 3, seconds, None, _sends(world)
    )


async def arm_desk(users: int, folder: Path, translator: Translator) -> Result:
    world = FakeTelegram(FakeClock(START))
    settings = Settings(database=folder / "bench.sqlite3")
    request = FakeRequest(world)
    app = build_application(
        settings, clock=FakeClock(START), request=request, translator=translator
    )

    def label(key: str, **params: Any) -> str:
        return plain(translator.text("en", key, **params))

    title = label("filing.button.type", title={"en": "Report a friend (porn/fraud)"})
    updates = 0

    async def script(uid: int) -> int:
        nonlocal updates
        world.add_user(uid, language_code="en")
        steps: list[Callable[[], dict[str, Any]]] = [
            lambda: world.user_text(uid, "/start"),
            lambda: world.user_tap(uid, label=label("menu.button.file")),
            lambda: world.user_tap(uid, label=title),
            lambda: world.user_tap(uid, label=label("filing.button.proceed")),
            lambda: world.user_text(uid, f"wxid_bench{uid:06d}"),
            lambda: world.user_photo(uid, data=f"evidence {uid}".encode()),
            lambda: world.user_tap(uid, label=label("filing.button.done")),
            lambda: world.user_text(uid, "They asked me to transfer money, then blocked me."),
            lambda: world.user_tap(uid, label=label("filing.button.submit")),
            lambda: world.user_tap(uid, label=label("filing.button.confirm")),
        ]
        for make in steps:
            await _feed(app, make())
        updates += len(steps)
        return len(steps)

    async with app:
        assert app.post_init is not None  # opens the store (PTB runs it only in run_polling)
        await app.post_init(app)
        store = runtime(app).store
        await _settle(lambda: store.round_trips)  # background loops' start-up sweeps
        before = store.round_trips
        began = time.perf_counter()
        for uid in range(1, users + 1):
            await script(uid)
        seconds = time.perf_counter() - began
        round_trips = store.round_trips - before
        for hook in (app.post_stop, app.post_shutdown):
            if hook is not None:
                await hook(app)
    return Result("desk  whole filing conversations", updates, seconds, round_trips, _sends(world))


async def _settle(counter: Callable[[], int]) -> None:
    """Wait until `counter` stops moving (background start-up work is done)."""
    last = -1
    while counter() != last:
        last = counter()
        await asyncio.sleep(0.01)


def _sends(world: FakeTelegram) -> int:
    """Bot API calls made while handling updates (start-up calls such as getMe left out)."""
    setup = {"getMe", "setMyCommands", "deleteWebhook", "getWebhookInfo"}
    return sum(1 for call in world.calls() if call.method not in setup)


async def run(users: int = 200) -> list[Result]:
    translator = Translator.load()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        return [
            await arm_noop(users, 10),
            await arm_conversation(users, folder),
            await arm_desk(users, folder, translator),
        ]


def report(results: list[Result]) -> str:
    floor = results[0].rate
    row = "{:44} {:>8} {:>8} {:>6} {:>12} {:>14}"
    lines = [row.format("arm", "updates", "upd/s", "x A", "DB hops/upd", "API calls/upd")]
    for r in results:
        hops = f"{r.round_trips / r.updates:.2f}" if r.round_trips is not None else "-"
        calls = f"{r.api_calls / r.updates:.2f}"
        rate, ratio = f"{r.rate:.0f}", f"{floor / r.rate:.2f}"
        lines.append(row.format(r.arm, r.updates, rate, ratio, hops, calls))
    return "\n".join(lines)


def main(users: int) -> int:
    print(report(asyncio.run(run(users))))
    return 0
