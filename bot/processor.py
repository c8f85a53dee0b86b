"""Each user's updates in order; different users concurrently.

PTB's `concurrent_updates(True)` gives no ordering at all, and the default (one at a time)
makes everyone wait for everyone. This processor keeps one FIFO lock per user, created on
demand and dropped when that user has nothing in flight, so it holds no memory per idle user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerUserProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            await coroutine
            return
        lock, users = self._locks.get(user.id, (asyncio.Lock(), 0))
        self._locks[user.id] = (lock, users + 1)
        try:
            async with lock:  # asyncio.Lock wakes waiters in FIFO order
                await coroutine
        finally:
            lock, users = self._locks[user.id]
            if users == 1:
                del self._locks[user.id]
            else:
                self._locks[user.id] = (lock, users - 1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def users_in_flight(self) -> int:
        """How many users have updates in flight (0 when idle: nothing kept per user)."""
        return len(self._locks)
