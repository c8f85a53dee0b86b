"""The sweeper on each store: idempotent, at due times, forgets old update ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flows.catalog import load_catalog
from flows.complaints import with_deadlines
from flows.context import Rules
from flows.records import ComplaintRecord, Stage
from flows.sweeper import sweep
from storage.base import Store

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
CATALOG = load_catalog()
RULES = Rules(CATALOG, lambda now: "unused")


def complaint(number: str = "261123-AAAA-BBBB") -> ComplaintRecord:
    return with_deadlines(
        ComplaintRecord(
            number=number,
            user_id=1001,
            type_id="friend_report",
            target="wxid_x",
            target_key="wxid_x",
            description="d" * 20,
            language="en",
            submitted_at=T0,
        ),
        CATALOG,
    )


async def test_due_items_fire_once_at_their_own_time_and_the_next_due_is_returned(
    store: Store,
) -> None:
    await store.transact(lambda tx: tx.insert_complaint(complaint()))
    nxt = await store.transact(lambda tx: sweep(tx, T0 + timedelta(hours=1), RULES))
    assert nxt == T0 + timedelta(hours=2)  # nothing due yet: it says when
    late = T0 + timedelta(hours=5)
    nxt = await store.transact(lambda tx: sweep(tx, late, RULES))
    assert nxt == T0 + timedelta(hours=23)  # the reminder, 1 h before the 24 h window
    stored = await store.read(lambda tx: tx.get_complaint("261123-AAAA-BBBB"))
    assert stored is not None
    assert stored.stage is Stage.MANUAL_REVIEW
    assert stored.timeline[-1].at == T0 + timedelta(hours=2)  # at its due time, not the sweep's
    await store.transact(lambda tx: sweep(tx, late, RULES))  # again: nothing more happens
    notes = await store.read(lambda tx: tx.pending_notifications())
    assert [n.key for n, _ in notes] == ["notify.manual_review"]


async def test_update_ids_older_than_48_hours_are_forgotten(store: Store) -> None:
    assert await store.transact(lambda tx: tx.claim_update(7, T0))
    await store.transact(lambda tx: sweep(tx, T0 + timedelta(hours=47), RULES))
    assert not await store.transact(lambda tx: tx.claim_update(7, T0 + timedelta(hours=47)))
    await store.transact(lambda tx: sweep(tx, T0 + timedelta(hours=49), RULES))
    assert await store.transact(lambda tx: tx.claim_update(7, T0 + timedelta(hours=49)))
