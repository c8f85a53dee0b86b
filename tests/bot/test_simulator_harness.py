"""The simulator drives a real PTB Application against the fake world on a FakeClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.clock import FakeClock
from bot.fake import FakeTelegram
from bot.simulator import BotCrashed, DrainTimeout, Simulator

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
App = Application[Any, Any, Any, Any, Any, Any]
Ctx = ContextTypes.DEFAULT_TYPE


async def echo_app(request: BaseRequest, clock: FakeClock) -> App:
    """A tiny bot: echoes text, offers a keyboard on /menu, reminds after /remind, can crash."""

    async def start(update: Update, context: Ctx) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Welcome")

    async def menu(update: Update, context: Ctx) -> None:
        assert update.effective_chat is not None
        buttons = [[InlineKeyboardButton("Yes", callback_data="m:yes")]]
        buttons.append([InlineKeyboardButton("No", callback_data="m:no")])
        await context.bot.send_message(
            update.effective_chat.id, "Sure?", reply_markup=InlineKeyboardMarkup(buttons)
        )

    async def tapped(update: Update, context: Ctx) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        await query.answer("noted")
        await query.edit_message_text(f"You chose {query.data.split(':')[1]}")

    async def remind(update: Update, context: Ctx) -> None:
        assert update.effective_chat is not None
        chat_id = update.effective_chat.id

        async def later() -> None:
            await clock.sleep(3600)
            await context.bot.send_message(chat_id, f"Reminder at {clock.now():%H:%M}")

        context.application.create_task(later())

    async def background(update: Update, context: Ctx) -> None:
        assert update.effective_chat is not None
        chat_id = update.effective_chat.id

        async def work() -> None:
            for i in range(3):
                await asyncio.sleep(0)
                await context.bot.send_message(chat_id, f"step {i}")

        context.application.create_task(work())

    async def crash(update: Update, context: Ctx) -> None:
        raise RuntimeError("handler exploded")

    async def echo(update: Update, context: Ctx) -> None:
        assert update.message is not None
        assert update.message.text is not None
        await update.message.reply_text(update.message.text)

    app: App = (
        ApplicationBuilder()
        .token("123:TEST")
        .request(request)
        .get_updates_request(request)
        .updater(None)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CommandHandler("remind", remind))
    app.add_handler(CommandHandler("background", background))
    app.add_handler(CommandHandler("crash", crash))
    app.add_handler(CallbackQueryHandler(tapped, pattern=r"^m:"))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with await Simulator.start(echo_app, clock=FakeClock(START)) as running:
        yield running


async def test_user_sends_text_and_gets_an_echo(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")
    await alice.send("/start")
    await alice.send("hello")
    assert alice.texts() == ["Welcome", "hello"]
    alice.assert_last_contains("hello")


async def test_tap_is_answered_and_edits_the_keyboard_message(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")
    await alice.send("/menu")
    menu = alice.last
    mark = alice.mark()
    await alice.tap(label="No")
    answer = alice.last_callback_answer
    assert answer is not None
    assert answer.text == "noted"
    assert alice.since(mark) == [menu]
    assert menu.text == "You chose no"
    assert menu.edited
    assert menu.buttons == []
    assert sim.world.unanswered_callbacks() == []


async def test_tapping_a_missing_button_fails_with_the_transcript(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")
    await alice.send("/menu")
    with pytest.raises(AssertionError, match=r"(?s)available: \[Yes\].*\[2\] bot: Sure\?"):
        await alice.tap(label="Maybe")


async def test_assert_last_contains_shows_the_transcript(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")
    await alice.send("/start")
    with pytest.raises(AssertionError, match=r"(?s)'Goodbye'.*\[1\] alice: /start.*\[2\] bot"):
        alice.assert_last_contains("Goodbye")


async def test_two_users_interleaved_each_get_their_own_replies_in_order(sim: Simulator) -> None:
    alice, bob = sim.user(1001, "alice"), sim.user(1002, "bob")

    async def talk(actor: Any, words: list[str]) -> None:
        for word in words:
            await actor.send(word)

    await asyncio.gather(talk(alice, ["a1", "a2", "a3"]), talk(bob, ["b1", "b2", "b3"]))
    assert alice.texts() == ["a1", "a2", "a3"]
    assert bob.texts() == ["b1", "b2", "b3"]


async def test_restart_keeps_the_world_and_chat_history(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")
    await alice.send("/start")
    old_app = sim.app
    await sim.restart()
    assert sim.app is not old_app
    assert sim.app.running
    assert not old_app.running
    await alice.send("again")
    assert alice.texts() == ["Welcome", "again"]
    assert [m.message_id for m in alice.messages] == [2, 4]


async def test_advance_wakes_a_task_sleeping_on_the_clock(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")
    await alice.send("/remind")
    alice.expect_no_more()
    await sim.advance(minutes=59)
    alice.expect_no_more()
    ticks: list[datetime] = []

    async def hook() -> None:
        ticks.append(sim.clock.now())

    sim.on_advance(hook)
    await sim.advance(hours=2)
    assert alice.texts() == ["Reminder at 10:00"]
    assert ticks == [START + timedelta(hours=1), START + timedelta(hours=2, minutes=59)]
    assert sim.clock.now() == START + timedelta(hours=2, minutes=59)


async def test_run_until_idle_follows_the_clock_when_asked(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")
    await alice.send("/remind")
    await sim.run_until_idle()
    assert alice.texts() == []
    await sim.run_until_idle(follow_clock=True)
    assert alice.texts() == ["Reminder at 10:00"]


async def test_steps_drain_tasks_created_with_create_task(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")
    await alice.send("/background")
    assert alice.texts() == ["step 0", "step 1", "step 2"]


async def test_run_until_idle_drains_tasks_the_test_created_on_the_app(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")

    async def work() -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        await sim.app.bot.send_message(alice.id, "done later")

    sim.app.create_task(work())
    await sim.run_until_idle()
    assert alice.texts() == ["done later"]


async def test_handler_errors_fail_the_step_with_the_transcript(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")
    with pytest.raises(BotCrashed, match=r"(?s)handler exploded.*\[1\] alice: /crash"):
        await alice.send("/crash")
    sim.raise_errors = False
    await alice.send("/crash")
    assert len(sim.errors) == 2


async def test_media_album_sticker_location_and_forward_reach_the_bot(sim: Simulator) -> None:
    alice = sim.user(1001, "alice")
    await alice.send_album(3)
    await alice.send_album([{"kind": "document", "data": b"pdf"}, {"kind": "video"}])
    await alice.send_photo(data=b"x", caption="c")
    await alice.send_document(data=b"d")
    await alice.send_video(size=10)
    await alice.send_sticker()
    await alice.send_location()
    await alice.forward("Bob", "pay me")  # the echo bot repeats forwarded text too
    kinds = [m.kind for m in sim.world.messages(alice.id) if not m.from_bot]
    assert kinds == ["photo"] * 3 + ["document", "video", "photo", "document", "video"] + [
        "sticker",
        "location",
        "text",
    ]
    groups = {m.media_group_id for m in sim.world.messages(alice.id)[:3]}
    assert len(groups) == 1
    assert None not in groups
    assert alice.texts() == ["pay me"]


async def test_a_busy_task_that_never_settles_raises_drain_timeout() -> None:
    async def spinning_app(request: BaseRequest, clock: FakeClock) -> App:
        app = await echo_app(request, clock)

        async def spin(update: Update, context: Ctx) -> None:
            async def forever() -> None:
                while True:  # noqa: ASYNC110 (a deliberately busy task)
                    await asyncio.sleep(0.001)

            context.application.create_task(forever())

        app.add_handler(CommandHandler("spin", spin), group=-1)
        return app

    sim = await Simulator.start(spinning_app, clock=FakeClock(START), drain_timeout=0.2)
    alice = sim.user(1001, "alice")
    with pytest.raises(DrainTimeout, match="still busy"):
        await alice.send("/spin")
    await sim.stop()


async def test_unknown_bot_api_methods_fail_the_simulation(sim: Simulator) -> None:
    sim.user(1001, "alice")
    await sim.app.bot.send_message(1001, "fine")
    with pytest.raises(Exception, match="sendPoll"):
        await sim.app.bot.send_poll(1001, "q?", ["a", "b"])
    with pytest.raises(AssertionError, match="lacks"):
        await sim.stop()


async def test_a_world_can_be_shared_and_given_to_the_simulator() -> None:
    clock = FakeClock(START)
    world = FakeTelegram(clock)
    world.add_user(1001, "alice")
    async with await Simulator.start(echo_app, clock=clock, world=world) as sim:
        assert sim.world is world
        await sim.user(1001).send("hi")
    assert [m.text for m in world.bot_messages(1001)] == ["hi"]
