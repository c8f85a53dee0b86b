"""Reading the console's input: one line at a time, without blocking the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TextIO


class LineReader:
    """Reads one line at a time on a helper thread, so the event loop stays responsive.

    A daemon thread per line: a pending read never keeps the process alive at exit, and
    `interrupt()` (Ctrl-C at a terminal) ends the wait as if the input had ended.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending: asyncio.Future[str] | None = None

    async def readline(self) -> str:
        """The next line with its newline; "" at the end of the input."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        self._pending = future

        def settle(line: str | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(line or "")

        def work() -> None:
            try:
                line, error = self._stream.readline(), None
            except Exception as exc:  # handed to the waiting coroutine
                line, error = None, exc
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(settle, line, error)

        threading.Thread(target=work, name="console-stdin", daemon=True).start()
        try:
            return await future
        finally:
            self._pending = None

    def interrupt(self) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.set_result("")


@contextlib.contextmanager
def interrupts(callback: Callable[[], None], *, enabled: bool) -> Iterator[None]:
    """At a terminal, Ctrl-C ends the session like the end of the input."""
    loop = asyncio.get_running_loop()
    installed = False
    if enabled:
        try:
            loop.add_signal_handler(signal.SIGINT, callback)
            installed = True
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not main thread
            pass
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
