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
from flows.records import (
    Broadcast,
    ComplaintRecord,
    EvidenceItem,
    EvidenceKind,
    Notification,
    Segment,
    SegmentKind,
    Stage,
    TimelineEntry,
    UserRecord,
)
from storage.migrations import MIGRATIONS, apply_migrations
from storage.sqlite import SqliteStore

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def user(version: int, user_id: int = 1) -> UserRecord:
    return UserRecord(user_id=user_id, language="en", version=version, created_at=T0, updated_at=T0)


async def pragma(store: SqliteStore, name: str) -> Any:
    return await store._on_db_thread(lambda conn: conn.execute(f"PRAGMA {name}").fetchone()[0])


async def test_data_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "desk.sqlite3"
    store = await SqliteStore.open(path, now=T0, default_language="zh-CN")
    try:
        assert store.migrations_applied == [
            "0001_initial",
            "0002_complaint_life",
            "0003_broadcasts",
            "0004_leases",
            "0005_update_outcomes",
            "0006_audit_repeats",
        ]
        await store.transact(lambda tx: tx.save_user(user(1), expected_version=0))
        await store.transact(lambda tx: tx.claim_update(77, T0))
    finally:
        await store.close()

    reopened = await SqliteStore.open(path, default_language="zh-CN")
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
    store = await SqliteStore.open(":memory:", default_language="zh-CN")
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
        # an unclosed connection would fail via ResourceWarning
        await SqliteStore.open(path, default_language="zh-CN")


def filed(number: str, evidence: int = 2, events: int = 2) -> ComplaintRecord:
    return ComplaintRecord(
        number=number,
        user_id=1,
        type_id="fraud",
        target="@shop",
        target_key="@shop",
        description="d",
        evidence=tuple(
            EvidenceItem(kind=EvidenceKind.TEXT, text=str(n), received_at=T0)
            for n in range(evidence)
        ),
        language="en",
        review_due_at=T0,
        timeline=tuple(TimelineEntry(at=T0, kind=f"k{n}") for n in range(events)),
        submitted_at=T0,
    )


async def test_lists_of_complaints_cost_three_statements_not_n_plus_one(
    sqlite_store: SqliteStore,
) -> None:
    def setup(tx: Tx) -> None:
        for n in range(5):
            tx.insert_complaint(filed(f"C-{n}"))

    await sqlite_store.transact(setup)
    for work in (
        lambda tx: tx.complaints_of(1),
        lambda tx: tx.queue(),
        lambda tx: tx.due_complaints(T0),
    ):
        before = sqlite_store.statements
        found = await sqlite_store.read(work)
        assert len(found) == 5
        assert all(len(c.evidence) == 2 and len(c.timeline) == 2 for c in found)
        assert sqlite_store.statements == before + 3  # complaints, evidence, events


async def test_hot_queries_use_their_indexes(sqlite_store: SqliteStore) -> None:
    def plan(sql: str) -> Callable[[sqlite3.Connection], str]:
        def explain(conn: sqlite3.Connection) -> str:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            return " | ".join(str(row[3]) for row in rows)

        return explain

    plans = {
        "complaints_review_due_at": "SELECT * FROM complaints "
        "WHERE review_due_at <= '2' OR remind_at <= '2'",
        "outbox_pending": "SELECT id FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 5",
        "complaint_events_kind_actor_at": "SELECT COUNT(*) FROM complaint_events "
        "WHERE kind = 'revoked' AND actor = 1 AND at >= '1' AND at < '2'",
        "revocation_requests_user_created": "SELECT COUNT(*) FROM revocation_requests "
        "WHERE user_id = 1 AND created_at >= '1' AND created_at < '2'",
        "revocation_requests_complaint_status": "SELECT * FROM revocation_requests "
        "WHERE complaint_number = 'C-1' AND status = 'open'",
        "audit_subject_at": "SELECT * FROM audit WHERE subject = 'C-1' ORDER BY at DESC",
    }
    for index, sql in plans.items():
        assert index in await sqlite_store._on_db_thread(plan(sql)), sql


async def test_mark_sent_keeps_the_first_sent_at(sqlite_store: SqliteStore) -> None:
    later = T0.replace(hour=12)
    await sqlite_store.transact(
        lambda tx: tx.enqueue(Notification(user_id=1, key="k", created_at=T0))
    )
    pending = await sqlite_store.read(lambda tx: tx.pending_notifications())
    number = pending[0][0].id
    assert number is not None
    await sqlite_store.transact(lambda tx: tx.mark_sent([number], T0))
    await sqlite_store.transact(lambda tx: tx.mark_sent([number], later))
    sent_at = await sqlite_store._on_db_thread(
        lambda conn: conn.execute("SELECT sent_at FROM outbox").fetchone()[0]
    )
    assert sent_at == "2025-03-01T09:30:00.000000+00:00"


async def test_0002_upgrades_a_database_with_data(tmp_path: Path) -> None:
    """A database made by 0001 alone, with a user and a complaint, upgrades and still loads."""
    path = tmp_path / "old.sqlite3"
    stamp = "2025-03-01T09:30:00.000000+00:00"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert apply_migrations(conn, stamp, MIGRATIONS[:1]) == ["0001_initial"]
        conn.execute(
            "INSERT INTO users (user_id, language, language_chosen, confirm_twice, state, "
            "nonce, version, created_at, updated_at) VALUES (1, 'en', 1, 0, 'idle', 3, 4, ?, ?)",
            (stamp, stamp),
        )
        conn.execute(
            "INSERT INTO complaints (number, user_id, type_id, target, target_key, "
            "description, language, stage, submitted_at) "
            "VALUES ('C-1', 1, 'fraud', '@Shop', '@shop', 'd', 'en', 'accepted', ?)",
            (stamp,),
        )
        conn.execute(
            "INSERT INTO evidence (complaint_number, position, kind, text, received_at) "
            "VALUES ('C-1', 0, 'text', 'proof', ?)",
            (stamp,),
        )
    finally:
        conn.close()

    store = await SqliteStore.open(path, default_language="zh-CN")
    try:
        assert store.migrations_applied == [
            "0002_complaint_life",
            "0003_broadcasts",
            "0004_leases",
            "0005_update_outcomes",
            "0006_audit_repeats",
        ]
        assert await store.read(lambda tx: tx.load_user(1)) == UserRecord(
            user_id=1,
            language="en",
            language_chosen=True,
            confirm_twice=False,
            nonce=3,
            version=4,
            created_at=T0,
            updated_at=T0,
        )
        old = ComplaintRecord(
            number="C-1",
            user_id=1,
            type_id="fraud",
            target="@Shop",
            target_key="@shop",
            description="d",
            evidence=(EvidenceItem(kind=EvidenceKind.TEXT, text="proof", received_at=T0),),
            language="en",
            stage=Stage.ACCEPTED,
            submitted_at=T0,
        )
        assert await store.read(lambda tx: tx.get_complaint("C-1")) == old  # every default
        # ... and it takes part in its new life from version 0 on.
        moved = old.model_copy(
            update={
                "stage": Stage.INVESTIGATING,
                "timeline": (TimelineEntry(at=T0, kind="investigating", actor=7),),
                "version": 1,
            }
        )
        await store.transact(lambda tx: tx.update_complaint(moved, expected_version=0))
        assert await store.read(lambda tx: tx.complaints_of(1)) == [moved]
    finally:
        await store.close()


async def test_default_language_comes_from_the_caller(tmp_path: Path) -> None:
    """A notification's recipient with no users row gets the language the store was opened
    with (the settings' DEFAULT_LANGUAGE), not a language written into storage."""
    store = await SqliteStore.open(tmp_path / "desk.sqlite3", default_language="en")
    try:
        note = Notification(user_id=77, key="a.stranger", created_at=T0)
        await store.transact(lambda tx: tx.enqueue(note))
        pending = await store.read(lambda tx: tx.pending_notifications())
        assert [language for _, language in pending] == ["en"]
    finally:
        await store.close()


async def test_a_store_that_takes_the_file_expires_the_claims_of_the_dead(tmp_path: Path) -> None:
    """The writer lock proves every earlier holder gone: its broadcast rows in flight are
    recovered at the next start without waiting for their lease, its outbox claims freed."""
    path = tmp_path / "desk.sqlite3"
    store = await SqliteStore.open(path, default_language="zh-CN")

    def setup(tx: Tx) -> int:
        tx.save_user(user(1), 0)
        tx.enqueue(Notification(user_id=1, key="k", created_at=T0))
        created = tx.create_broadcast(
            Broadcast(operator_id=9, segment=Segment(kind=SegmentKind.ALL), created_at=T0)
        )
        assert created.id is not None
        assert tx.claim_deliveries(created.id, 5, T0) == [1]
        assert len(tx.claim_notifications(T0)) == 1
        return created.id

    await store.transact(setup)
    await store.close()  # as if it died: the lock goes with it
    store = await SqliteStore.open(path, default_language="zh-CN")
    try:
        assert await store.transact(lambda tx: tx.recover_in_flight(T0)) == 1
        assert len(await store.transact(lambda tx: tx.claim_notifications(T0))) == 1
    finally:
        await store.close()
