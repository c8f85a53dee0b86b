"""Polling that loses nothing: a small `getUpdates` loop that confirms an update to Telegram only
after its transaction committed.

Telegram confirms every update below the `offset` of the next `getUpdates` call. PTB's poller
moves the offset on as soon as a batch is fetched; this loop first handles the whole batch (each
user's updates in order, users concurrently: bot/processor.py), then moves the offset to just
below the first update that did not commit, or past the batch. A SIGKILL at any moment leaves
the uncommitted ones unconfirmed: they come again, and the `update_id` claim makes any that did
commit count once. An update that keeps failing is retried `MAX_ATTEMPTS` times, then given up
(logged with its id) so that it cannot hold back everyone behind it.

SIGTERM / SIGINT: the batch in hand is finished, its offset confirmed, then the bot stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.config import Settings
from bot.ingress import feed, running
from bot.pacer import retry_seconds

log = logging.getLogger("complaint_desk.polling")

MAX_ATTEMPTS = 5
AnyApp = Application[Any, Any, Any, Any, Any, Any]


class Poller:
    def __init__(self, app: AnyApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.offset: int | None = None
        self.stopping = asyncio.Event()
        self._attempts: dict[int, int] = {}

    async def run(self) -> None:
        await self.app.bot.delete_webhook()  # getUpdates is refused while a webhook is set
        pause = 0.0
        while not self.stopping.is_set():
            if pause:
                await self._sleep(pause)
            try:
                updates = await self._fetch()
            except (NetworkError, Conflict) as error:  # Telegram unreachable, or another poller
                pause = min(max(pause * 2, 1.0), 30.0)
                log.warning("getUpdates failed (%s); again in %ss", type(error).__name__, pause)
                continue
            except RetryAfter as error:
                pause = retry_seconds(error)
                continue
            pause = 0.0
            if updates:
                await self.handle(updates)
        await self.confirm()

    async def _fetch(self) -> list[Update]:
        timeout = self.settings.poll_timeout
        fetch = asyncio.ensure_future(
            self.app.bot.get_updates(
                offset=self.offset,
                timeout=timeout,
                allowed_updates=list(self.settings.allowed_updates),
                read_timeout=timeout + 10,
            )
        )
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not fetch.done():  # stopping: nothing fetched is lost, it was not confirmed
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await fetch
            return []
        return list(fetch.result())

    async def handle(self, updates: list[Update]) -> None:
        """Handle a batch; move the offset past what committed (or was given up)."""
        receipts = await asyncio.gather(*(feed(self.app, u) for u in updates))
        next_offset = updates[-1].update_id + 1
        for update, receipt in zip(updates, receipts, strict=True):
            if receipt.committed:
                self._attempts.pop(update.update_id, None)
                continue
            tries = self._attempts.get(update.update_id, 0) + 1
            if tries < MAX_ATTEMPTS:
                self._attempts[update.update_id] = tries
                next_offset = update.update_id
                break
            log.error("update %s failed %s times; given up", update.update_id, tries)
            self._attempts.pop(update.update_id, None)
        self.offset = next_offset

    async def confirm(self) -> None:
        """Tell Telegram what committed before stopping (the next start would anyway)."""
        if self.offset is None:
            return
        with contextlib.suppress(TelegramError):
            await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)


async def poll(app: AnyApp, settings: Settings) -> None:
    """Run the bot by polling until SIGTERM or SIGINT."""
    poller = Poller(app, settings)
    loop = asyncio.get_running_loop()

    def stop() -> None:
        log.info("stopping: finishing the updates in hand")
        poller.stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    try:
        async with running(app):
            log.info("polling %s", settings.telegram_api_base_url.split("/bot", 1)[0])
            await poller.run()
    except InvalidToken:
        log.error("the Bot API refused the token")
        raise
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
