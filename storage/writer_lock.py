"""One writing process per SQLite file: an OS lock on a sidecar `<db>.lock` file.

Two bots (or a bot and a console) on one SQLite file take each other's updates for
duplicates and each other's outbox and broadcast rows. So the SQLite store takes an
exclusive `flock` on `<db>.lock` when it opens and writes its pid there; a second process
opening the same file is refused with a message naming the holder. The OS drops the lock
when the holder closes the store or dies (also on SIGKILL), so nothing stale is left to
clean up. Within one process the lock is shared (counted): the simulator's restart and
tests that reopen a file keep working. PostgreSQL, where several instances are the design,
takes no such lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import ClassVar


class DatabaseInUse(RuntimeError):
    """Another running process holds the SQLite file."""


def _describe(pid_text: str) -> str:
    if not pid_text.isdigit():
        return "another process (its pid is not written yet)"
    try:
        command = Path(f"/proc/{pid_text}/cmdline").read_bytes().replace(b"\0", b" ").strip()
    except OSError:
        return f"process {pid_text}"
    return f"process {pid_text} ({command.decode(errors='replace')})"


class WriterLock:
    """The exclusive lock on `<db>.lock`; `acquire` it, `release` it once per acquire."""

    _held: ClassVar[dict[Path, tuple[int, int]]] = {}  # lock path -> (fd, holders here)

    def __init__(self, path: Path, *, first: bool) -> None:
        self.path = path
        self.first = first  # this acquire took the OS lock: no other store has the file open
        self._released = False

    @classmethod
    def acquire(cls, database: Path) -> WriterLock:
        """Lock `database` for this process; raises DatabaseInUse naming the other holder."""
        path = Path(f"{database}.lock").resolve()
        if path in cls._held:
            fd, count = cls._held[path]
            cls._held[path] = (fd, count + 1)
            return cls(path, first=False)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise DatabaseInUse(
                f"{database} is in use by {_describe(holder)}: one process writes a SQLite "
                "database. Stop that one, or give this one another database "
                "(--db or COMPLAINT_DESK_DB)."
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        cls._held[path] = (fd, 1)
        return cls(path, first=True)

    def release(self) -> None:
        """Give the lock up (the last holder in this process unlocks the file); idempotent."""
        if self._released:
            return
        self._released = True
        fd, count = self._held[self.path]
        if count > 1:
            self._held[self.path] = (fd, count - 1)
            return
        del self._held[self.path]
        os.ftruncate(fd, 0)
        os.close(fd)  # closing the only descriptor drops the flock
