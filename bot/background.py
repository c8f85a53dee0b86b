"""Work that runs after commit, off the update path: the outbox sender and the deadline sweeper.

- `Outbox.kick()` starts a drain (at most one at a time) of notifications written by updates
  and by the sweeper. Each row is marked delivered in its own small transaction right after it
  is sent, so a crash re-sends at most the one message in flight. 403 marks the user as having
  blocked the bot; 429 waits `retry_after` on the clock and goes on; a Bad Request (say, a chat
  that does not exist: an operator who never opened the bot) keeps the row for later (`DEFER`,
  or as soon as that person writes: `arrived`), so it neither blocks the rows behind it nor is
  lost, and operators see how many wait (/queue); network
  errors and time-outs leave the row for the next drain. (A time-out after Telegram received the
  message may show it twice: for notifications we prefer that to losing one.)
- `Sweeper` sleeps on the injectable clock until the next stored due time (at most `interval`),
  then runs `flows.sweeper.sweep` in one transaction and kicks the outbox.

Each takes what it uses (the store, the clock, the renderer, the rules), not the whole runtime,
so it does not depend on `bot.app`, which wires them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.clock import Clock
from bot.render import Renderer
from bot.transport import call
from flows import after_send
from flows.context import Rules
from flows.ports import Tx
from flows.records import Notification
from flows.replies import params_from_json
from flows.sweeper import sweep
from storage.base import Store

log = logging.getLogger("complaint_desk.background")


class Outbox:
    def __init__(self, store: Store, clock: Clock, renderer: Renderer, bot: Bot) -> None:
        self.store = store
        self.clock = clock
        self.renderer = renderer
        self.bot = bot
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self.waiting: set[int] = set()  # people with notifications kept for later

    async def load(self) -> None:
        """At start-up: who has notifications kept for later (delivered when they write)."""
        self.waiting = set(await self.store.read(lambda tx: tx.deferred_notifications()))

    async def arrived(self, user_id: int) -> None:
        """Someone wrote to the bot: if notifications were kept for them, send them now."""
        if user_id not in self.waiting:
            return
        self.waiting.discard(user_id)
        await self.store.transact(partial(_wake, user_id=user_id))
        self.kick()

    def kick(self) -> None:
        """Drain soon; if a drain is running, it goes round once more."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._drain(), name="outbox")

    async def _drain(self) -> None:
        while True:
            self._again = False
            # claimed for this instance for a lease: another instance skips them
            batch = await self.store.transact(
                partial(_claim_notifications, now=self.clock.now(), limit=50)
            )
            for note, language in batch:
                if not await self._send(note.id, note.user_id, note.key, note.params, language):
                    return
            if not batch and not self._again:
                return

    async def _send(
        self, note_id: int | None, user_id: int, key: str, params: dict[str, object], lang: str
    ) -> bool:
        """Send one notification; False to stop this drain (try again later)."""
        text = self.renderer.text(lang, key, params_from_json(params))
        try:
            params = {"chat_id": user_id, "text": text, "parse_mode": ParseMode.HTML}
            await call(self.bot, "sendMessage", params)  # the answer is not read
        except Forbidden:
            now = self.clock.now()
            await self.store.transact(
                partial(after_send.blocked, user_id=user_id, notification_id=note_id, now=now)
            )
            return True
        except RetryAfter as exc:
            await self.clock.sleep(_seconds(exc.retry_after))
            return True  # the row is still pending: the next round sends it
        except BadRequest as error:  # e.g. chat not found: the person never opened the bot
            if note_id is not None:
                until = self.clock.now() + DEFER
                await self.store.transact(partial(_defer, notification_id=note_id, until=until))
            self.waiting.add(user_id)
            log.warning("notification %s to %s kept for later: %s", note_id, user_id, error.message)
            return True
        except TelegramError:  # transient (network, time-out): keep it, try again later
            log.warning("notification %s to %s failed; will retry", note_id, user_id, exc_info=True)
            return False
        now = self.clock.now()
        await self.store.transact(partial(after_send.sent, notification_id=note_id, now=now))
        return True


class Sweeper:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        rules: Rules,
        kick: Callable[[], None],
        interval: float = 60.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.rules = rules
        self.kick = kick  # the outbox: the sweep may have written notifications
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sweeper")

    @property
    def alive(self) -> bool:
        """Started and still running (it runs until stopped; it ends only by crashing)."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            now = self.clock.now()
            try:
                upcoming = await self.store.transact(partial(sweep, now=now, rules=self.rules))
            except Exception:  # keep sweeping: a bad row must not stop every deadline
                log.exception("sweep failed")
                upcoming = None
            self.kick()
            await self.clock.sleep(self._wait(now, upcoming))

    def _wait(self, now: datetime, upcoming: datetime | None) -> float:
        if upcoming is None:
            return self.interval
        return min(self.interval, max((upcoming - now).total_seconds(), 0.001))


DEFER = timedelta(minutes=30)  # a notification Telegram cannot deliver now is tried again then


def _defer(tx: Tx, notification_id: int, until: datetime) -> None:
    tx.defer_notification(notification_id, until)


def _wake(tx: Tx, user_id: int) -> int:
    return tx.wake_notifications(user_id)


def _claim_notifications(tx: Tx, now: datetime, limit: int) -> list[tuple[Notification, str]]:
    return tx.claim_notifications(now, limit)


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
