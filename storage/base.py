"""What the rest of the bot sees of storage: a `Store` that runs units of work over a `Tx`.

The engine's whole handling of one update is a synchronous function over a `flows.ports.Tx`.
A store runs that function in one write transaction on its database thread, so an update
costs exactly one thread hop (`round_trips` counts them; tests hold it to one per update).
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

from flows.ports import Tx, VersionConflict

T = TypeVar("T")
CONFLICT_ATTEMPTS = 3  # a unit of work that meets a VersionConflict runs at most this often


class ReadOnlyTransaction(Exception):
    """A unit of work run with `Store.read` tried to write."""


class Store(Protocol):
    async def transact(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in one write transaction (one hop); roll back and re-raise if it raises."""
        ...

    async def read(self, work: Callable[[Tx], T]) -> T:
        """Run `work` as a read-only unit (one hop, no write lock); writes raise."""
        ...

    @property
    def database(self) -> str | Path:
        """What it was opened on (a SQLite file or a PostgreSQL DSN)."""
        ...

    @property
    def round_trips(self) -> int:
        """Hops to the database thread made by `transact` and `read` so far."""
        ...

    async def close(self) -> None:
        """Release the database; idempotent."""
        ...


def instance_id() -> str:
    """A name for one open store (this host, this process, a random tail): the owner its
    claims on outbox and ledger rows carry."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def require_aware(value: datetime, what: str) -> datetime:
    """Storage keeps instants in UTC; a naive datetime has no instant, so it is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got naive {value!r}")
    return value


def retry_conflicts(once: Callable[[], T], retried: Callable[[], None]) -> T:
    """Run `once()` (a whole transaction, rolled back when it raises) until it does not end in
    a VersionConflict, at most CONFLICT_ATTEMPTS times; `retried()` is told of each retry.

    Another writer changed a row between load and save: running the whole unit again
    reloads it. Only the last attempt's conflict is let through.
    """
    for _ in range(CONFLICT_ATTEMPTS - 1):
        try:
            return once()
        except VersionConflict:
            retried()
    return once()
