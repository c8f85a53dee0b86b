"""The broadcast ledger, run against every store backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows.ports import Tx
from flows.records import (
    Broadcast,
    BroadcastStatus,
    DeliveryState,
    Segment,
    SegmentKind,
    Stage,
)
from storage.base import ReadOnlyTransaction, Store
from storage.sqlbase import DELIVERY_LEASE
from tests.storage.test_contract import T0, complaint, user

LATER = T0 + timedelta(minutes=5)
ALL = Segment(kind=SegmentKind.ALL)


def notice(segment: Segment = ALL, text: str = "Downtime at 23:00") -> Broadcast:
    return Broadcast(operator_id=9001, text=text, segment=segment, created_at=T0)


async def seed(store: Store) -> None:
    """Six users: 1-4 zh-CN, 5-6 en; 3 blocked the bot; complaints for 1 (open payment),
    2 (open fraud), 4 (revoked payment) and 5 (open payment)."""

    def work(tx: Tx) -> None:
        for uid in range(1, 7):
            tx.save_user(user(uid, language="zh-CN" if uid <= 4 else "en", blocked_bot=uid == 3), 0)
        tx.insert_complaint(complaint("N1", user_id=1, type_id="payment"))
        tx.insert_complaint(complaint("N2", user_id=2, type_id="fraud", stage=Stage.ACCEPTED))
        tx.insert_complaint(complaint("N3", user_id=3, type_id="payment"))  # blocked
        tx.insert_complaint(complaint("N4", user_id=4, type_id="payment", stage=Stage.REVOKED))
        tx.insert_complaint(complaint("N5", user_id=5, type_id="payment"))
        tx.insert_complaint(complaint("N6", user_id=5, type_id="payment", target_key="@b"))

    await store.transact(work)


async def create(store: Store, segment: Segment = ALL) -> Broadcast:
    return await store.transact(lambda tx: tx.create_broadcast(notice(segment)))


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        (ALL, [1, 2, 4, 5, 6]),
        (Segment(kind=SegmentKind.LANGUAGE, value="en"), [5, 6]),
        (Segment(kind=SegmentKind.LANGUAGE, value="zh-CN"), [1, 2, 4]),
        (Segment(kind=SegmentKind.OPEN), [1, 2, 5]),
        (Segment(kind=SegmentKind.OPEN_TYPE, value="payment"), [1, 5]),
        (Segment(kind=SegmentKind.OPEN_TYPE, value="judicial"), []),
    ],
)
async def test_audience_and_one_pending_row_per_recipient(
    store: Store, segment: Segment, expected: list[int]
) -> None:
    await seed(store)
    assert await store.read(lambda tx: tx.audience_count(segment)) == len(expected)
    created = await create(store, segment)
    assert created.id is not None
    assert created.total == len(expected)
    bid = created.id
    stored = await store.read(lambda tx: tx.get_broadcast(bid))
    assert stored == created
    rows = await store.read(lambda tx: [tx.get_delivery(bid, uid) for uid in range(1, 7)])
    assert [r.user_id for r in rows if r is not None] == expected
    assert all(r.state is DeliveryState.PENDING and r.attempts == 0 for r in rows if r)
    counts = await store.read(lambda tx: tx.delivery_counts(bid))
    assert counts == {**dict.fromkeys(DeliveryState, 0), DeliveryState.PENDING: len(expected)}


async def test_broadcast_round_trips_with_photo_and_segment(store: Store) -> None:
    b = notice(Segment(kind=SegmentKind.OPEN_TYPE, value="payment"), text="新规则")
    b = b.model_copy(update={"photo_file_id": "photo-1"})
    created = await store.transact(lambda tx: tx.create_broadcast(b))
    assert created.model_copy(update={"id": None, "total": 0}) == b
    assert await store.read(lambda tx: tx.get_broadcast(created.id or 0)) == created
    assert await store.read(lambda tx: tx.get_broadcast(999)) is None


async def test_claim_in_user_id_order_and_batch_sized(store: Store) -> None:
    await seed(store)
    bid = (await create(store)).id or 0
    first = await store.transact(lambda tx: tx.claim_deliveries(bid, 2, LATER))
    second = await store.transact(lambda tx: tx.claim_deliveries(bid, 2, LATER))
    rest = await store.transact(lambda tx: tx.claim_deliveries(bid, 10, LATER))
    assert (first, second, rest) == ([1, 2], [4, 5], [6])
    assert await store.transact(lambda tx: tx.claim_deliveries(bid, 10, LATER)) == []
    row = await store.read(lambda tx: tx.get_delivery(bid, 1))
    assert row is not None
    assert (row.state, row.attempts, row.updated_at) == (DeliveryState.SENDING, 1, LATER)


async def test_outcomes_release_and_counts(store: Store) -> None:
    await seed(store)
    bid = (await create(store)).id or 0

    def work(tx: Tx) -> None:
        tx.claim_deliveries(bid, 5, LATER)
        tx.finish_delivery(bid, 1, DeliveryState.SENT, LATER, message_id=42)
        tx.finish_delivery(bid, 2, DeliveryState.BLOCKED, LATER, error="Forbidden")
        tx.finish_delivery(bid, 4, DeliveryState.FAILED, LATER, error="Bad Request: x")
        tx.release_delivery(bid, 5, LATER)  # a 429: back to pending, the attempt undone

    await store.transact(work)
    sent = await store.read(lambda tx: tx.get_delivery(bid, 1))
    assert sent is not None
    assert (sent.state, sent.message_id) == (DeliveryState.SENT, 42)
    failed = await store.read(lambda tx: tx.get_delivery(bid, 4))
    assert failed is not None
    assert failed.error == "Bad Request: x"
    released = await store.read(lambda tx: tx.get_delivery(bid, 5))
    assert released is not None
    assert (released.state, released.attempts) == (DeliveryState.PENDING, 0)
    counts = await store.read(lambda tx: tx.delivery_counts(bid))
    assert counts[DeliveryState.SENT] == 1
    assert counts[DeliveryState.BLOCKED] == 1
    assert counts[DeliveryState.FAILED] == 1
    assert counts[DeliveryState.PENDING] == 1  # 5 again
    assert counts[DeliveryState.SENDING] == 1  # 6
    # the released row is claimed again, first
    assert await store.transact(lambda tx: tx.claim_deliveries(bid, 1, LATER)) == [5]


async def test_release_only_touches_claimed_rows(store: Store) -> None:
    await seed(store)
    bid = (await create(store)).id or 0

    def work(tx: Tx) -> None:
        tx.claim_deliveries(bid, 1, LATER)
        tx.finish_delivery(bid, 1, DeliveryState.SENT, LATER, message_id=7)
        tx.release_delivery(bid, 1, LATER)  # too late: it was sent

    await store.transact(work)
    row = await store.read(lambda tx: tx.get_delivery(bid, 1))
    assert row is not None
    assert row.state is DeliveryState.SENT


async def test_recover_in_flight_marks_unknown_and_never_resends(store: Store) -> None:
    """THE crash policy: rows left `sending` become `unknown` and are not claimed again."""
    await seed(store)
    a = (await create(store)).id or 0
    b = (await create(store, Segment(kind=SegmentKind.LANGUAGE, value="en"))).id or 0

    def crash_mid_batch(tx: Tx) -> None:
        tx.claim_deliveries(a, 3, LATER)  # 1, 2, 4 claimed
        tx.finish_delivery(a, 1, DeliveryState.SENT, LATER, message_id=1)
        tx.claim_deliveries(b, 1, LATER)  # 5 claimed

    await store.transact(crash_mid_batch)
    # its owner's lease holds: a live sender's rows in flight are not someone else's to judge
    assert await store.transact(lambda tx: tx.recover_in_flight(LATER)) == 0
    expired = LATER + DELIVERY_LEASE
    assert await store.transact(lambda tx: tx.recover_in_flight(expired)) == 3
    assert await store.transact(lambda tx: tx.recover_in_flight(expired)) == 0
    counts = await store.read(lambda tx: tx.delivery_counts(a))
    assert counts[DeliveryState.UNKNOWN] == 2
    assert counts[DeliveryState.SENT] == 1
    assert await store.transact(lambda tx: tx.claim_deliveries(a, 10, LATER)) == [5, 6]
    assert await store.transact(lambda tx: tx.claim_deliveries(b, 10, LATER)) == [6]
    row = await store.read(lambda tx: tx.get_delivery(a, 2))
    assert row is not None
    assert row.state is DeliveryState.UNKNOWN
    assert row.error


async def test_status_changes_and_listing(store: Store) -> None:
    await seed(store)
    first = await create(store)
    second = await create(store)
    assert [b.id for b in await store.read(lambda tx: tx.active_broadcasts())] == [
        first.id,
        second.id,
    ]
    running = frozenset({BroadcastStatus.RUNNING})
    fid, sid = first.id or 0, second.id or 0
    assert await store.transact(
        lambda tx: tx.set_broadcast_status(fid, BroadcastStatus.PAUSED, LATER, running)
    )
    assert not await store.transact(
        lambda tx: tx.set_broadcast_status(fid, BroadcastStatus.DONE, LATER, running)
    )
    assert await store.transact(
        lambda tx: tx.set_broadcast_status(sid, BroadcastStatus.CANCELLED, LATER)
    )
    assert not await store.transact(
        lambda tx: tx.set_broadcast_status(999, BroadcastStatus.DONE, LATER)
    )
    await store.transact(lambda tx: tx.set_progress_message(fid, 77))
    assert await store.read(lambda tx: tx.active_broadcasts()) == []
    listed = await store.read(lambda tx: tx.list_broadcasts(10))
    assert [b.id for b in listed] == [sid, fid]
    assert (listed[0].status, listed[0].finished_at) == (BroadcastStatus.CANCELLED, LATER)
    assert (listed[1].status, listed[1].finished_at) == (BroadcastStatus.PAUSED, None)
    assert listed[1].progress_message_id == 77
    assert [b.id for b in await store.read(lambda tx: tx.list_broadcasts(1))] == [sid]


async def test_the_ledger_is_written_with_its_broadcast_or_not_at_all(store: Store) -> None:
    await seed(store)

    def fails(tx: Tx) -> None:
        tx.create_broadcast(notice())
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.transact(fails)
    assert await store.read(lambda tx: tx.list_broadcasts(10)) == []
    created = await create(store)
    assert created.total == 5


async def test_ledger_writes_refused_when_reading(store: Store) -> None:
    await seed(store)
    bid = (await create(store)).id or 0
    with pytest.raises(ReadOnlyTransaction):
        await store.read(lambda tx: tx.claim_deliveries(bid, 1, LATER))
    with pytest.raises(ReadOnlyTransaction):
        await store.read(lambda tx: tx.create_broadcast(notice()))
    with pytest.raises(ReadOnlyTransaction):
        await store.read(lambda tx: tx.recover_in_flight(LATER))
