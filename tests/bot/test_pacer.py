"""The pacer on virtual time: overall rate, per-chat spacing, interactive priority, 429."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from telegram.error import RetryAfter

from bot.clock import FakeClock
from bot.pacer import Bulk, Pacer, Withdrawn, is_message_send

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
T = TypeVar("T")


class Api:
    """A stand-in for the Bot API: records (virtual time, chat, lane) of every call made."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[float, Any, str]] = []
        self.fail_with: list[BaseException] = []

    def callback(self, chat: Any, lane: str) -> Any:
        async def call() -> dict[str, Any]:
            self.calls.append(((self.clock.now() - START).total_seconds(), chat, lane))
            if self.fail_with:
                raise self.fail_with.pop(0)
            return {"ok": True}

        return call


async def on_virtual_time(clock: FakeClock, work: Awaitable[T]) -> T:
    """Run `work`, jumping the clock to each wake-up while it sleeps on the clock."""
    task = asyncio.ensure_future(work)
    while True:
        for _ in range(5):
            await asyncio.sleep(0)
        if task.done():
            return task.result()
        due = clock.next_wakeup()
        assert due is not None, "stuck without sleeping on the clock"
        clock.set(due)


async def send(
    pacer: Pacer, api: Api, chat: Any, *, bulk: Bulk | None = None, endpoint: str = "sendMessage"
) -> Any:
    lane = "bulk" if bulk else "interactive"
    data = {} if chat is None else {"chat_id": chat}
    return await pacer.process_request(api.callback(chat, lane), (), {}, endpoint, data, bulk)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most calls in any closed window of `window` seconds."""
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        best = max(best, sum(1 for t in ordered[i:] if t <= start + window + 1e-9))
    return best


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def test_bulk_calls_go_out_at_the_configured_rate(clock: FakeClock) -> None:
    pacer, api = Pacer(clock, rate=25), Api(clock)

    async def burst() -> None:
        await asyncio.gather(*(send(pacer, api, chat, bulk=Bulk()) for chat in range(200)))

    await on_virtual_time(clock, burst())
    times = [t for t, _, _ in api.calls]
    assert len(times) == 200
    assert max_in_window(times) <= 25
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.04 - 1e-6
    assert times[-1] == pytest.approx(199 / 25, rel=0.03)  # 25 a second, not slower


@pytest.mark.parametrize("rate", [2.5, 10.0, 29.0])
async def test_other_rates(clock: FakeClock, rate: float) -> None:
    pacer, api = Pacer(clock, rate=rate), Api(clock)

    async def burst() -> None:
        await asyncio.gather(*(send(pacer, api, chat, bulk=Bulk()) for chat in range(60)))

    await on_virtual_time(clock, burst())
    times = [t for t, _, _ in api.calls]
    assert max_in_window(times) <= math.ceil(rate)
    assert times[-1] == pytest.approx(59 / rate, rel=0.05)


async def test_one_message_a_second_per_chat_for_bulk_calls(clock: FakeClock) -> None:
    pacer, api = Pacer(clock, rate=25), Api(clock)

    async def burst() -> None:
        await asyncio.gather(*(send(pacer, api, chat, bulk=Bulk()) for chat in [7] * 5 + [8] * 5))

    await on_virtual_time(clock, burst())
    for chat in (7, 8):
        times = [t for t, c, _ in api.calls if c == chat]
        assert len(times) == 5
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))


async def test_a_bulk_call_waits_a_second_after_a_reply_in_the_same_chat(
    clock: FakeClock,
) -> None:
    pacer, api = Pacer(clock, rate=25), Api(clock)
    await send(pacer, api, 7)  # a reply, at 0
    await on_virtual_time(clock, send(pacer, api, 7, bulk=Bulk()))
    assert [t for t, _, _ in api.calls] == [0.0, 1.0]


async def test_interactive_calls_never_wait_and_bulk_calls_yield_to_them(
    clock: FakeClock,
) -> None:
    pacer, api = Pacer(clock, rate=25), Api(clock)
    replies: list[float] = []

    async def talk() -> None:
        await clock.sleep(2.0)
        for _ in range(5):  # a burst of replies in the middle of the broadcast
            asked = (clock.now() - START).total_seconds()
            await send(pacer, api, 5000)
            replies.append((clock.now() - START).total_seconds() - asked)

    async def both() -> None:
        bulk = [send(pacer, api, chat, bulk=Bulk()) for chat in range(150)]
        await asyncio.gather(talk(), *bulk)

    await on_virtual_time(clock, both())
    assert replies == [0.0] * 5  # never queued behind the broadcast
    everything = [t for t, _, _ in api.calls]
    assert max_in_window(everything) <= 30  # replies fit in the headroom over 25/s
    bulk_times = [t for t, _, lane in api.calls if lane == "bulk"]
    # the broadcast gave way: 25 counted calls a second at most once the replies are counted
    window_after = [t for t in everything if 2.0 <= t <= 3.0]
    assert len(window_after) <= 26
    assert len(bulk_times) == 150


async def test_429_pauses_bulk_calls_and_is_raised_to_the_bulk_caller(clock: FakeClock) -> None:
    pacer, api = Pacer(clock, rate=25), Api(clock)
    api.fail_with.append(RetryAfter(timedelta(seconds=7)))
    with pytest.raises(RetryAfter):
        await on_virtual_time(clock, send(pacer, api, 1, bulk=Bulk()))
    await on_virtual_time(clock, send(pacer, api, 2, bulk=Bulk()))
    assert [t for t, _, _ in api.calls] == [0.0, 7.0]


async def test_interactive_429_is_retried_after_retry_after(clock: FakeClock) -> None:
    pacer, api = Pacer(clock, rate=25, interactive_retries=2), Api(clock)
    api.fail_with += [RetryAfter(timedelta(seconds=3)), RetryAfter(timedelta(seconds=2))]
    assert await on_virtual_time(clock, send(pacer, api, 1)) == {"ok": True}
    assert [t for t, _, _ in api.calls] == [0.0, 3.0, 5.0]
    api.fail_with += [RetryAfter(timedelta(seconds=1))] * 3
    with pytest.raises(RetryAfter):
        await on_virtual_time(clock, send(pacer, api, 1))


async def test_a_withdrawn_bulk_call_is_not_made(clock: FakeClock) -> None:
    pacer, api = Pacer(clock, rate=25), Api(clock)
    with pytest.raises(Withdrawn):
        await send(pacer, api, 1, bulk=Bulk(still_wanted=lambda: False))
    assert api.calls == []


async def test_calls_without_a_chat_are_not_counted(clock: FakeClock) -> None:
    pacer, api = Pacer(clock, rate=2), Api(clock)
    for _ in range(20):
        await send(pacer, api, None, endpoint="answerCallbackQuery")
    await send(pacer, api, 1, bulk=Bulk())  # not delayed by the 20 answers
    assert [t for t, _, _ in api.calls][-1] == 0.0


async def test_memory_stays_bounded_on_a_frozen_clock(clock: FakeClock) -> None:
    pacer, api = Pacer(clock, rate=25, per_chat_seconds=3), Api(clock)
    for chat in range(10_000):  # the clock never moves: nothing ever becomes old
        await send(pacer, api, chat)
    assert pacer.footprint == (25, 2048)
    # the chats kept are the latest: the newest keeps its spacing (3 s), the first was
    # dropped and waits only for the overall window (1 s)
    await on_virtual_time(clock, send(pacer, api, 0, bulk=Bulk()))
    assert api.calls[-1][0] == pytest.approx(1.0, abs=0.01)
    await on_virtual_time(clock, send(pacer, api, 9_999, bulk=Bulk()))
    assert api.calls[-1][0] == pytest.approx(3.0, abs=0.01)


async def test_chats_are_forgotten_once_their_second_has_passed(clock: FakeClock) -> None:
    pacer, api = Pacer(clock, rate=25), Api(clock)
    for chat in range(300):
        await send(pacer, api, chat)
    clock.advance(timedelta(seconds=1.5))
    await send(pacer, api, 1)
    assert pacer.footprint == (25, 1)


def test_what_counts_as_a_message_send() -> None:
    assert is_message_send("sendMessage")
    assert is_message_send("sendPhoto")
    assert is_message_send("copyMessage")
    assert not is_message_send("sendChatAction")
    assert not is_message_send("editMessageText")


def test_rate_must_be_positive(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(clock, rate=0)
