"""Group commit: units of work that arrive while the database thread is busy share one hop
and one COMMIT, each inside its own SAVEPOINT.

With one user at a time nothing changes (a batch of one: one hop, one transaction). With many
users in flight, every unit queued behind a running batch rides the next one: one thread hop,
one `BEGIN IMMEDIATE`, one `COMMIT` (one WAL append) for all of them. Each unit runs inside
`SAVEPOINT unit`; if it raises, `ROLLBACK TO unit` undoes its writes alone and only its
caller gets the error, while the others commit. No result is handed back before the COMMIT
that made it durable. If the transaction itself is lost (COMMIT fails, or SQLite rolled the
whole transaction back after an error), every unit of the batch runs again alone, each in
its own transaction, in the same hop: no one's update fails for another's.

A VersionConflict reruns just that unit (within its savepoint), as `retry_conflicts` does
for a lone transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from flows.ports import Tx
from storage.base import retry_conflicts

BATCH = 64  # units per hop at most (bounds how long one COMMIT holds the write lock)


@dataclass
class Unit:
    work: Callable[[Tx], Any]
    future: asyncio.Future[Any]
    outcome: tuple[bool, Any] = field(default=(False, None))  # (ok, result or exception)


class GroupCommit:
    """Queues units; `hop(batch)` runs a batch on the database thread (see `commit_group`)."""

    def __init__(self, hop: Callable[[list[Unit]], Awaitable[None]]) -> None:
        self._hop = hop
        self._queue: list[Unit] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, work: Callable[[Tx], Any]) -> Any:
        unit = Unit(work, asyncio.get_running_loop().create_future())
        self._queue.append(unit)
        if self._runner is None:
            self._runner = asyncio.create_task(self._drain())
        return await unit.future  # cancelling this does not stop the unit (it still commits)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
                try:
                    await self._hop(batch)
                except BaseException as error:  # the hop itself failed: everyone hears of it
                    for unit in batch:
                        unit.outcome = (False, error)
                for unit in batch:
                    if not unit.future.done():
                        ok, value = unit.outcome
                        if ok:
                            unit.future.set_result(value)
                        else:
                            unit.future.set_exception(value)
        finally:
            self._runner = None


def commit_group(
    conn: sqlite3.Connection,
    batch: list[Unit],
    new_tx: Callable[[], Any],
    retried: Callable[[], None],
) -> None:
    """On the database thread: the batch in one transaction, a savepoint per unit."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        for unit in batch:
            unit.outcome = _in_savepoint(conn, unit, new_tx, retried)
            if not conn.in_transaction:  # SQLite gave the whole transaction up
                raise sqlite3.OperationalError("transaction rolled back")
        conn.execute("COMMIT")
    except BaseException as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if not isinstance(error, Exception):
            raise
        for unit in batch:  # every unit again, alone: one unit's trouble stays its own
            unit.outcome = _alone(conn, unit, new_tx, retried)


def _in_savepoint(
    conn: sqlite3.Connection, unit: Unit, new_tx: Callable[[], Any], retried: Callable[[], None]
) -> tuple[bool, Any]:
    def once() -> Any:
        conn.execute("SAVEPOINT unit")
        try:
            result = unit.work(new_tx())
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
            raise
        conn.execute("RELEASE unit")
        return result

    try:
        return True, retry_conflicts(once, retried)
    except Exception as error:
        return False, error


def _alone(
    conn: sqlite3.Connection, unit: Unit, new_tx: Callable[[], Any], retried: Callable[[], None]
) -> tuple[bool, Any]:
    def once() -> Any:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = unit.work(new_tx())
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    try:
        return True, retry_conflicts(once, retried)
    except Exception as error:
        return False, error
