"""What only the SQLite store has to prove: durability, pragmas, one hop, no interleaving."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiosqlite
import pytest

from flows.ports import Tx
from flows.records import UserRecord
from storage.sqlite import SqliteStore

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def user(version: int, user_id: int = 1) -> UserRecord:
    return UserRecord(user_id=user_id, language="en", version=version, created_at=T0, updated_at=T0)


async def pragma(store: SqliteStore, name: str) -> Any:
    return await store._on_db_thread(lambda conn: conn.execute(f"PRAGMA {name}").fetchone()[0])


async def test_data_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "desk.sqlite3"
    store = await SqliteStore.open(path, now=T0)
    try:
        assert store.migrations_applied == ["0001_initial"]
        await store.transact(lambda tx: tx.save_user(user(1), expected_version=0))
        await store.transact(lambda tx: tx.claim_update(77, T0))
    finally:
        await store.close()

    reopened = await SqliteStore.open(path)
    try:
        assert reopened.migrations_applied == []
        assert await reopened.read(lambda tx: tx.load_user(1)) == user(1)
        assert await reopened.transact(lambda tx: tx.claim_update(77, T0)) is False
    finally:
        await reopened.close()


async def test_pragmas(sqlite_store: SqliteStore) -> None:
    assert await pragma(sqlite_store, "journal_mode") == "wal"
    assert await pragma(sqlite_store, "foreign_keys") == 1
    assert await pragma(sqlite_store, "synchronous") == 1  # NORMAL
    assert await pragma(sqlite_store, "busy_timeout") == 5000


async def test_foreign_keys_enforced(sqlite_store: SqliteStore) -> None:
    def orphan(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO evidence (complaint_number, position, kind, received_at) "
            "VALUES ('missing', 0, 'text', '2025-01-01T00:00:00.000000+00:00')"
        )

    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await sqlite_store._on_db_thread(orphan)


async def test_in_memory_database() -> None:
    store = await SqliteStore.open(":memory:")
    try:
        assert await store.transact(lambda tx: tx.claim_update(1, T0)) is True
        assert await pragma(store, "foreign_keys") == 1
    finally:
        await store.close()


async def test_concurrent_units_of_work_never_interleave(sqlite_store: SqliteStore) -> None:
    await sqlite_store.transact(lambda tx: tx.save_user(user(1, user_id=5), expected_version=0))

    def bump(tx: Tx) -> int:
        current = tx.load_user(5)
        assert current is not None
        tx.save_user(current.model_copy(update={"version": current.version + 1}), current.version)
        return current.version + 1

    results = await asyncio.gather(*(sqlite_store.transact(bump) for _ in range(50)))
    assert sorted(results) == list(range(2, 52))
    final = await sqlite_store.read(lambda tx: tx.load_user(5))
    assert final is not None
    assert final.version == 51  # 1 from the insert + 50 bumps, none lost to interleaving


async def test_one_hop_per_unit_of_work(
    sqlite_store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards the private aiosqlite API `_on_db_thread` relies on (pinned 0.22.1)."""
    hops: list[Callable[[], Any]] = []
    original = cast(
        Callable[[aiosqlite.Connection, Callable[[], Any]], Awaitable[Any]],
        aiosqlite.Connection._execute,
    )

    async def counting(self: aiosqlite.Connection, fn: Callable[[], Any]) -> Any:
        hops.append(fn)
        return await original(self, fn)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)

    def update(tx: Tx) -> None:
        assert tx.claim_update(1, T0)
        assert tx.load_user(1) is None
        tx.save_user(user(1), expected_version=0)
        tx.complaints_of(1)

    before = (sqlite_store.round_trips, sqlite_store.statements)
    await sqlite_store.transact(update)
    assert len(hops) == 1
    assert sqlite_store.round_trips == before[0] + 1
    assert sqlite_store.statements == before[1] + 4


async def test_failed_unit_leaves_no_open_transaction(sqlite_store: SqliteStore) -> None:
    with pytest.raises(ZeroDivisionError):
        await sqlite_store.transact(lambda tx: (tx.claim_update(1, T0), 1 // 0))
    assert await sqlite_store._on_db_thread(lambda conn: conn.in_transaction) is False
    assert await sqlite_store.transact(lambda tx: tx.claim_update(1, T0)) is True


async def test_open_closes_connection_when_setup_fails(tmp_path: Path) -> None:
    path = tmp_path / "not-a-db.sqlite3"
    path.write_bytes(b"this is not a database file" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        await SqliteStore.open(path)  # an unclosed connection would fail via ResourceWarning
