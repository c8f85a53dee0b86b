"""The SQLite store: one aiosqlite connection, at most one thread hop per unit of work.

aiosqlite runs every call on its connection's worker thread and each awaited call costs a
hop there and back (~0.17 ms; see the architecture's "Storage"). Going through its public
API an update costs ~7 hops (begin, claim, load, save, ..., commit). Instead the whole unit
of work (`BEGIN IMMEDIATE`, the engine's function over a `SqliteTx`, `COMMIT`) is queued to
that thread as one callable: one hop per update. The worker thread takes callables in FIFO
order and runs one at a time, so units of work never interleave. Units that arrive while a
hop is in flight go together in the next one, one COMMIT for all, a SAVEPOINT each (group
commit, storage/group.py): fewer than one hop per update when many users are in flight.

Cancelling the awaiting task does not stop a unit of work already queued: it still runs and
commits; only its result is lost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, cast

import aiosqlite

from flows.ports import Tx
from storage.base import T, instance_id
from storage.group import GroupCommit, Unit, commit_group
from storage.migrations import MigrationsPending, apply_migrations, pending_migrations
from storage.rows import utc_text
from storage.sql import SqlTx
from storage.sqlbase import Cursor
from storage.writer_lock import WriterLock

__all__ = ["SqliteStore", "SqliteTx", "utc_text"]


def _params(values: tuple[Any, ...]) -> list[Any]:
    """Instants as fixed-width ISO-8601 UTC text (a naive one is refused)."""
    return [utc_text(v, "a stored instant") if isinstance(v, datetime) else v for v in values]


class SqliteTx(SqlTx):
    """`storage.sql.SqlTx` on a raw sqlite3 connection (instants as fixed-width UTC text)."""

    ORDER = "rowid"

    def __init__(
        self, conn: sqlite3.Connection, *, writable: bool, default_language: str, owner: str
    ) -> None:
        super().__init__(writable=writable, default_language=default_language, owner=owner)
        self._conn = conn

    def _execute(self, sql: str, values: tuple[Any, ...]) -> Cursor:
        return self._conn.execute(sql, _params(values))

    def _foreign_key_violation(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "FOREIGN KEY" in str(error)


def _setup(
    conn: sqlite3.Connection, *, in_memory: bool, now: datetime | None, alone: bool, migrate: bool
) -> list[str]:
    """Pragmas and migrations, on the database thread. Returns the migrations applied;
    without `migrate`, raises MigrationsPending if some are not.

    `alone`: this store took the file's writer lock, so every other store that ever held it
    is gone: the claims they left (outbox and ledger leases) are expired at once."""
    conn.row_factory = sqlite3.Row
    if not in_memory:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"could not switch the database to WAL (got {mode!r})")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    if now is not None:
        stamp = utc_text(now, "now")
    else:
        # Bookkeeping only (when a migration ran), so SQLite's own clock will do.
        stamp = conn.execute(
            "SELECT strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00'"
        ).fetchone()[0]
    if not migrate and (pending := pending_migrations(conn)):
        raise MigrationsPending(pending)
    applied = apply_migrations(conn, stamp) if migrate else []
    if alone:
        conn.execute("UPDATE outbox SET lease_until = NULL WHERE lease_until IS NOT NULL")
        conn.execute("UPDATE deliveries SET lease_until = NULL WHERE state = 'sending'")
    return applied


class SqliteStore:
    """`storage.base.Store` over one aiosqlite connection. Create it with `await open(...)`."""

    def __init__(
        self, db: aiosqlite.Connection, default_language: str, lock: WriterLock | None = None
    ) -> None:
        self._db: aiosqlite.Connection | None = db
        self._lock = lock
        self.owner = instance_id()
        self.database: Path | str = ":memory:"
        self._default_language = default_language
        self._round_trips = 0
        self._statements = 0
        self.conflicts_retried = 0
        self._group = GroupCommit(self._commit_group)
        self.migrations_applied: list[str] = []

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        now: datetime | None = None,
        default_language: str,
        migrate: bool = True,
    ) -> SqliteStore:
        """Open (creating it and its parent directories) and migrate the database at `path`.

        `":memory:"` gives a private in-memory database (no WAL). `now` stamps the
        migrations applied; without it SQLite's clock does. `default_language` is the
        language of a notification's recipient with no users row (the caller's
        DEFAULT_LANGUAGE). A file is locked for this process (`storage.writer_lock`): a
        second process gets DatabaseInUse naming the first. Without `migrate`
        (MIGRATE_ON_START=false) nothing is migrated: a database behind raises MigrationsPending.
        """
        in_memory = str(path) == ":memory:"
        lock = None
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            lock = WriterLock.acquire(Path(path))
        try:
            db = await aiosqlite.connect(str(path), isolation_level=None)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        store = cls(db, default_language, lock)
        store.database = path
        try:
            store.migrations_applied = await store._on_db_thread(
                partial(
                    _setup,
                    in_memory=in_memory,
                    now=now,
                    alone=lock is None or lock.first,
                    migrate=migrate,
                )
            )
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def round_trips(self) -> int:
        """Hops made by `transact` and `read` (opening the store is not counted)."""
        return self._round_trips

    @property
    def statements(self) -> int:
        """SQL statements issued through `SqliteTx` (BEGIN/COMMIT not counted)."""
        return self._statements

    async def _on_db_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(raw sqlite3 connection)` on aiosqlite's worker thread: one hop.

        aiosqlite's public API costs a hop per awaited call (~7 per update); its private
        `Connection._execute` queues one callable on the worker thread, and `_conn` is the
        raw sqlite3 connection that lives there. Used together, a whole unit of work costs
        one hop. Both are private to the pinned aiosqlite 0.22.1: this is the only place
        that touches them, and tests/storage/test_sqlite.py::test_one_hop_per_unit_of_work
        fails if they change.
        """
        db = self._db
        if db is None:
            raise RuntimeError("the store is closed")
        execute = cast(Callable[[Callable[[], T]], Awaitable[T]], db._execute)
        return await execute(lambda: fn(db._conn))

    def _retried(self) -> None:
        self.conflicts_retried += 1

    async def transact(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in a write transaction on the database thread; units that arrive while
        a hop is in flight share the next hop and COMMIT, a savepoint each (storage/group.py).
        A VersionConflict rolls that unit back and runs it again (same hop), a few times."""
        result: T = await self._group.submit(work)
        return result

    async def _commit_group(self, batch: list[Unit]) -> None:
        def hop(conn: sqlite3.Connection) -> None:
            txs: list[SqliteTx] = []

            def new_tx() -> SqliteTx:
                language, owner = self._default_language, self.owner
                txs.append(SqliteTx(conn, writable=True, default_language=language, owner=owner))
                return txs[-1]

            try:
                commit_group(conn, batch, new_tx, self._retried)
            finally:
                self._statements += sum(tx.statements for tx in txs)

        self._round_trips += 1
        await self._on_db_thread(hop)

    async def read(self, work: Callable[[Tx], T]) -> T:
        def unit(conn: sqlite3.Connection) -> T:
            tx = SqliteTx(
                conn, writable=False, default_language=self._default_language, owner=self.owner
            )
            # A deferred BEGIN takes no write lock; it gives the reads one snapshot.
            conn.execute("BEGIN")
            try:
                return work(tx)
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._statements += tx.statements

        self._round_trips += 1
        return await self._on_db_thread(unit)

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            try:
                await db.close()
            finally:
                if self._lock is not None:
                    self._lock.release()
