"""bot/transport.py: PTB's transport without PTB objects, through its pinned private seam.

`Bot._post` and `ExtBot._merge_api_rl_kwargs` are private to python-telegram-bot 22.8; if an
upgrade changes them, these tests fail (the calls, the pacer's part and PTB's errors).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import telegram
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import ApplicationBuilder, ExtBot

from bot.clock import FakeClock
from bot.fake.request import FakeRequest
from bot.fake.world import FakeTelegram
from bot.pacer import Bulk, Pacer, Withdrawn
from bot.transport import call, inline_keyboard

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture
def world() -> FakeTelegram:
    world = FakeTelegram(FakeClock(START))
    world.add_user(7)
    return world


@pytest.fixture
def pacer(world: FakeTelegram) -> Pacer:
    return Pacer(world.clock, rate=25)


@pytest.fixture
async def bot(world: FakeTelegram, pacer: Pacer) -> AsyncIterator[ExtBot[Bulk]]:
    request = FakeRequest(world)
    builder = ApplicationBuilder().token("123:TEST").request(request).rate_limiter(pacer)
    app = builder.get_updates_request(request).updater(None).build()
    async with app:
        yield app.bot


def test_the_seam_is_the_pinned_ptb() -> None:
    assert telegram.__version__ == "22.8"


async def test_the_answer_is_telegrams_json_and_the_call_went_through_the_pacer(
    bot: ExtBot[Bulk], world: FakeTelegram, pacer: Pacer
) -> None:
    markup = inline_keyboard([[("Yes", "y:1"), ("No", "n:1")], [("Back", "b:1")]])
    params = {"chat_id": 7, "text": "<b>Sure?</b>", "parse_mode": "HTML", "reply_markup": markup}
    sent = await call(bot, "sendMessage", {**params, "reply_to_message_id": None})
    assert type(sent) is dict
    assert sent["message_id"] == world.bot_messages(7)[-1].message_id
    message = world.bot_messages(7)[-1]
    assert message.text == "Sure?"
    assert message.labels == ["Yes", "No", "Back"]
    assert "reply_to_message_id" not in world.calls("sendMessage")[-1].params  # None dropped
    assert pacer.footprint == (1, 1)  # counted, and recorded as a send to chat 7
    await call(bot, "editMessageReplyMarkup", {"chat_id": 7, "message_id": sent["message_id"]})
    assert world.bot_messages(7)[-1].buttons == []  # no reply_markup: the keyboard is removed


async def test_ptb_raises_its_own_errors(bot: ExtBot[Bulk], world: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match="not found"):
        await call(bot, "sendMessage", {"chat_id": 404, "text": "hi"})
    world.block(7)
    with pytest.raises(Forbidden):
        await call(bot, "sendMessage", {"chat_id": 7, "text": "hi"})
    world.add_user(8)  # a chat not written to yet: the bulk call need not wait for the clock
    world.fault("sendMessage", code=429, retry_after=3)
    with pytest.raises(RetryAfter):  # a bulk call re-raises the 429 (the pacer's rule)
        await call(bot, "sendMessage", {"chat_id": 8, "text": "hi"}, Bulk())


async def test_rate_limit_args_reach_the_pacer(bot: ExtBot[Bulk], world: FakeTelegram) -> None:
    with pytest.raises(Withdrawn):
        await call(bot, "sendMessage", {"chat_id": 7, "text": "hi"}, Bulk(lambda: False))
    assert world.calls("sendMessage") == []


def test_an_empty_keyboard_is_none() -> None:
    assert inline_keyboard([]) is None
