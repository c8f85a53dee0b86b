"""The PostgreSQL store: psycopg 3's sync API over a `psycopg_pool` connection pool.

As with SQLite, a unit of work (the engine's whole update) is one callable run on one worker
thread from start to commit: one thread hop per update, the handlers stay synchronous over a
`Tx`. Several instances share the database, so:

- a writable transaction that loads a user first takes `pg_advisory_xact_lock(user_id)`
  (held until commit): one user's updates apply one at a time across instances;
- a unit of work that ends in a VersionConflict (or a deadlock the server broke) is rolled
  back and run again, a bounded number of times (`storage.base.retry_conflicts`);
- no file lock: several processes on one database are the design.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import cache, partial
from typing import Any

import psycopg
from psycopg.errors import DeadlockDetected, ForeignKeyViolation, SerializationFailure
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from flows.ports import Tx, VersionConflict
from flows.records import UserRecord
from storage.base import T, instance_id, require_aware, retry_conflicts
from storage.migrations import MigrationsPending
from storage.pg_migrations import apply_pg_migrations, pending_pg_migrations
from storage.sql import SqlTx
from storage.sqlbase import Cursor

Connection = psycopg.Connection[dict[str, Any]]


@cache
def _dialect(sql: str) -> bytes:
    """The shared SQL's `?` placeholders as psycopg's `%s` (the SQL has no `%` or `?`
    literals)."""
    return sql.replace("?", "%s").encode()


class PgTx(SqlTx):
    """`storage.sql.SqlTx` on one pooled psycopg connection, inside its transaction."""

    ORDER = "seq"
    SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"

    def __init__(
        self, conn: Connection, *, writable: bool, default_language: str, owner: str
    ) -> None:
        super().__init__(writable=writable, default_language=default_language, owner=owner)
        self._conn = conn

    def _execute(self, sql: str, values: tuple[Any, ...]) -> Cursor:
        for value in values:  # timestamptz takes aware instants only
            if isinstance(value, datetime):
                require_aware(value, "a stored instant")
        return self._conn.execute(_dialect(sql), values)

    def _foreign_key_violation(self, error: Exception) -> bool:
        return isinstance(error, ForeignKeyViolation)

    def load_user(self, user_id: int) -> UserRecord | None:
        if self._writable:  # this user's updates, one at a time across instances
            self._run("SELECT pg_advisory_xact_lock(?)", (user_id,))
        return super().load_user(user_id)


class _Retry(VersionConflict):
    """A deadlock or serialization failure: retried like a version conflict."""


class PostgresStore:
    """`storage.base.Store` over a psycopg pool. Create it with `await open(dsn)`."""

    def __init__(self, pool: ConnectionPool[Connection], size: int, default_language: str):
        self._pool = pool
        self._threads = ThreadPoolExecutor(size, thread_name_prefix="complaint-desk-pg")
        self._default_language = default_language
        self._round_trips = 0
        self._statements = 0
        self._closed = False
        self.conflicts_retried = 0
        self.migrations_applied: list[str] = []
        self.owner = instance_id()
        self.database = ""

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        now: datetime | None = None,
        default_language: str,
        size: int = 4,
        migrate: bool = True,
    ) -> PostgresStore:
        """Connect to `dsn` (postgresql://...) and apply pending migrations (without
        `migrate`: none, and MigrationsPending if some are). `now` is unused (the server
        stamps migrations); it is accepted for the same call as SQLite's."""
        del now

        def configure(conn: Connection) -> None:
            conn.execute("SET TIME ZONE 'UTC'")
            conn.commit()

        pool: ConnectionPool[Connection] = ConnectionPool(
            dsn,
            min_size=1,
            max_size=size,
            kwargs={"row_factory": dict_row, "autocommit": False},
            configure=configure,
            open=False,
        )
        store = cls(pool, size, default_language)
        store.database = dsn
        try:
            await store._on_thread(lambda: pool.open(wait=True, timeout=10))
            store.migrations_applied = await store._on_thread(partial(store._migrate, migrate))
        except BaseException:
            await store.close()
            raise
        return store

    def _migrate(self, migrate: bool) -> list[str]:
        with self._pool.connection() as conn:
            conn.autocommit = True  # each migration opens its own transaction
            try:
                if migrate:
                    return apply_pg_migrations(conn)
                pending = pending_pg_migrations(conn)
            finally:
                conn.autocommit = False
        if pending:
            raise MigrationsPending(pending)
        return []

    @property
    def round_trips(self) -> int:
        """Hops to a worker thread made by `transact` and `read`."""
        return self._round_trips

    @property
    def statements(self) -> int:
        return self._statements

    async def _on_thread(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise RuntimeError("the store is closed")
        return await asyncio.get_running_loop().run_in_executor(self._threads, fn)

    def _unit(self, work: Callable[[Tx], T], *, writable: bool) -> T:
        with self._pool.connection() as conn:
            tx = PgTx(
                conn, writable=writable, default_language=self._default_language, owner=self.owner
            )
            try:
                result = work(tx)
                if writable:
                    conn.commit()
            except (DeadlockDetected, SerializationFailure) as error:
                raise _Retry(str(error)) from error
            finally:
                self._statements += tx.statements
                conn.rollback()  # after a commit: nothing to undo; a read ends its snapshot
            return result

    def _retried(self) -> None:
        self.conflicts_retried += 1

    async def transact(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in one transaction on a worker thread (one hop); a VersionConflict or a
        deadlock rolls back and runs it again there, a bounded number of times."""
        self._round_trips += 1
        once = partial(self._unit, work, writable=True)
        return await self._on_thread(lambda: retry_conflicts(once, self._retried))

    async def read(self, work: Callable[[Tx], T]) -> T:
        self._round_trips += 1
        return await self._on_thread(partial(self._unit, work, writable=False))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._threads, self._pool.close)
        self._threads.shutdown(wait=True)
