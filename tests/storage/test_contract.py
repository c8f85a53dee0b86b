"""The `Store` / `Tx` contract, run against every implementation (SQLite and in-memory)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import partial

import pytest

from flows.ports import NumberTaken, Tx, VersionConflict
from flows.records import (
    ComplaintRecord,
    Draft,
    EvidenceItem,
    EvidenceKind,
    Stage,
    UserRecord,
)
from storage.base import ReadOnlyTransaction, Store

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))
BIG_ID = 2**62 + 7  # Telegram ids exceed 32 bits


def item(n: int, kind: EvidenceKind = EvidenceKind.PHOTO) -> EvidenceItem:
    return EvidenceItem(
        kind=kind,
        file_id=f"file-{n}",
        file_unique_id=f"uniq-{n}",
        size=1000 + n,
        mime_type="image/jpeg",
        file_name=f"p{n}.jpg",
        media_group_id="album-1",
        text=f"caption {n}",
        sender="" if kind is not EvidenceKind.FORWARD else "Someone",
        received_at=T0 + timedelta(seconds=n),
    )


def user(user_id: int = 1, version: int = 1, **changes: object) -> UserRecord:
    base = UserRecord(
        user_id=user_id, language="zh-CN", version=version, created_at=T0, updated_at=T0
    )
    return base.model_copy(update=changes)


def complaint(
    number: str,
    *,
    user_id: int = 1,
    type_id: str = "fraud",
    target_key: str = "@shop",
    stage: Stage = Stage.PENDING,
    at: datetime = T0,
    evidence: tuple[EvidenceItem, ...] = (),
) -> ComplaintRecord:
    return ComplaintRecord(
        number=number,
        user_id=user_id,
        type_id=type_id,
        target=target_key.upper(),
        target_key=target_key,
        description="they took my money",
        evidence=evidence,
        language="en",
        stage=stage,
        submitted_at=at,
    )


async def test_claim_update_once(store: Store) -> None:
    assert await store.transact(lambda tx: tx.claim_update(BIG_ID, T0)) is True
    assert await store.transact(lambda tx: tx.claim_update(BIG_ID, T0)) is False
    assert await store.transact(lambda tx: [tx.claim_update(5, T0), tx.claim_update(5, T0)]) == [
        True,
        False,
    ]


async def test_user_round_trip_with_draft(store: Store) -> None:
    draft = Draft(
        type_id="fraud",
        target="@shop",
        evidence=(item(1), item(2, EvidenceKind.FORWARD), item(3, EvidenceKind.TEXT)),
        description="details",
        editing=True,
        started_at=datetime(2025, 3, 1, 17, 0, tzinfo=SHANGHAI),
    )
    saved = UserRecord(
        user_id=BIG_ID,
        language="en",
        language_chosen=True,
        confirm_twice=False,
        state="filing_evidence",
        draft=draft,
        nonce=12,
        version=1,
        created_at=datetime(2025, 3, 1, 8, 0, tzinfo=SHANGHAI),
        updated_at=T0,
    )
    assert await store.read(lambda tx: tx.load_user(BIG_ID)) is None
    await store.transact(lambda tx: tx.save_user(saved, expected_version=0))
    loaded = await store.read(lambda tx: tx.load_user(BIG_ID))
    assert loaded == saved
    assert loaded is not None
    assert loaded.created_at.utcoffset() is not None
    assert loaded.created_at == datetime(2025, 3, 1, 0, 0, tzinfo=UTC)

    cleared = saved.model_copy(update={"draft": None, "state": "idle", "version": 2})
    await store.transact(lambda tx: tx.save_user(cleared, expected_version=1))
    assert await store.read(lambda tx: tx.load_user(BIG_ID)) == cleared


async def test_version_conflicts(store: Store) -> None:
    await store.transact(lambda tx: tx.save_user(user(version=1), expected_version=0))
    with pytest.raises(VersionConflict):
        await store.transact(lambda tx: tx.save_user(user(version=1), expected_version=0))
    await store.transact(lambda tx: tx.save_user(user(version=2), expected_version=1))
    with pytest.raises(VersionConflict):  # stale: the row is at 2 now
        await store.transact(lambda tx: tx.save_user(user(version=2), expected_version=1))
    with pytest.raises(VersionConflict):  # updating someone who doesn't exist
        await store.transact(lambda tx: tx.save_user(user(9, version=2), expected_version=1))
    loaded = await store.read(lambda tx: tx.load_user(1))
    assert loaded is not None
    assert loaded.version == 2


async def test_rollback_when_work_raises(store: Store) -> None:
    class Boom(Exception):
        pass

    def work(tx: Tx) -> None:
        assert tx.claim_update(1, T0)
        tx.save_user(user(), expected_version=0)
        tx.insert_complaint(complaint("C-1", evidence=(item(1),)))
        raise Boom

    with pytest.raises(Boom):
        await store.transact(work)
    assert await store.read(lambda tx: tx.load_user(1)) is None
    assert await store.read(lambda tx: tx.get_complaint("C-1")) is None
    assert await store.transact(lambda tx: tx.claim_update(1, T0)) is True  # not claimed before


async def test_complaint_round_trip_keeps_evidence_order(store: Store) -> None:
    evidence = (item(3), item(1, EvidenceKind.DOCUMENT), item(2, EvidenceKind.TEXT))
    filed = complaint("C-1", user_id=BIG_ID, evidence=evidence, stage=Stage.MANUAL_REVIEW)
    await store.transact(lambda tx: tx.insert_complaint(filed))
    got = await store.read(lambda tx: tx.get_complaint("C-1"))
    assert got == filed
    assert got is not None
    assert [e.file_id for e in got.evidence] == ["file-3", "file-1", "file-2"]
    assert await store.read(lambda tx: tx.get_complaint("nope")) is None


async def test_number_taken(store: Store) -> None:
    first = complaint("C-1", evidence=(item(1),))
    await store.transact(lambda tx: tx.insert_complaint(first))

    def draw_again(tx: Tx) -> str:
        try:
            tx.insert_complaint(complaint("C-1", user_id=2, evidence=(item(2),)))
        except NumberTaken:
            tx.insert_complaint(complaint("C-2", user_id=2, evidence=(item(2),)))
            return "C-2"
        return "C-1"

    assert await store.transact(draw_again) == "C-2"
    assert await store.read(lambda tx: tx.get_complaint("C-1")) == first
    second = await store.read(lambda tx: tx.get_complaint("C-2"))
    assert second is not None
    assert second.user_id == 2


async def test_find_open_complaint(store: Store) -> None:
    def setup(tx: Tx) -> None:
        tx.insert_complaint(complaint("other-user", user_id=2))
        tx.insert_complaint(complaint("other-type", type_id="spam"))
        tx.insert_complaint(complaint("other-target", target_key="@elsewhere"))
        tx.insert_complaint(complaint("revoked", stage=Stage.REVOKED))
        tx.insert_complaint(complaint("closed", stage=Stage.RESULT_GIVEN))

    await store.transact(setup)

    def find(tx: Tx) -> str | None:
        return tx.find_open_complaint(1, "fraud", "@shop")

    def insert(record: ComplaintRecord, tx: Tx) -> None:
        tx.insert_complaint(record)

    assert await store.read(find) is None
    for stage in (Stage.PENDING, Stage.REVIEW_REQUESTED):
        number = f"open-{stage.value}"
        await store.transact(partial(insert, complaint(number, stage=stage)))
        assert await store.read(find) == number  # newest open one when several


async def test_complaints_of_newest_first(store: Store) -> None:
    def setup(tx: Tx) -> None:
        tx.insert_complaint(complaint("B", at=T0 + timedelta(days=1)))
        tx.insert_complaint(complaint("A", at=T0, evidence=(item(1), item(2))))
        tx.insert_complaint(complaint("D", at=T0 + timedelta(days=2), evidence=(item(5),)))
        tx.insert_complaint(complaint("C", at=T0 + timedelta(days=1)))  # tie: later insert
        tx.insert_complaint(complaint("X", user_id=2, at=T0 + timedelta(days=9)))

    await store.transact(setup)
    mine = await store.read(lambda tx: tx.complaints_of(1))
    assert [c.number for c in mine] == ["D", "C", "B", "A"]
    assert [e.file_id for e in mine[3].evidence] == ["file-1", "file-2"]
    assert [e.file_id for e in mine[0].evidence] == ["file-5"]
    assert await store.read(lambda tx: tx.complaints_of(3)) == []


async def test_one_round_trip_per_unit_of_work(store: Store) -> None:
    def update(tx: Tx) -> None:
        tx.claim_update(1, T0)
        tx.load_user(1)
        tx.save_user(user(), expected_version=0)
        tx.find_open_complaint(1, "fraud", "@shop")
        tx.insert_complaint(complaint("C-1", evidence=(item(1), item(2))))
        tx.complaints_of(1)

    before = store.round_trips
    await store.transact(update)
    assert store.round_trips == before + 1
    await store.read(lambda tx: tx.complaints_of(1))
    assert store.round_trips == before + 2
    with pytest.raises(ZeroDivisionError):
        await store.transact(lambda tx: 1 // 0)
    assert store.round_trips == before + 3


async def test_read_refuses_writes(store: Store) -> None:
    with pytest.raises(ReadOnlyTransaction):
        await store.read(lambda tx: tx.claim_update(1, T0))
    with pytest.raises(ReadOnlyTransaction):
        await store.read(lambda tx: tx.save_user(user(), expected_version=0))
    assert await store.transact(lambda tx: tx.claim_update(1, T0)) is True


async def test_prune_updates(store: Store) -> None:
    def setup(tx: Tx) -> None:
        for n in range(5):
            tx.claim_update(n, T0 + timedelta(hours=n))

    await store.transact(setup)
    pruned = await store.transact(lambda tx: tx.prune_updates(T0 + timedelta(hours=2)))
    assert pruned == 2
    assert await store.transact(lambda tx: [tx.claim_update(n, T0) for n in range(5)]) == [
        True,
        True,
        False,
        False,
        False,
    ]


async def test_naive_datetimes_refused(store: Store) -> None:
    naive = datetime(2025, 3, 1, 9, 30)  # noqa: DTZ001
    with pytest.raises(ValueError, match="aware"):
        await store.transact(lambda tx: tx.claim_update(1, naive))
    with pytest.raises(ValueError, match="aware"):
        await store.transact(lambda tx: tx.insert_complaint(complaint("C-1", at=naive)))


async def test_closed_store_refuses_work(store: Store) -> None:
    await store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await store.transact(lambda tx: tx.load_user(1))
    await store.close()  # idempotent
