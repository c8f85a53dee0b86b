"""What every part of the SQL transaction shares: running a statement and counting it.

Each store subclasses `storage.sql.SqlTx` and provides `_execute` for its driver (and the
few dialect facts: the insertion-order column, how a foreign-key violation is recognised).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any, ClassVar, Protocol

from storage.base import ReadOnlyTransaction
from storage.rows import marks

_CHUNK = 500  # values per `IN (...)` list, well under SQLite's variable limit


def chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class Cursor(Protocol):
    """What the SQL uses of a DB-API cursor (sqlite3's and psycopg's both fit); rows are
    read by column name."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


# How long a claim on an outbox or ledger row holds before another instance may take it
# over (a live owner renews nothing: it finishes well within these).
OUTBOX_LEASE = timedelta(seconds=60)
DELIVERY_LEASE = timedelta(minutes=2)


class SqlBase:
    ORDER: ClassVar[str] = "rowid"  # the insertion-order column of complaints and requests
    SKIP_LOCKED: ClassVar[str] = ""  # how a claim skips rows another transaction is claiming

    def __init__(self, *, writable: bool, default_language: str, owner: str = "") -> None:
        self._writable = writable
        self._default_language = default_language
        self._owner = owner  # this store's instance, named in the claims it makes
        self.statements = 0

    def _execute(self, sql: str, values: tuple[Any, ...]) -> Cursor:
        """Run `sql` with `values` on the driver; instants in its dialect, a naive datetime
        refused (ValueError: it names no instant)."""
        raise NotImplementedError  # pragma: no cover - each store provides it

    def _foreign_key_violation(self, error: Exception) -> bool:
        raise NotImplementedError  # pragma: no cover - each store provides it

    def _run(self, sql: str, values: Iterable[Any] = ()) -> Cursor:
        """Run one statement (`_execute` refuses a naive datetime among `values`)."""
        self.statements += 1
        return self._execute(sql, tuple(values))

    def _run_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """One multi-row INSERT (`sql` has one `VALUES (...)` tuple): one statement."""
        if rows:
            head, _, _ = sql.partition(" VALUES ")
            tuples = ", ".join(f"({marks(len(row))})" for row in rows)
            self._run(f"{head} VALUES {tuples}", [value for row in rows for value in row])

    def _check_writable(self, operation: str) -> None:
        if not self._writable:
            raise ReadOnlyTransaction(f"{operation} inside a read-only unit of work")
