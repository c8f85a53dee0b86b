"""What only the PostgreSQL store has to prove: its dialect of the migrations, selection by
the database setting, per-user order across instances, conflicts retried, the real bot on it.

The contract suite (test_contract.py, test_broadcast_ledger.py) runs on PostgreSQL through
the parametrized `store` fixture; these tests use this run's database (`pg_server`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.app import runtime
from bot.config import Settings
from bot.simulator import Simulator
from flows.ports import Tx
from flows.records import (
    Broadcast,
    ComplaintRecord,
    Notification,
    Segment,
    SegmentKind,
    UserRecord,
)
from storage.factory import open_store
from storage.migrations import MIGRATIONS, MigrationsPending, apply_migrations
from storage.pg_migrations import PG_MIGRATIONS, apply_pg_migrations
from storage.postgres import PgTx, PostgresStore
from storage.sqlite import SqliteStore
from tests import pg
from tests.conftest import OPERATOR
from tests.flows.conversations import file_to_review, submit

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
async def two(pg_server: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores on one database, as two instances of the bot would have."""
    first = await PostgresStore.open(pg_server, default_language="zh-CN")
    second = await PostgresStore.open(pg_server, default_language="zh-CN")
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()
        pg.empty_tables(pg_server)


def test_the_dialects_have_the_same_migrations_in_the_same_order() -> None:
    assert [name for name, _ in PG_MIGRATIONS] == [name for name, _ in MIGRATIONS]


async def test_the_database_setting_picks_the_store(pg_server: str, tmp_path: Path) -> None:
    settings = Settings(database=pg_server)
    assert settings.database == pg_server  # a DSN stays a string (a Path folds its //)
    assert Settings(database=str(tmp_path / "x.sqlite3")).database == tmp_path / "x.sqlite3"
    store = await open_store(settings.database, default_language="zh-CN")
    assert isinstance(store, PostgresStore)
    await store.close()
    again = await open_store(settings.database, default_language="zh-CN")
    assert again.migrations_applied == []  # type: ignore[attr-defined]  # all applied once
    await again.close()
    store = await open_store(tmp_path / "x.sqlite3", default_language="zh-CN")
    assert isinstance(store, SqliteStore)
    await store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    """A database of each backend with no schema at all (PostgreSQL: a scratch one)."""
    if request.param == "sqlite":
        yield tmp_path / "behind.sqlite3"
        return
    pg.require_server()
    with pg.scratch_database() as dsn:
        yield dsn


def migrate_all_but_the_last(database: str | Path) -> None:
    if isinstance(database, str):
        with psycopg.connect(database, autocommit=True) as conn:
            apply_pg_migrations(conn, PG_MIGRATIONS[:-1])
    else:
        with closing(sqlite3.connect(database, isolation_level=None)) as conn:
            apply_migrations(conn, "2025-03-01T09:30:00.000000+00:00", MIGRATIONS[:-1])


async def test_without_migrating_a_database_behind_is_refused_until_migrated(
    empty_database: str | Path,
) -> None:
    """MIGRATE_ON_START=false: opening migrates nothing and names what is pending; once
    migrated, the store opens and works."""
    names = [name for name, _ in MIGRATIONS]
    with pytest.raises(MigrationsPending, match="complaint-desk migrate") as empty:
        await open_store(empty_database, default_language="zh-CN", migrate=False)
    assert empty.value.pending == names
    migrate_all_but_the_last(empty_database)
    with pytest.raises(MigrationsPending) as behind:
        await open_store(empty_database, default_language="zh-CN", migrate=False)
    assert behind.value.pending == names[-1:]
    migrated = await open_store(empty_database, default_language="zh-CN")
    assert migrated.migrations_applied == names[-1:]  # type: ignore[attr-defined]
    await migrated.close()
    store = await open_store(empty_database, default_language="zh-CN", migrate=False)
    try:
        assert store.migrations_applied == []  # type: ignore[attr-defined]
        saved = UserRecord(user_id=5, language="en", version=1, created_at=T0, updated_at=T0)
        await store.transact(lambda tx: tx.save_user(saved, 0))
        assert await store.read(lambda tx: tx.load_user(5)) is not None
    finally:
        await store.close()


def until_someone_waits_for_an_advisory_lock(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        while (conn.execute(query).fetchone() or (0,))[0] == 0:
            time.sleep(0.01)


async def test_one_users_updates_apply_one_at_a_time_across_instances(
    two: tuple[PostgresStore, PostgresStore], pg_server: str
) -> None:
    first, second = two
    user = UserRecord(user_id=6_000_000_000, language="en", created_at=T0, updated_at=T0)
    await first.transact(lambda tx: tx.save_user(user.model_copy(update={"version": 1}), 0))
    holding, release = threading.Event(), threading.Event()

    def bump(tx: Tx, *, wait: bool) -> int:
        loaded = tx.load_user(user.user_id)  # takes the user's advisory lock
        assert loaded is not None
        if wait:
            holding.set()
            release.wait()
        tx.save_user(loaded.model_copy(update={"version": loaded.version + 1}), loaded.version)
        return loaded.version

    held = asyncio.create_task(first.transact(lambda tx: bump(tx, wait=True)))
    await asyncio.to_thread(holding.wait)
    queued = asyncio.create_task(second.transact(lambda tx: bump(tx, wait=False)))
    # the second instance waits for the first (polled in pg_locks, not timed)
    await asyncio.to_thread(until_someone_waits_for_an_advisory_lock, pg_server)
    assert not queued.done()
    release.set()
    assert await held == 1
    assert await queued == 2  # it loaded after the first committed: no conflict, no retry
    assert (first.conflicts_retried, second.conflicts_retried) == (0, 0)


async def test_a_concurrent_writer_causes_a_retry_not_an_error(
    two: tuple[PostgresStore, PostgresStore], pg_server: str
) -> None:
    first, _ = two
    complaint = ComplaintRecord(
        number="C-1",
        user_id=1,
        type_id="fraud",
        target="X",
        target_key="x",
        description="d",
        language="en",
        submitted_at=T0,
    )
    await first.transact(lambda tx: tx.insert_complaint(complaint))
    attempts: list[int] = []

    def review(tx: Tx) -> int:
        loaded = tx.get_complaint("C-1")
        assert loaded is not None
        attempts.append(loaded.version)
        if len(attempts) == 1:  # another instance commits a change between load and save
            with psycopg.connect(pg_server, autocommit=True) as other:
                other.execute("UPDATE complaints SET version = version + 1")
        tx.update_complaint(
            loaded.model_copy(update={"version": loaded.version + 1}), loaded.version
        )
        return loaded.version + 1

    assert await first.transact(review) == 2
    assert attempts == [0, 1]
    assert first.conflicts_retried == 1


@pytest.fixture
def settings(pg_server: str) -> Iterator[Settings]:
    """The `sim` fixture's settings, on this run's PostgreSQL database (emptied after)."""
    yield Settings(database=pg_server, operator_ids=frozenset({OPERATOR}), sweep_seconds=3600)
    pg.empty_tables(pg_server)


async def test_a_whole_filing_conversation_on_postgresql(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, pg_server: str
) -> None:
    """One hop per update, and a version conflict met on the way is retried, never shown."""
    store = runtime(sim.app).store
    assert isinstance(store, PostgresStore)
    user = sim.user(1001, "Lin", language_code="en")
    before = store.round_trips
    await file_to_review(user)
    original: Callable[[PgTx, UserRecord, int], None] = PgTx.save_user
    interfered: list[int] = []

    def save_user(tx: PgTx, record: UserRecord, expected_version: int) -> None:
        if not interfered:  # once: another instance wrote this user meanwhile
            interfered.append(expected_version)
            with psycopg.connect(pg_server, autocommit=True) as other:
                other.execute("UPDATE users SET version = version + 1 WHERE user_id = 1001")
        original(tx, record, expected_version)

    monkeypatch.setattr(PgTx, "save_user", save_user)
    number = await submit(user)  # the first tap meets the conflict and is retried
    assert store.conflicts_retried == 1
    assert store.round_trips - before == 10  # the retry ran in the same hop
    stored = await store.read(lambda tx: tx.get_complaint(number))
    assert stored is not None
    assert stored.user_id == 1001


async def test_concurrent_claims_skip_each_others_rows_without_waiting(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    """Two instances claiming at the same moment (FOR UPDATE SKIP LOCKED): while the first
    transaction still holds its rows, the second takes the next ones, outbox, ledger and due
    complaints alike (so two sweepers never collide)."""
    first, second = two

    def setup(tx: Tx) -> int:
        for uid in range(1, 5):
            tx.save_user(UserRecord(user_id=uid, language="en", created_at=T0, updated_at=T0), 0)
            tx.enqueue(Notification(user_id=uid, key=f"k{uid}", created_at=T0))
            due = ComplaintRecord(
                number=f"C-{uid}",
                user_id=uid,
                type_id="fraud",
                target="X",
                target_key="x",
                description="d",
                language="en",
                submitted_at=T0,
                review_due_at=T0,
            )
            tx.insert_complaint(due)
        created = tx.create_broadcast(
            Broadcast(operator_id=9, segment=Segment(kind=SegmentKind.ALL), created_at=T0)
        )
        assert created.id is not None
        return created.id

    bid = await first.transact(setup)
    holding, release = threading.Event(), threading.Event()

    def claim(tx: Tx, *, hold: bool) -> tuple[list[str], list[int], list[str]]:
        notes = [n.key for n, _ in tx.claim_notifications(T0, 2)]
        rows = tx.claim_deliveries(bid, 2, T0)
        due = [c.number for c in tx.due_complaints(T0, 2)]
        if hold:
            holding.set()
            release.wait()
        return notes, rows, due

    held = asyncio.create_task(first.transact(lambda tx: claim(tx, hold=True)))
    await asyncio.to_thread(holding.wait)
    try:
        assert await second.transact(lambda tx: claim(tx, hold=False)) == (
            ["k3", "k4"],
            [3, 4],
            ["C-3", "C-4"],
        )
    finally:
        release.set()
    assert await held == (["k1", "k2"], [1, 2], ["C-1", "C-2"])
