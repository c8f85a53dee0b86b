"""Several instances on one database: claims with an owner and a lease, on every backend.

A second store opened on the same database plays another instance (on SQLite both live in
this process, which the writer lock allows; on PostgreSQL they are two connection pools).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from flows.ports import Tx
from flows.records import Broadcast, DeliveryState, Notification, Segment, SegmentKind
from storage.base import Store
from storage.factory import open_store
from storage.sqlbase import DELIVERY_LEASE, OUTBOX_LEASE
from tests.storage.test_contract import T0, user

LATER = T0 + timedelta(minutes=5)


@pytest.fixture
async def other(store: Store) -> AsyncIterator[Store]:
    """Another instance on the same database as `store`."""
    opened = await open_store(store.database, default_language="zh-CN")
    try:
        yield opened
    finally:
        await opened.close()


async def enqueue(store: Store, count: int) -> None:
    def work(tx: Tx) -> None:
        for n in range(count):
            tx.enqueue(Notification(user_id=n + 1, key=f"k{n}", created_at=T0))

    await store.transact(work)


async def claimed(store: Store, at: timedelta = timedelta(), limit: int = 2) -> list[str]:
    batch = await store.transact(lambda tx: tx.claim_notifications(LATER + at, limit))
    return [note.key for note, _ in batch]


async def test_instances_claim_disjoint_notifications_until_a_lease_expires(
    store: Store, other: Store
) -> None:
    await enqueue(store, 5)
    assert await claimed(store) == ["k0", "k1"]
    assert await claimed(other) == ["k2", "k3"]  # k0, k1 are leased to the first
    assert await claimed(store, limit=10) == ["k0", "k1", "k4"]  # its own again, and the rest
    ids = [n.id for n, _ in await store.read(lambda tx: tx.pending_notifications(10))]
    await store.transact(lambda tx: tx.mark_sent([i for i in ids[:2] if i is not None], LATER))
    assert await claimed(other, limit=10) == ["k2", "k3"]  # k4 is the first's until expiry
    # the first instance died: once its lease is over, the other takes its unsent rows
    assert await claimed(other, OUTBOX_LEASE, limit=10) == ["k2", "k3", "k4"]
    assert await claimed(store, OUTBOX_LEASE, limit=10) == []


async def test_only_rows_of_an_expired_lease_are_recovered(store: Store, other: Store) -> None:
    def setup(tx: Tx) -> int:
        for uid in range(1, 5):
            tx.save_user(user(uid), 0)
        created = tx.create_broadcast(
            Broadcast(operator_id=9001, segment=Segment(kind=SegmentKind.ALL), created_at=T0)
        )
        assert created.id is not None
        return created.id

    bid = await store.transact(setup)
    assert await store.transact(lambda tx: tx.claim_deliveries(bid, 2, LATER)) == [1, 2]
    assert await other.transact(lambda tx: tx.claim_deliveries(bid, 1, LATER)) == [3]
    # a restart of the second instance must not judge the first one's batch in flight
    assert await other.transact(lambda tx: tx.recover_in_flight(LATER)) == 0
    one_dead = LATER + timedelta(seconds=1) + DELIVERY_LEASE
    assert await other.transact(lambda tx: tx.recover_in_flight(one_dead)) == 3
    counts = await store.read(lambda tx: tx.delivery_counts(bid))
    assert (counts[DeliveryState.UNKNOWN], counts[DeliveryState.PENDING]) == (3, 1)
