"""The bench's arms: each runs whole conversations of one user through a real PTB Application
on the fake Telegram, with the clock moving.

Every arm is built the same way (fake transport, the desk's per-user update processor, a
fake clock advanced by `TICK` per update), so what differs between arms is only what their
handlers do. `Arm.conversation(uid)` plays one user's conversation, waiting for each update
to be handled before the next (a person reads the reply before tapping).
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.app import AnyApp, build_application, runtime
from bot.clock import FakeClock
from bot.config import Settings
from bot.fake.request import FakeRequest
from bot.fake.world import FakeTelegram
from bot.i18n import Translator, plain
from bot.processor import PerUserProcessor

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
TICK = timedelta(milliseconds=20)  # virtual time per update: the clock always moves
SETUP_CALLS = frozenset(
    {"getMe", "setMyCommands", "setMyDescription", "setMyShortDescription", "deleteWebhook"}
)
Step = Callable[[FakeTelegram, int], dict[str, Any]]
Recorded = list[list[tuple[str, dict[str, Any]]]]  # per step: the Bot API calls made


@dataclass
class Counters:
    updates: int = 0
    api_calls: int = 0
    round_trips: int | None = None
    statements: int | None = None


def desk_steps(translator: Translator) -> list[Step]:
    """The desk's filing conversation: 10 updates (6 taps, a photo, texts)."""

    def label(key: str, **params: Any) -> str:
        return plain(translator.text("en", key, **params))

    title = label("filing.button.type", title={"en": "Report a friend (porn/fraud)"})

    def tap(text: str) -> Step:
        return lambda world, uid: world.user_tap(uid, label=text)

    return [
        lambda world, uid: world.user_text(uid, "/start"),
        tap(label("menu.button.file")),
        tap(title),
        tap(label("filing.button.proceed")),
        lambda world, uid: world.user_text(uid, f"wxid_bench{uid:07d}"),
        lambda world, uid: world.user_photo(uid, data=f"evidence {uid}".encode()),
        tap(label("filing.button.done")),
        lambda world, uid: world.user_text(uid, "They asked me to transfer money, then left."),
        tap(label("filing.button.submit")),
        tap(label("filing.button.confirm")),
    ]


class Arm:
    """One PTB Application on its own fake Telegram and clock."""

    name = ""
    note = ""

    def __init__(self) -> None:
        self.clock = FakeClock(START)
        self.world = FakeTelegram(self.clock)
        self.app: AnyApp | None = None
        self.updates = 0

    def build(self) -> AnyApp:
        request = FakeRequest(self.world)
        builder = ApplicationBuilder().token("1:BENCH").request(request)
        builder = builder.get_updates_request(request).updater(None)
        return builder.concurrent_updates(PerUserProcessor()).build()

    def steps(self, uid: int) -> list[Step]:
        raise NotImplementedError

    async def start(self) -> None:
        self.app = self.build()
        await self.app.initialize()

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.shutdown()

    async def feed(self, update: dict[str, Any]) -> None:
        app = self.app
        assert app is not None
        parsed = Update.de_json(update, app.bot)
        await app.update_processor.process_update(parsed, app.process_update(parsed))
        self.updates += 1
        self.clock.advance(TICK)

    async def conversation(self, uid: int) -> None:
        self.world.add_user(uid, language_code="en")
        for step in self.steps(uid):
            await self.feed(step(self.world, uid))

    def counters(self) -> Counters:
        calls = sum(1 for call in self.world.calls() if call.method not in SETUP_CALLS)
        return Counters(self.updates, calls)


def generic_steps(desk: list[Step]) -> list[Step]:
    """Updates of the same kinds, in the same order, as the desk's conversation, for arms
    that send no buttons: taps land on a message the fake holds for the user."""
    kinds = ["text", "tap", "tap", "tap", "text", "photo", "tap", "text", "tap", "tap"]
    assert len(kinds) == len(desk)

    def make(kind: str, n: int) -> Step:
        if kind == "tap":
            return lambda world, uid: world.user_tap_raw(uid, 1, f"step:{n}")
        if kind == "photo":
            return lambda world, uid: world.user_photo(uid, data=f"evidence {uid}".encode())
        text = "/start" if n == 0 else f"text {n}"
        return lambda world, uid: world.user_text(uid, text)

    return [make(kind, n) for n, kind in enumerate(kinds)]


class Plain(Arm):
    """A (`reply=False`): a no-op handler; B (`reply=True`): one plain reply per update."""

    def __init__(self, steps: list[Step], *, reply: bool) -> None:
        super().__init__()
        self._steps = steps
        self.reply = reply
        self.name = "B" if reply else "A"
        self.note = "reply once (plain text)" if reply else "no-op handler"

    def steps(self, uid: int) -> list[Step]:
        return self._steps

    async def conversation(self, uid: int) -> None:
        self.world.add_user(uid, language_code="en")
        self.world.new_message(uid, from_bot=True, kind="text", text="menu")  # taps land here
        await super().conversation(uid)

    def build(self) -> AnyApp:
        app = super().build()

        async def noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            return None

        async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.effective_chat is not None
            await context.bot.send_message(update.effective_chat.id, "Noted.")

        app.add_handler(TypeHandler(Update, reply if self.reply else noop))
        return app


class Conversation3(Arm):
    """D: the usual PTB bot, 3 text updates with a plain send each, nothing durable."""

    name, note = "D", "ConversationHandler+Pickle, 3 texts"

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def steps(self, uid: int) -> list[Step]:
        def text(words: str) -> Step:
            return lambda world, uid: world.user_text(uid, words)

        return [text(words) for words in ("/start", "they took my money", "yes")]

    def build(self) -> AnyApp:
        app = _persistent(self.world, self.folder / "d3.pickle")

        def answer(text: str, following: int) -> Any:
            async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
                assert update.effective_chat is not None
                await context.bot.send_message(update.effective_chat.id, text)
                return following

            return handler

        text = filters.TEXT & ~filters.COMMAND
        app.add_handler(
            ConversationHandler(
                entry_points=[CommandHandler("start", answer("What happened?", 1))],
                states={
                    1: [MessageHandler(text, answer("Submit? yes/no", 2))],
                    2: [MessageHandler(text, answer("Submitted.", ConversationHandler.END))],
                },
                fallbacks=[],
                name="d3",
                persistent=True,
            )
        )
        return app


def _persistent(world: FakeTelegram, path: Path) -> AnyApp:
    request = FakeRequest(world)
    builder = ApplicationBuilder().token("1:BENCH").request(request)
    builder = builder.get_updates_request(request).updater(None)
    builder = builder.persistence(PicklePersistence(path))
    return builder.concurrent_updates(PerUserProcessor()).build()


def _markup(raw: Any) -> InlineKeyboardMarkup | None:
    """An inline keyboard built as a PTB bot builds it (button objects), from a recorded call."""
    if raw is None:
        return None
    data = json.loads(raw) if isinstance(raw, str) else raw
    rows = data.get("inline_keyboard", [])
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
         for row in rows]
    )  # fmt: skip


async def replay(update: Update, context: ContextTypes.DEFAULT_TYPE, calls: Any) -> None:
    """Make `calls` (recorded from the desk for this step) through PTB's typed methods."""
    bot, query, chat = context.bot, update.callback_query, update.effective_chat
    assert chat is not None
    for method, p in calls:
        markup = _markup(p.get("reply_markup"))
        if method == "answerCallbackQuery":
            assert query is not None
            await query.answer(text=p.get("text"), show_alert=p.get("show_alert"))
        elif method == "sendMessage":
            await bot.send_message(
                chat.id, p["text"], parse_mode=p.get("parse_mode"), reply_markup=markup
            )
        elif method == "sendPhoto":
            photo = p["photo"]
            await bot.send_photo(
                chat.id, photo, caption=p.get("caption"), parse_mode=p.get("parse_mode"),
                reply_markup=markup,
            )  # fmt: skip
        elif method == "editMessageReplyMarkup":
            assert query is not None
            await query.edit_message_reply_markup(reply_markup=markup)
        elif method == "editMessageText":
            assert query is not None
            await query.edit_message_text(
                p["text"], parse_mode=p.get("parse_mode"), reply_markup=markup
            )
        else:
            raise ValueError(f"D10 cannot replay {method}")


class Conversation10(Arm):
    """D10 (D10s with `commit=True`): the desk's conversation and calls, in the usual PTB bot."""

    def __init__(self, folder: Path, steps: list[Step], recorded: Recorded, *, commit: bool):
        super().__init__()
        self.folder = folder
        self._steps = steps
        self.recorded = recorded
        self.commit = commit
        self.db: sqlite3.Connection | None = None
        self.name = "D10s" if commit else "D10"
        self.note = (
            "D10 + a SQLite commit per update" if commit else "ConvHandler+Pickle, desk calls"
        )

    def steps(self, uid: int) -> list[Step]:
        return self._steps

    async def start(self) -> None:
        if self.commit:
            self.db = sqlite3.connect(self.folder / "d10s.sqlite3", isolation_level=None)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS state (user_id INTEGER PRIMARY KEY, step INTEGER)"
            )
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        if self.db is not None:
            self.db.close()

    def build(self) -> AnyApp:
        app = _persistent(self.world, self.folder / f"{self.name}.pickle")
        last = len(self.recorded) - 1

        def handler(n: int) -> Any:
            async def step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
                if self.db is not None:  # the cheapest commit there is: no thread hop
                    assert update.effective_user is not None
                    self.db.execute(
                        "INSERT OR REPLACE INTO state (user_id, step) VALUES (?, ?)",
                        (update.effective_user.id, n),
                    )
                await replay(update, context, self.recorded[n])
                return ConversationHandler.END if n == last else n + 1

            return step

        def state(n: int) -> list[BaseHandler[Any, Any, Any]]:
            return [
                CallbackQueryHandler(handler(n)),
                MessageHandler((filters.TEXT | filters.PHOTO) & ~filters.COMMAND, handler(n)),
            ]

        with warnings.catch_warnings():  # per_message=False is what we mean: one state per user
            warnings.simplefilter("ignore", PTBUserWarning)
            conversation = ConversationHandler(
                entry_points=[CommandHandler("start", handler(0))],
                states={n: state(n) for n in range(1, last + 1)},
                fallbacks=[],
                name=self.name,
                persistent=True,
            )
        app.add_handler(conversation)
        return app


class DeskArm(Arm):
    """The desk itself: the real Application, SQLite, every update committed before replying."""

    name, note = "desk", "the desk, durable (SQLite)"

    def __init__(self, folder: Path, steps: list[Step], translator: Translator) -> None:
        super().__init__()
        self.folder = folder
        self._steps = steps
        self.translator = translator
        self._base = (0, 0)

    def steps(self, uid: int) -> list[Step]:
        return self._steps

    def build(self) -> AnyApp:
        settings = Settings(database=self.folder / "desk.sqlite3")
        return build_application(
            settings, clock=self.clock, request=FakeRequest(self.world), translator=self.translator
        )

    async def start(self) -> None:
        await super().start()
        app = self.app
        assert app is not None
        assert app.post_init is not None
        await app.post_init(app)  # opens the store (PTB runs it only in run_polling)

    async def stop(self) -> None:
        app = self.app
        if app is not None:
            for hook in (app.post_stop, app.post_shutdown):
                if hook is not None:
                    await hook(app)
        await super().stop()

    async def record(self, uid: int) -> Recorded:
        """Play one conversation for `uid`; the Bot API calls each of its updates made."""
        self.world.add_user(uid, language_code="en")
        recorded: Recorded = []
        for step in self._steps:
            mark = len(self.world.calls())
            await self.feed(step(self.world, uid))
            calls = self.world.calls()[mark:]
            recorded.append([(c.method, dict(c.params)) for c in calls if c.ok])
        return recorded

    def counters(self) -> Counters:
        counters = super().counters()
        store = runtime(self.app).store if self.app is not None else None
        if store is not None:
            counters.round_trips = store.round_trips
            counters.statements = getattr(store, "statements", None)
        return counters


def temporary_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="desk-bench-")
