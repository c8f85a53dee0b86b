"""The pacer: one rate limiter for every Bot API call the bot makes (PTB `BaseRateLimiter`).

Installed with `ApplicationBuilder().rate_limiter(...)`, so interactive replies, outbox
notifications and broadcast sends all pass through it and share one budget. It waits on the
injectable clock (`clock.sleep`), never on `asyncio.sleep`, so tests run on virtual time.

The model (Telegram: about 30 messages a second overall, about 1 a second per chat, 429 with
`retry_after` beyond that):

- *Counted calls*: every call that carries a `chat_id` (sends, edits, deletes...) counts
  toward the overall budget; calls without one (answerCallbackQuery, getMe...) pass freely.
- *Interactive calls* (anything not marked bulk) are never delayed: a person waiting for an
  answer goes first. They are recorded, so the bulk lane sees them. If Telegram answers 429 they
  wait `retry_after` and are retried (`interactive_retries` times).
- *Bulk calls* (broadcast sends, marked with `rate_limit_args=Bulk(...)`) go out only when
  (a) fewer than `rate` counted calls of any kind were made in the last second, (b) at least
  `1 / rate` after the previous bulk call, (c) at least one second after the last message to
  the same chat, and (d) no 429 pause is running. So the broadcast takes what interactive
  traffic leaves of `rate` (default 25/s, under Telegram's 30/s), and the gap up to 30/s is
  headroom for replies. Concurrent bulk callers reserve successive slots and each sleeps once.
- *429*: from any call, pauses the bulk lane for `retry_after`; a bulk call re-raises it (the
  broadcaster puts the recipient back on its ledger: nothing is dropped).
- Before a bulk call is made, `Bulk.still_wanted()` is asked again (the broadcast may have been
  paused or cancelled, or the process be stopping while it waited); if not, `Withdrawn` is
  raised and nothing is sent.

Memory stays flat whatever the clock does (a frozen fake clock included): the overall log
keeps only the newest `ceil(rate)` calls (all the window rule ever reads), and the per-chat map
keeps chats in the order of their last send, dropping from the oldest end those whose spacing
has passed, and beyond `_CHATS` entries the oldest anyway (at 30 messages a second, 2,048 chats
cannot all have been written to within the last second in real time). Each send costs O(1)
amortized; nothing is ever rebuilt.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.clock import Clock
from bot.metrics import METRICS

log = logging.getLogger("complaint_desk.pacer")

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_SECOND = 1_000_000
_CHATS = 2048  # per-chat entries kept at most


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Bulk:
    """`rate_limit_args` of a bulk (broadcast) call; `still_wanted` is asked right before it
    is made."""

    still_wanted: Callable[[], bool] = _always


class Withdrawn(Exception):
    """A bulk call was not made: `still_wanted()` said no after its wait."""


def is_message_send(endpoint: str) -> bool:
    """Calls that put a new message in a chat (what the per-chat limit counts)."""
    name = endpoint.lower()
    return name.startswith(("send", "copymessage", "forwardmessage")) and name != "sendchataction"


def retry_seconds(error: RetryAfter) -> float:
    value: Any = error.retry_after
    return float(value.total_seconds()) if isinstance(value, timedelta) else float(value)


class Pacer(BaseRateLimiter[Bulk]):
    def __init__(
        self,
        clock: Clock,
        rate: float = 25.0,
        *,
        per_chat_seconds: float = 1.0,
        interactive_retries: int = 2,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.clock = clock
        self.rate = rate
        self.interactive_retries = interactive_retries
        self._per_window = math.ceil(rate)  # counted calls allowed in any 1 s window
        self._interval = max(1, round(_SECOND / rate))  # between two bulk calls
        self._per_chat = round(per_chat_seconds * _SECOND)
        # The newest counted calls (µs): the window rule reads the `_per_window`-th newest.
        self._log: deque[int] = deque(maxlen=self._per_window)
        self._last_send: dict[int | str, int] = {}  # chat -> last message send (µs), oldest first
        self._next_slot = 0
        self._pause_until = 0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    # -- time ----------------------------------------------------------------------------

    def _now(self) -> int:
        return (self.clock.now() - _EPOCH) // _US

    async def _sleep_until(self, when: int) -> None:
        delay = when - self._now()
        if delay > 0:
            await self.clock.sleep(delay / _SECOND)

    # -- bookkeeping ---------------------------------------------------------------------

    def _record(self, now: int, chat: int | str | None, endpoint: str) -> None:
        if chat is None:
            return
        self._log.append(now)
        if is_message_send(endpoint):
            sends = self._last_send
            sends.pop(chat, None)  # re-inserted last: the dict stays ordered by last send
            sends[chat] = now
            stale = now - self._per_chat
            while True:  # each entry is dropped once: O(1) amortized per send
                oldest = next(iter(sends))
                if len(sends) <= _CHATS and sends[oldest] >= stale:
                    break
                del sends[oldest]

    @property
    def footprint(self) -> tuple[int, int]:
        """(calls in the overall log, chats in the per-chat map): what the pacer holds."""
        return len(self._log), len(self._last_send)

    def _pause(self, error: RetryAfter) -> None:
        until = self._now() + round(retry_seconds(error) * _SECOND)
        self._pause_until = max(self._pause_until, until)
        METRICS.rate_limit(retry_seconds(error))
        log.info("429: bulk sends paused for %ss", retry_seconds(error))

    def ready_at(self, now: int, chat: int | str | None) -> int:
        """The earliest instant (µs) a bulk call to `chat` may be made, as things stand."""
        at = max(now, self._pause_until)
        if chat is not None and chat in self._last_send:
            at = max(at, self._last_send[chat] + self._per_chat)
        recent = [t for t in self._log if t >= at - _SECOND]
        if len(recent) >= self._per_window:  # wait until enough of them leave the window
            at = max(at, recent[len(recent) - self._per_window] + _SECOND + 1)
        return at

    def _reserve(self, earliest: int) -> int:
        slot = max(earliest, self._next_slot)
        self._next_slot = slot + self._interval
        return slot

    # -- the rate limiter ----------------------------------------------------------------

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Bulk | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat = _chat_of(data)
        if isinstance(rate_limit_args, Bulk):
            await self._bulk_turn(chat)
            if not rate_limit_args.still_wanted():
                raise Withdrawn(endpoint)
            self._record(self._now(), chat, endpoint)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                self._pause(error)
                raise
        for attempt in range(self.interactive_retries + 1):
            self._record(self._now(), chat, endpoint)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                self._pause(error)
                if attempt == self.interactive_retries:
                    raise
                await self.clock.sleep(retry_seconds(error))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _bulk_turn(self, chat: int | str | None) -> None:
        slot = self._reserve(self.ready_at(self._now(), chat))
        while True:
            await self._sleep_until(slot)
            now = self._now()
            slot = self.ready_at(now, chat)
            if slot <= now:
                return
            # Held up (replies filled the window, a 429, the chat): keep the turn, later.
            self._next_slot = max(self._next_slot, slot + self._interval)


def _chat_of(data: dict[str, Any]) -> int | str | None:
    chat = data.get("chat_id")
    if chat is None:
        return None
    try:
        return int(chat)
    except (TypeError, ValueError):
        return str(chat)
