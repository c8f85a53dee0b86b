"""When is the bot idle? The tasks it started, tracked until they finish or park on the clock.

A simulator step (handing the bot an update, advancing the clock) must not return while the bot is
still working, yet a task that only waits for virtual time (a reminder, a paced broadcast) is
idle: nobody but the clock can wake it. `Tasks` tells them apart and collects the errors of
tasks that failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any

from bot.clock import FakeClock

_PTB_DAEMONS = re.compile(r"^Application:.*:(update_fetcher|persistence_updater)$")


class DrainTimeout(AssertionError):
    """The bot did not become idle in time (a task kept running without waiting on the clock)."""


class Tasks:
    """The bot's tasks as seen from the simulator: which are busy, which park on the clock."""

    def __init__(
        self,
        clock: FakeClock,
        on_error: Callable[[BaseException], None],
        describe: Callable[[], str],
        timeout: float,
    ) -> None:
        self.clock = clock
        self.timeout = timeout
        self._on_error = on_error
        self._describe = describe  # the transcripts, for a DrainTimeout
        self._baseline: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._tracked: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._steps: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._daemons: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()

    def ignore_existing(self) -> None:
        """Tasks running before the bot started are not the bot's (the test's own, pytest's)."""
        self._baseline.update(asyncio.all_tasks())

    def daemon(self, task: asyncio.Task[Any]) -> None:
        """Never wait for `task` (a long-lived worker that is idle while it waits)."""
        self._daemons.add(task)

    @contextlib.asynccontextmanager
    async def step(self) -> AsyncIterator[set[asyncio.Task[Any]]]:
        """Mark the current task as a simulator step; yield the tasks that existed before it."""
        current = asyncio.current_task()
        if current is not None:
            self._steps.add(current)
        try:
            yield set(asyncio.all_tasks())
        finally:
            if current is not None:
                self._steps.discard(current)

    async def cancel_pending(self) -> None:
        """Cancel every tracked task that is still running (a dying process)."""
        pending = [t for t in self._tracked if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _collect(self, before: set[asyncio.Task[Any]] | None) -> None:
        current = asyncio.current_task()
        for task in asyncio.all_tasks():
            if (
                task is current
                or task in self._steps
                or task in self._baseline
                or task in self._daemons
                or (before is not None and task in before)
                or _PTB_DAEMONS.match(task.get_name())
            ):
                continue
            self._tracked.add(task)

    def _sleeper_futures(self) -> set[int]:
        return {id(fut) for _, _, fut in self.clock._sleepers if not fut.done()}

    def parked(self, awaitable: object, sleepers: set[int] | None = None, depth: int = 0) -> bool:
        """True if `awaitable` (a task or future) is, in the end, only waiting for the clock."""
        if sleepers is None:
            sleepers = self._sleeper_futures()
        if depth > 20:
            return False
        if id(awaitable) in sleepers:
            return True
        if isinstance(awaitable, asyncio.Task):
            waiter = getattr(awaitable, "_fut_waiter", None)
            return waiter is not None and self.parked(waiter, sleepers, depth + 1)
        children = getattr(awaitable, "_children", None)  # asyncio.gather's future
        if isinstance(children, list) and children:
            waiting = [c for c in children if not c.done()]  # all done: it is about to wake
            return bool(waiting) and all(self.parked(c, sleepers, depth + 1) for c in waiting)
        return False

    def any_on_clock(self) -> bool:
        """Whether some task of the bot sleeps on the clock."""
        sleepers = self._sleeper_futures()
        return any(not t.done() and self.parked(t, sleepers) for t in self._tracked)

    def _harvest(self) -> None:
        for task in [t for t in self._tracked if t.done()]:
            self._tracked.discard(task)
            if not task.cancelled() and (error := task.exception()) is not None:
                self._on_error(error)

    async def drain(self, before: set[asyncio.Task[Any]] | None) -> None:
        """Wait until every task started since `before` has finished or parks on the clock."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            for _ in range(3):
                await asyncio.sleep(0)
            self._collect(before)
            self._harvest()
            sleepers = self._sleeper_futures()
            busy = [t for t in self._tracked if not t.done() and not self.parked(t, sleepers)]
            if not busy:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                names = ", ".join(t.get_name() for t in busy)
                raise DrainTimeout(
                    f"the bot was still busy after {self.timeout}s ({names})\n" + self._describe()
                )
            # Poll often: a busy task may be a long-lived worker (a broadcast) that parks on the
            # clock again after a database hop without finishing; 20 ms a hop was most of the
            # real time of a 10,000-recipient broadcast test.
            await asyncio.wait(busy, timeout=min(0.002, remaining))
