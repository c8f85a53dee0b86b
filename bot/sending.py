"""Answers that survive: one Bot API call of a reply, tried again until it is known to be done.

A reply is what the person waits for, so it is sent *at least once*: an error that may have come
after Telegram did the work (a time-out, a dropped connection, a 5xx) is retried, accepting that
the message may then show twice (a repeated confirmation beats a missing one). A 429 waits the
`retry_after` Telegram asked for and tries again; nothing is dropped for being rate limited.
Answers that prove the call can never succeed (400 Bad Request, 403 Forbidden) are raised at
once. The waits run on the injectable clock inside the update's own handling, which holds only
that user's lock (bot/processor.py): the chat's order is kept and other users are not delayed.

Broadcasts are the opposite (at most once, bot/broadcaster.py) and do not come through here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.clock import Clock
from bot.metrics import METRICS
from bot.pacer import retry_seconds

log = logging.getLogger("complaint_desk.sending")

T = TypeVar("T")

ATTEMPTS = 6  # one call, five retries: 0.5 + 1 + 2 + 4 + 8 s of back-off on network errors
MAX_BACKOFF = 8.0


class Persist:
    """Runs one Bot API call (built afresh by a factory for each attempt) until it is done."""

    def __init__(self, clock: Clock, attempts: int = ATTEMPTS) -> None:
        self.clock = clock
        self.attempts = attempts
        self.retries = 0  # calls tried again (for metrics and tests)
        self.rate_limited_seconds = 0.0  # total retry_after waited

    async def __call__(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return await call()
            except RetryAfter as error:
                if attempt == self.attempts:
                    raise
                wait = retry_seconds(error)
                self.rate_limited_seconds += wait
                log.warning("%s: 429, retrying after %ss (attempt %s)", what, wait, attempt)
            except BadRequest:
                raise  # permanent: the same call fails the same way
            except NetworkError as error:  # time-outs, dropped connections, 5xx: may have arrived
                if attempt == self.attempts:
                    raise
                wait = min(0.5 * 2 ** (attempt - 1), MAX_BACKOFF)
                kind = type(error).__name__
                log.warning("%s: %s, retrying in %ss (attempt %s)", what, kind, wait, attempt)
            self.retries += 1
            METRICS.reply_retries.inc()
            await self.clock.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover
