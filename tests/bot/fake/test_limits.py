"""The fake's flood limits: 429 above 30 calls a second overall or 1 unsolicited message a
second per chat (after a burst of 3), never below; replies count but are not refused; off by
default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FakeClock
from bot.fake.world import FakeTelegram


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
def world(clock: FakeClock) -> FakeTelegram:
    w = FakeTelegram(clock)
    for uid in range(1, 101):
        w.add_user(uid, f"user{uid}", "en")
    w.enforce_limits()
    return w


def send(world: FakeTelegram, chat: int, method: str = "sendMessage") -> tuple[int, int | None]:
    """(HTTP status, retry_after) of one call."""
    params = {"chat_id": chat, "text": "hi"}
    if method == "editMessageText":
        params["message_id"] = 1
    status, body = world.handle(method, params)
    return status, body.get("parameters", {}).get("retry_after")


def test_limits_are_off_by_default(clock: FakeClock) -> None:
    w = FakeTelegram(clock)
    w.add_user(1, "a", "en")
    assert all(w.handle("sendMessage", {"chat_id": 1, "text": "x"})[0] == 200 for _ in range(50))


def test_thirty_a_second_overall_then_429(world: FakeTelegram, clock: FakeClock) -> None:
    for chat in range(1, 31):
        assert send(world, chat) == (200, None)
    assert send(world, 31) == (429, 1)
    assert [c.error_code for c in world.calls("sendMessage")][-1] == 429
    clock.advance(timedelta(seconds=1))  # the first 30 leave the window
    assert send(world, 31) == (200, None)


def test_a_steady_thirty_a_second_is_never_refused(world: FakeTelegram, clock: FakeClock) -> None:
    for n in range(300):
        assert send(world, 1 + n % 100)[0] == 200
        clock.advance(timedelta(microseconds=33_334))
    assert world.limits is not None
    assert world.limits.refused == 0


def test_edits_count_toward_the_overall_limit(world: FakeTelegram) -> None:
    send(world, 1)
    for _ in range(29):
        assert send(world, 1, "editMessageText")[0] in (200, 400)  # 400: not modified
    assert send(world, 2)[0] == 429


def test_calls_without_a_chat_are_free(world: FakeTelegram) -> None:
    for _ in range(100):
        assert world.handle("getMe", {})[0] == 200


def test_unsolicited_sends_to_a_chat_burst_of_three_then_one_a_second(
    world: FakeTelegram, clock: FakeClock
) -> None:
    assert [send(world, 7)[0] for _ in range(3)] == [200, 200, 200]
    assert send(world, 7) == (429, 1)
    clock.advance(timedelta(seconds=1))
    assert send(world, 7) == (200, None)
    assert send(world, 7) == (429, 1)
    assert send(world, 8) == (200, None)  # another chat is not affected


def test_one_a_second_per_chat_is_never_refused(world: FakeTelegram, clock: FakeClock) -> None:
    for _ in range(20):
        assert send(world, 7) == (200, None)
        clock.advance(timedelta(seconds=1))


def test_replies_are_not_limited_per_chat(world: FakeTelegram, clock: FakeClock) -> None:
    world.user_text(7, "hello")
    assert [send(world, 7)[0] for _ in range(8)] == [200] * 8
    clock.advance(timedelta(seconds=11))  # no longer an answer to what they said
    world.handle("sendMessage", {"chat_id": 8, "text": "x"})
    assert [send(world, 7)[0] for _ in range(4)] == [200, 200, 200, 429]


def test_taps_make_answers_replies_too(world: FakeTelegram) -> None:
    status, _body = world.handle(
        "sendMessage",
        {
            "chat_id": 9,
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"text": "ok", "callback_data": "b:x"}]]},
        },
    )
    assert status == 200
    world.user_tap(9, data="b:x")
    assert [send(world, 9)[0] for _ in range(6)] == [200] * 6


def test_replies_are_never_refused_but_use_up_the_overall_budget(world: FakeTelegram) -> None:
    for chat in range(1, 11):
        world.user_text(chat, "hello")
    assert [send(world, 1 + n % 10)[0] for n in range(40)] == [200] * 40
    assert send(world, 50) == (429, 1)  # a broadcast send now: the second is used up


def test_refused_calls_do_not_count(world: FakeTelegram, clock: FakeClock) -> None:
    for chat in range(1, 31):
        send(world, chat)
    for _ in range(10):
        assert send(world, 50)[0] == 429
    clock.advance(timedelta(seconds=1))
    assert [send(world, chat)[0] for chat in range(51, 81)] == [200] * 30
