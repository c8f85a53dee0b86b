"""Every hot query uses an index: no full scan of complaints, users or deliveries.

Each unit of work below runs through the real store while its statements are recorded;
each recorded statement is then explained by the database itself: SQLite's
`EXPLAIN QUERY PLAN` (a `SCAN` of one of those tables without an index is a full scan),
PostgreSQL's `EXPLAIN` with `enable_seqscan = off` (so a `Seq Scan` appears only where no
index can serve the query). Sizes do not matter to these plans; time is never measured.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from flows.ports import Tx
from flows.records import (
    AccountKind,
    Broadcast,
    DeliveryState,
    RevocationReason,
    RevocationRequest,
    Segment,
    SegmentKind,
    Stage,
)
from storage.base import Store
from storage.postgres import PgTx, _dialect
from storage.sqlbase import SqlBase
from storage.sqlite import SqliteStore, SqliteTx, _params
from tests.storage.test_contract import T0, complaint, user

Statement = tuple[str, tuple[Any, ...]]
WATCHED = ("complaints", "users", "deliveries")
LATER = T0 + timedelta(days=1)
BROADCAST = 1


def seed(tx: Tx) -> None:
    for uid in range(1, 41):
        tx.save_user(user(uid, language="en"), 0)
        c = complaint(f"C-{uid}", user_id=uid, stage=Stage.PENDING, at=T0 + timedelta(hours=uid))
        tx.insert_complaint(c.model_copy(update={"review_due_at": T0 + timedelta(hours=uid)}))
    tx.insert_request(
        RevocationRequest(
            number="R-1",
            complaint_number="C-1",
            user_id=1,
            reason=RevocationReason.SETTLED,
            account_kind=AccountKind.PERSONAL,
            flagged=True,
            created_at=T0,
        )
    )
    tx.create_broadcast(
        Broadcast(operator_id=9, segment=Segment(kind=SegmentKind.ALL), created_at=T0)
    )


HOT: dict[str, Callable[[Tx], object]] = {
    "claim_update": lambda tx: tx.claim_update(77, T0),
    "prune_updates": lambda tx: tx.prune_updates(T0),
    "last_update_id": lambda tx: tx.last_update_id(),
    "load_user": lambda tx: tx.load_user(7),
    "save_user": lambda tx: tx.save_user(user(7, version=2, language="en"), 1),
    "find_open_complaint": lambda tx: tx.find_open_complaint(7, "fraud", "@shop"),
    "get_complaint": lambda tx: tx.get_complaint("C-7"),
    "complaints_of": lambda tx: tx.complaints_of(7),
    "due_complaints": lambda tx: tx.due_complaints(LATER, 10),
    "next_deadline": lambda tx: tx.next_deadline(),
    "queue_flagged": lambda tx: tx.queue(flagged=True),
    "appeals_in": lambda tx: tx.appeals_in(7, T0, LATER),
    "revocations_in": lambda tx: tx.revocations_in(7, T0, LATER),
    "open_request_for": lambda tx: tx.open_request_for("C-1"),
    "open_requests": lambda tx: tx.open_requests(),
    "claim_notifications": lambda tx: tx.claim_notifications(T0),
    "mark_sent": lambda tx: tx.mark_sent([1, 2], T0),
    "audit_log": lambda tx: tx.audit_log("C-1"),
    "active_broadcasts": lambda tx: tx.active_broadcasts(),
    "claim_deliveries": lambda tx: tx.claim_deliveries(BROADCAST, 5, T0),
    "finish_delivery": lambda tx: tx.finish_delivery(BROADCAST, 3, DeliveryState.SENT, T0, 1),
    "release_delivery": lambda tx: tx.release_delivery(BROADCAST, 4, T0),
    "recover_in_flight": lambda tx: tx.recover_in_flight(T0),
    "delivery_counts": lambda tx: tx.delivery_counts(BROADCAST),
    "get_delivery": lambda tx: tx.get_delivery(BROADCAST, 3),
}


@contextmanager
def recording(
    monkeypatch: pytest.MonkeyPatch, tx_class: type[SqlBase]
) -> Iterator[list[Statement]]:
    statements: list[Statement] = []
    original = tx_class._execute

    def execute(self: SqlBase, sql: str, values: tuple[Any, ...]) -> Any:
        statements.append((sql, values))
        return original(self, sql, values)

    with monkeypatch.context() as patch:
        patch.setattr(tx_class, "_execute", execute)
        yield statements


def sqlite_plan(path: str, sql: str, values: tuple[Any, ...]) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}", _params(values)).fetchall()
    return [str(detail) for *_, detail in plan]


def postgres_plan(dsn: str, sql: str, values: tuple[Any, ...]) -> list[str]:
    with psycopg.connect(dsn) as conn:
        conn.execute("SET enable_seqscan = off")  # a Seq Scan now means: no index can serve
        cursor = psycopg.ClientCursor(conn)
        cursor.execute(b"EXPLAIN " + _dialect(sql), values)
        plan = [str(row[0]).strip() for row in cursor.fetchall()]
        conn.rollback()
    return plan


def full_scans(plan: list[str], sql: str) -> list[str]:
    """SQLite: `SCAN users` / `SCAN c` (not `SCAN ... USING INDEX`); PostgreSQL: `Seq Scan
    on users`; only of the watched tables (an alias is resolved through `table AS alias`)."""
    found = []
    for line in plan:
        scan = re.match(r"SCAN (\w+)$", line) or re.search(r"Seq Scan on (\w+)", line)
        if scan and _table(scan.group(1), sql) in WATCHED:
            found.append(line)
    return found


def _table(name: str, sql: str) -> str:
    alias = re.search(rf"(\w+) AS {name}\b", sql)
    return alias.group(1) if alias else name


async def plans_of(
    store: Store, work: Callable[[Tx], object], monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, list[str]]]:
    """Each statement `work` issues through the store, with the database's plan for it."""
    sqlite = isinstance(store, SqliteStore)
    with recording(monkeypatch, SqliteTx if sqlite else PgTx) as statements:
        await store.transact(work)
    explain = sqlite_plan if sqlite else postgres_plan
    return [(sql, explain(str(store.database), sql, values)) for sql, values in statements]


async def test_no_hot_query_scans_a_whole_table(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.transact(seed)
    scans: dict[str, list[str]] = {}
    for name, work in HOT.items():
        plans = await plans_of(store, work, monkeypatch)
        assert plans, name
        for sql, plan in plans:
            if full_scans(plan, sql):
                scans[f"{name}: {sql}"] = full_scans(plan, sql)
    assert scans == {}


def planted_scan(tx: Tx) -> None:
    assert isinstance(tx, SqlBase)
    tx._run("SELECT number FROM complaints AS c WHERE c.description = ?", ("x",))


async def test_the_check_sees_a_full_scan(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = await plans_of(store, planted_scan, monkeypatch)
    assert [bool(full_scans(plan, sql)) for sql, plan in planted] == [True]


async def test_the_flagged_queue_is_driven_by_the_open_flagged_requests(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not by every open complaint: complaints are looked up by number, one per request."""
    await store.transact(seed)
    _, plan = (await plans_of(store, HOT["queue_flagged"], monkeypatch))[0]
    text = " | ".join(plan)
    assert "revocation_requests_open" in text, text
    assert "complaints_stage_submitted" not in text, text
    assert re.search(r"SEARCH c USING INDEX \w+ \(number=\?\)|Index Cond: \(number = ", text), text
