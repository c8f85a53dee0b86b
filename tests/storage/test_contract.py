"""The `Store` / `Tx` contract, run against every store backend (see the `store` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest

from flows.ports import NumberTaken, Tx, VersionConflict
from flows.records import (
    AccountKind,
    AuditEntry,
    ComplaintRecord,
    Draft,
    EvidenceItem,
    EvidenceKind,
    Notification,
    RequestStatus,
    RevocationReason,
    RevocationRequest,
    Stage,
    Task,
    TimelineEntry,
    UserRecord,
)
from storage.base import CONFLICT_ATTEMPTS, ReadOnlyTransaction, Store

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


async def test_an_updates_kept_answer_lives_until_it_is_forgotten(store: Store) -> None:
    def claim(tx: Tx) -> None:
        assert tx.claim_update(7, T0)
        assert tx.claim_update(8, T0)
        tx.keep_outcome(7, '{"answer": "seven"}')

    await store.transact(claim)
    assert await store.read(lambda tx: tx.kept_outcome(7)) == '{"answer": "seven"}'
    assert await store.read(lambda tx: tx.kept_outcome(8)) is None  # nothing kept
    assert await store.read(lambda tx: tx.kept_outcome(9)) is None  # never claimed
    await store.transact(lambda tx: tx.forget_outcomes([7, 8, 9]))
    assert await store.read(lambda tx: tx.kept_outcome(7)) is None


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


async def test_a_version_conflict_is_retried_in_a_fresh_transaction(store: Store) -> None:
    """Another writer came between load and save: the store rolls the unit back and runs it
    again (the caller never sees the conflict); a conflict every time is let through."""
    await store.transact(lambda tx: tx.save_user(user(version=1), expected_version=0))
    runs: list[int] = []

    def work(tx: Tx) -> int:
        runs.append(len(runs))
        tx.audit(AuditEntry(at=T0, actor=1, action="tried", subject=f"run-{len(runs)}"))
        loaded = tx.load_user(1)
        assert loaded is not None
        stale = loaded.version - 1 if len(runs) == 1 else loaded.version  # first: stale
        tx.save_user(loaded.model_copy(update={"version": loaded.version + 1}), stale)
        return loaded.version + 1

    assert await store.transact(work) == 2
    assert runs == [0, 1]
    assert [e.subject for e in await store.read(lambda tx: tx.audit_log())] == ["run-2"]

    def always_stale(tx: Tx) -> None:
        runs.append(len(runs))
        tx.save_user(user(version=9), expected_version=7)

    runs.clear()
    with pytest.raises(VersionConflict):
        await store.transact(always_stale)
    assert len(runs) == CONFLICT_ATTEMPTS
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


# --- a complaint's life ----------------------------------------------------------------------

H = timedelta(hours=1)


def entry(kind: str, at: datetime, actor: int | None = None, text: str = "") -> TimelineEntry:
    return TimelineEntry(at=at, kind=kind, actor=actor, text=text)


def request(
    number: str,
    complaint_number: str,
    *,
    user_id: int = 1,
    at: datetime = T0,
    flagged: bool = False,
    status: RequestStatus = RequestStatus.OPEN,
) -> RevocationRequest:
    return RevocationRequest(
        number=number,
        complaint_number=complaint_number,
        user_id=user_id,
        reason=RevocationReason.SETTLED,
        account_kind=AccountKind.PERSONAL,
        flagged=flagged,
        status=status,
        created_at=at,
    )


async def insert(store: Store, *records: ComplaintRecord | RevocationRequest) -> None:
    def work(tx: Tx) -> None:
        for record in records:
            if isinstance(record, ComplaintRecord):
                tx.insert_complaint(record)
            else:
                tx.insert_request(record)

    await store.transact(work)


async def test_user_with_task_round_trips(store: Store) -> None:
    task = Task(
        flow="revoke",
        state="materials",
        data={"complaint": "C-1", "reason": "settled", "nested": {"n": [1, 2.5, None, "是"]}},
        materials=(item(1), item(2, EvidenceKind.TEXT)),
    )
    saved = user(BIG_ID, state="task", task=task, blocked_bot=True)
    await store.transact(lambda tx: tx.save_user(saved, expected_version=0))
    loaded = await store.read(lambda tx: tx.load_user(BIG_ID))
    assert loaded == saved
    assert loaded is not None
    assert loaded.task == task
    assert loaded.blocked_bot is True

    done = saved.model_copy(update={"task": None, "blocked_bot": False, "version": 2})
    await store.transact(lambda tx: tx.save_user(done, expected_version=1))
    assert await store.read(lambda tx: tx.load_user(BIG_ID)) == done


async def test_complaint_life_fields_round_trip(store: Store) -> None:
    filed = complaint("C-1", evidence=(item(1), item(2))).model_copy(
        update={
            "stage": Stage.INVESTIGATING,
            "review_due_at": T0 + H,
            "revocable_until": datetime(2025, 3, 8, 18, 0, tzinfo=SHANGHAI),
            "remind_at": T0 + 20 * H,
            "operator_id": BIG_ID,
            "result_text": "结果",
            "reviews_requested": 2,
            "loss_reported": True,
            "revoked_at": T0 + 2 * H,
            "timeline": (
                entry("submitted", T0, 1),
                entry("picked_up", T0 + H, BIG_ID),
                entry("result_given", T0 + 2 * H, BIG_ID, "结果"),
            ),
            "version": 3,
        }
    )
    bare = complaint("C-2", at=T0 + H)  # every new field at its default
    await insert(store, filed, bare)
    assert await store.read(lambda tx: tx.get_complaint("C-1")) == filed
    assert await store.read(lambda tx: tx.get_complaint("C-2")) == bare
    assert await store.read(lambda tx: tx.complaints_of(1)) == [bare, filed]


async def test_update_complaint_version_conflict(store: Store) -> None:
    filed = complaint("C-1")
    await insert(store, filed)
    moved = filed.model_copy(update={"stage": Stage.MANUAL_REVIEW, "version": 1})
    await store.transact(lambda tx: tx.update_complaint(moved, expected_version=0))
    stale = filed.model_copy(update={"stage": Stage.REVOKED, "version": 1})
    with pytest.raises(VersionConflict):  # the row is at 1 now
        await store.transact(lambda tx: tx.update_complaint(stale, expected_version=0))
    absent = complaint("nope").model_copy(update={"version": 1})
    with pytest.raises(VersionConflict):
        await store.transact(lambda tx: tx.update_complaint(absent, expected_version=0))
    assert await store.read(lambda tx: tx.get_complaint("C-1")) == moved
    assert await store.read(lambda tx: tx.get_complaint("nope")) is None


async def test_update_complaint_appends_timeline_and_keeps_what_was_filed(store: Store) -> None:
    filed = complaint("C-1", evidence=(item(1), item(2))).model_copy(
        update={"timeline": (entry("submitted", T0, 1),), "review_due_at": T0 + H}
    )
    await insert(store, filed)

    first = filed.model_copy(
        update={
            "stage": Stage.MANUAL_REVIEW,
            "review_due_at": None,
            "timeline": (*filed.timeline, entry("manual_review", T0 + H)),
            "version": 1,
        }
    )
    await store.transact(lambda tx: tx.update_complaint(first, expected_version=0))
    second = first.model_copy(
        update={
            "stage": Stage.RESULT_GIVEN,
            "operator_id": 7,
            "result_text": "refunded",
            "timeline": (
                *first.timeline,
                entry("picked_up", T0 + 2 * H, 7),
                entry("result_given", T0 + 3 * H, 7, "refunded"),
            ),
            "version": 2,
        }
    )
    await store.transact(lambda tx: tx.update_complaint(second, expected_version=1))
    got = await store.read(lambda tx: tx.get_complaint("C-1"))
    assert got == second
    assert got is not None
    assert [e.kind for e in got.timeline] == [
        "submitted",
        "manual_review",
        "picked_up",
        "result_given",
    ]

    # Stored entries, evidence and what was filed never change; only new entries are added.
    meddled = second.model_copy(
        update={
            "description": "changed",
            "evidence": (item(9),),
            "timeline": (
                entry("rewritten", T0),
                *second.timeline[1:],
                entry("review_requested", T0 + 4 * H, 1),
            ),
            "stage": Stage.REVIEW_REQUESTED,
            "reviews_requested": 1,
            "version": 3,
        }
    )
    await store.transact(lambda tx: tx.update_complaint(meddled, expected_version=2))
    got = await store.read(lambda tx: tx.get_complaint("C-1"))
    assert got == second.model_copy(
        update={
            "timeline": (*second.timeline, entry("review_requested", T0 + 4 * H, 1)),
            "stage": Stage.REVIEW_REQUESTED,
            "reviews_requested": 1,
            "version": 3,
        }
    )


async def test_due_complaints(store: Store) -> None:
    now = T0 + 2 * H

    def due(number: str, review: datetime | None, remind: datetime | None) -> ComplaintRecord:
        return complaint(number).model_copy(update={"review_due_at": review, "remind_at": remind})

    await insert(
        store,
        due("review-1h", T0 + H, None),
        due("remind-30m", None, T0 + H / 2),
        due("review-later", T0 + 3 * H, None),
        due("nothing-due", None, None),
        due("remind-now", None, now),  # at `now` counts as due
        due("review-1h-tie", T0 + H, None),  # same instant: in order of filing
        due("remind-due-review-later", T0 + 5 * H, T0 + H + H / 2),
        due("remind-later", None, T0 + 9 * H),
    )
    found = await store.read(lambda tx: tx.due_complaints(now))
    assert [c.number for c in found] == [
        "remind-30m",
        "review-1h",
        "review-1h-tie",
        "remind-due-review-later",
        "remind-now",
    ]
    limited = await store.read(lambda tx: tx.due_complaints(now, limit=2))
    assert [c.number for c in limited] == ["remind-30m", "review-1h"]
    assert await store.read(lambda tx: tx.due_complaints(T0)) == []
    assert await store.read(lambda tx: tx.next_deadline()) == T0 + H / 2


@pytest.mark.parametrize(
    ("review", "remind", "expected"),
    [(None, None, None), (3, None, 3), (None, 2, 2), (3, 2, 2), (1, 2, 1)],
)
async def test_next_deadline_is_the_earliest_of_either_kind(
    store: Store, review: int | None, remind: int | None, expected: int | None
) -> None:
    """Either deadline may be absent everywhere (a bare scalar MIN(a, b) would give NULL)."""

    def hours(n: int | None) -> datetime | None:
        return None if n is None else T0 + n * H

    await insert(
        store,
        complaint("C-1").model_copy(update={"review_due_at": hours(review)}),
        complaint("C-2").model_copy(update={"remind_at": hours(remind)}),
        complaint("C-3"),
    )
    assert await store.read(lambda tx: tx.next_deadline()) == hours(expected)


async def test_queue(store: Store) -> None:
    def filed(number: str, stage: Stage, hours: int, type_id: str = "fraud") -> ComplaintRecord:
        return complaint(number, stage=stage, at=T0 + hours * H, type_id=type_id)

    await insert(
        store,
        filed("investigating", Stage.INVESTIGATING, 3),
        filed("pending", Stage.PENDING, 1),
        filed("spam-manual", Stage.MANUAL_REVIEW, 2, type_id="spam"),
        filed("revoked", Stage.REVOKED, 0),
        filed("result", Stage.RESULT_GIVEN, 0),
        filed("appealed", Stage.REVIEW_REQUESTED, 4),
        filed("accepted", Stage.ACCEPTED, 5),
        request("R-1", "pending", flagged=True),  # open and flagged
        request("R-2", "investigating", flagged=True, status=RequestStatus.REJECTED),
        request("R-3", "appealed"),  # open, not flagged
        request("R-4", "revoked", flagged=True),  # flagged, but on a closed complaint
    )

    async def numbers(**filters: Any) -> list[str]:
        found = await store.read(lambda tx: tx.queue(**filters))
        return [c.number for c in found]

    everything = ["pending", "spam-manual", "investigating", "appealed", "accepted"]
    assert await numbers() == everything
    assert await numbers(limit=2) == everything[:2]
    assert await numbers(stage=Stage.INVESTIGATING) == ["investigating"]
    assert await numbers(stage=Stage.REVOKED) == []  # closed stages are never queued
    assert await numbers(type_id="spam") == ["spam-manual"]
    assert await numbers(type_id="spam", stage=Stage.PENDING) == []
    assert await numbers(flagged=True) == ["pending"]
    assert await numbers(flagged=False) == [
        "spam-manual",
        "investigating",
        "appealed",
        "accepted",
    ]
    assert await numbers(flagged=False, type_id="fraud", limit=1) == ["investigating"]


async def test_queue_is_most_urgent_first_and_pages(store: Store) -> None:
    """Nearest deadline first (review due, or a withdrawal window still open at `now`), then
    those with none, in order of filing; offset pages reach every row; the count agrees."""

    def due(number: str, at: int, review: int | None, window: int | None) -> ComplaintRecord:
        made = complaint(number, at=T0 + at * H)
        return made.model_copy(
            update={
                "review_due_at": None if review is None else T0 + review * H,
                "revocable_until": None if window is None else T0 + window * H,
            }
        )

    await insert(
        store,
        due("none-early", 0, None, None),
        due("window-10", 1, None, 10),
        due("review-5", 2, 5, 30),
        due("window-past", 3, None, 1),  # closed at `now` (2 h): no longer a deadline
        due("review-8-window-6", 4, 8, 6),
    )
    now = T0 + 2 * H

    async def numbers(**options: Any) -> list[str]:
        found = await store.read(lambda tx: tx.queue(now=now, **options))
        return [c.number for c in found]

    everything = ["review-5", "review-8-window-6", "window-10", "none-early", "window-past"]
    assert await numbers() == everything
    pages = [await numbers(limit=2, offset=offset) for offset in (0, 2, 4, 6)]
    assert pages == [everything[:2], everything[2:4], everything[4:], []]
    assert await store.read(lambda tx: tx.queue_count()) == 5
    assert await store.read(lambda tx: tx.queue_count(stage=Stage.ACCEPTED)) == 0


async def test_find_complaints(store: Store) -> None:
    await insert(
        store,
        complaint("261123-AAAA-0001", user_id=41, target_key="wxid_scammer88", at=T0),
        complaint("261123-BBBB-0002", user_id=42, target_key="happy_noodles", at=T0 + H),
    )

    async def found(text: str) -> list[str]:
        return [c.number for c in await store.read(lambda tx: tx.find_complaints(text))]

    assert await found("261123-aaaa") == ["261123-AAAA-0001"]  # a number's start, any case
    assert await found("SCAMMER") == ["261123-AAAA-0001"]  # the target, any case
    assert await found("42") == ["261123-BBBB-0002"]  # the author's id
    assert await found("money") == ["261123-BBBB-0002", "261123-AAAA-0001"]  # newest first
    assert await found("100%_sure") == []  # LIKE's wildcards are taken literally
    assert await found("noodles") == ["261123-BBBB-0002"]


async def test_export_batches_read_every_row_once(store: Store) -> None:
    rows = [complaint(f"C-{n:03}", at=T0 + (n // 3) * H) for n in range(20)]  # ties in time
    rows[5] = rows[5].model_copy(update={"stage": Stage.ACCEPTED})
    await insert(store, *rows, complaint("later", at=T0 + 100 * H))
    seen: list[str] = []
    after: tuple[datetime, str] | None = None
    end = T0 + 50 * H
    while batch := await store.read(partial(_batch, end=end, after=after)):
        seen += [c.number for c in batch]
        after = (batch[-1].submitted_at, batch[-1].number)
    assert seen == [f"C-{n:03}" for n in range(20)]
    accepted = await store.read(lambda tx: tx.export_batch(T0, end, Stage.ACCEPTED, None, 7))
    assert [c.number for c in accepted] == ["C-005"]


def _batch(tx: Tx, end: datetime, after: tuple[datetime, str] | None) -> list[ComplaintRecord]:
    return tx.export_batch(T0, end, None, after, 7)


async def test_revocation_requests(store: Store) -> None:
    await insert(store, complaint("C-1"), complaint("C-2"), complaint("C-3"))
    materials = (item(1), item(2, EvidenceKind.DOCUMENT))
    made = request("R-1", "C-1").model_copy(
        update={"materials": materials, "account_kind": AccountKind.HK_MACAU}
    )
    await insert(store, made)
    assert await store.read(lambda tx: tx.get_request("R-1")) == made
    assert await store.read(lambda tx: tx.get_request("nope")) is None
    assert await store.read(lambda tx: tx.open_request_for("C-1")) == made
    assert await store.read(lambda tx: tx.open_request_for("C-2")) is None
    with pytest.raises(NumberTaken):
        await insert(store, request("R-1", "C-2"))
    with pytest.raises(LookupError):  # no such complaint
        await insert(store, request("R-9", "missing"))

    decided = made.model_copy(
        update={
            "status": RequestStatus.APPROVED,
            "decided_at": T0 + H,
            "decided_by": 7,
            "decision_text": "ok",
            "flagged": True,
            "reason": RevocationReason.OTHER,  # what the user submitted doesn't change
            "materials": (),
        }
    )
    await store.transact(lambda tx: tx.update_request(decided))
    assert await store.read(lambda tx: tx.get_request("R-1")) == made.model_copy(
        update={
            "status": RequestStatus.APPROVED,
            "decided_at": T0 + H,
            "decided_by": 7,
            "decision_text": "ok",
            "flagged": True,
        }
    )
    assert await store.read(lambda tx: tx.open_request_for("C-1")) is None  # decided
    with pytest.raises(LookupError):
        await store.transact(lambda tx: tx.update_request(request("nope", "C-1")))

    await insert(
        store,
        request("R-2", "C-1", at=T0 + 2 * H),
        request("R-3", "C-2", at=T0 + 3 * H, flagged=True),
        request("R-4", "C-3", at=T0 + H),
        request("R-5", "C-2", at=T0 + 4 * H, flagged=True),
        request("R-6", "C-3", at=T0, status=RequestStatus.REJECTED),
    )
    found = await store.read(lambda tx: tx.open_request_for("C-1"))
    assert found is not None
    assert found.number == "R-2"
    in_order = await store.read(lambda tx: tx.open_requests())
    assert [r.number for r in in_order] == ["R-3", "R-5", "R-4", "R-2"]  # flagged first
    limited = await store.read(lambda tx: tx.open_requests(limit=3))
    assert [r.number for r in limited] == ["R-3", "R-5", "R-4"]


async def test_revocations_in(store: Store) -> None:
    start, end = T0, T0 + 30 * 24 * H

    def revoked(number: str, actor: int, at: datetime) -> ComplaintRecord:
        return complaint(number, user_id=actor).model_copy(
            update={
                "stage": Stage.REVOKED,
                "timeline": (entry("submitted", T0 - H, actor), entry("revoked", at, actor)),
            }
        )

    await insert(
        store,
        complaint("C-1"),
        complaint("C-2", user_id=2),
        revoked("self-in", 1, start),  # counts: the range includes its start
        revoked("self-in-2", 1, end - H),  # counts
        revoked("self-at-end", 1, end),  # the range excludes its end
        revoked("self-before", 1, start - H),
        revoked("other-user", 2, start + H),
        request("R-in", "C-1", at=start + H),  # counts
        request("R-in-decided", "C-1", at=start + 2 * H, status=RequestStatus.REJECTED),  # counts
        request("R-before", "C-1", at=start - H),
        request("R-at-end", "C-1", at=end),
        request("R-other", "C-2", user_id=2, at=start + H),
    )
    # A self-service revocation appended later through update_complaint counts too.
    later = await store.read(lambda tx: tx.get_complaint("C-1"))
    assert later is not None
    revoking = later.model_copy(
        update={
            "stage": Stage.REVOKED,
            "timeline": (*later.timeline, entry("revoked", start + 3 * H, 1)),
            "version": 1,
        }
    )
    await store.transact(lambda tx: tx.update_complaint(revoking, expected_version=0))

    assert await store.read(lambda tx: tx.revocations_in(1, start, end)) == 5
    assert await store.read(lambda tx: tx.revocations_in(2, start, end)) == 2
    assert await store.read(lambda tx: tx.revocations_in(3, start, end)) == 0
    assert await store.read(lambda tx: tx.revocations_in(1, end, end + H)) == 2


async def test_appeals_in(store: Store) -> None:
    start, end = T0, T0 + 24 * H
    appealed = complaint("C-1").model_copy(
        update={
            "timeline": (
                entry("submitted", start - H, 1),
                entry("review_requested", start - H / 2, 1),  # before the range
                entry("review_requested", start, 1),
                entry("revoked", start + H, 1),  # another kind
                entry("review_requested", start + 2 * H, 7),  # another actor
                entry("review_requested", end - H, 1),
                entry("review_requested", end, 1),  # the range excludes its end
            )
        }
    )
    await insert(store, appealed, complaint("C-2", user_id=7))
    assert await store.read(lambda tx: tx.appeals_in(1, start, end)) == 2
    assert await store.read(lambda tx: tx.appeals_in(7, start, end)) == 1
    assert await store.read(lambda tx: tx.appeals_in(2, start, end)) == 0


# --- outbox and audit ------------------------------------------------------------------------


async def test_outbox(store: Store) -> None:
    await store.transact(lambda tx: tx.save_user(user(1, language="en"), expected_version=0))
    params = {"number": "C-1", "note": "已撤销", "nested": {"list": [1, None, True]}}

    def enqueue(tx: Tx) -> None:
        tx.enqueue(Notification(user_id=1, key="complaint.moved", params=params, created_at=T0))
        tx.enqueue(Notification(user_id=BIG_ID, key="a.stranger", created_at=T0 + H))
        tx.enqueue(Notification(id=999, user_id=1, key="third", created_at=T0 + 2 * H))

    await store.transact(enqueue)
    pending = await store.read(lambda tx: tx.pending_notifications())
    assert [(n.key, language) for n, language in pending] == [
        ("complaint.moved", "en"),
        ("a.stranger", "zh-CN"),  # no users row: the default language
        ("third", "en"),
    ]
    first, stranger, third = (n for n, _ in pending)
    assert first == Notification(
        id=first.id, user_id=1, key="complaint.moved", params=params, created_at=T0
    )
    assert stranger.user_id == BIG_ID
    assert stranger.params == {}
    ids = [n.id for n, _ in pending if n.id is not None]
    assert len(set(ids)) == 3
    assert third.id != 999  # the outbox assigns ids
    limited = await store.read(lambda tx: tx.pending_notifications(limit=1))
    assert [n.key for n, _ in limited] == ["complaint.moved"]

    await store.transact(lambda tx: tx.mark_sent([ids[0], ids[2]], T0 + 3 * H))
    rest = await store.read(lambda tx: tx.pending_notifications())
    assert [n.key for n, _ in rest] == ["a.stranger"]
    await store.transact(lambda tx: tx.mark_sent([], T0 + 4 * H))  # nothing to do
    await store.transact(lambda tx: tx.mark_sent([ids[1], ids[0], 123456], T0 + 4 * H))
    assert await store.read(lambda tx: tx.pending_notifications()) == []


async def test_outbox_rolls_back_with_the_change(store: Store) -> None:
    def work(tx: Tx) -> None:
        tx.enqueue(Notification(user_id=1, key="lost", created_at=T0))
        tx.audit(AuditEntry(at=T0, actor=7, action="lost"))
        raise RuntimeError

    with pytest.raises(RuntimeError):
        await store.transact(work)
    assert await store.read(lambda tx: tx.pending_notifications()) == []
    assert await store.read(lambda tx: tx.audit_log()) == []


async def test_audit_log(store: Store) -> None:
    entries = [
        AuditEntry(at=T0, actor=7, action="pick_up", subject="C-1"),
        AuditEntry(at=T0 + 2 * H, actor=7, action="result", subject="C-1", detail="结果"),
        AuditEntry(at=T0 + H, actor=8, action="refused", subject="C-2", detail="not operator"),
        AuditEntry(at=T0 + 2 * H, actor=8, action="approve", subject="R-1"),  # tie: later
        AuditEntry(at=T0 + 3 * H, actor=7, action="broadcast"),
    ]

    def write(tx: Tx) -> None:
        for e in entries:
            tx.audit(e)

    await store.transact(write)
    newest_first = await store.read(lambda tx: tx.audit_log())
    assert newest_first == [entries[4], entries[3], entries[1], entries[2], entries[0]]
    assert await store.read(lambda tx: tx.audit_log(limit=2)) == [entries[4], entries[3]]
    assert await store.read(lambda tx: tx.audit_log("C-1")) == [entries[1], entries[0]]
    assert await store.read(lambda tx: tx.audit_log("C-1", limit=1)) == [entries[1]]
    assert await store.read(lambda tx: tx.audit_log("nope")) == []


async def test_repeated_audit_entries_of_a_minute_share_one_counted_row(store: Store) -> None:
    """Equal entries of one actor in one UTC minute: one row (the first's `at`) with their
    count; another detail, actor or minute starts its own row; plain entries never merge."""
    minute = T0.replace(minute=31, second=0)
    refusal = partial(AuditEntry, actor=8, action="refused", detail="/queue")

    def write(tx: Tx) -> None:
        for second in range(50):
            tx.audit_repeated(refusal(at=minute + timedelta(seconds=second, microseconds=7)))
        tx.audit_repeated(refusal(at=minute + timedelta(seconds=59), detail="/open"))
        tx.audit_repeated(refusal(at=minute + timedelta(seconds=59), actor=9))
        for _ in range(2):
            tx.audit_repeated(refusal(at=(minute + timedelta(minutes=1)).astimezone(SHANGHAI)))
            tx.audit(AuditEntry(at=minute + timedelta(minutes=2), actor=8, action="refused"))

    await store.transact(write)
    await store.transact(lambda tx: tx.audit_repeated(refusal(at=minute + timedelta(seconds=30))))
    rows = await store.read(lambda tx: tx.audit_log())
    assert [(e.at, e.actor, e.detail, e.count) for e in rows] == [
        (minute + timedelta(minutes=2), 8, "", 1),
        (minute + timedelta(minutes=2), 8, "", 1),
        (minute + timedelta(minutes=1), 8, "/queue", 2),
        (minute + timedelta(seconds=59), 9, "/queue", 1),
        (minute + timedelta(seconds=59), 8, "/open", 1),
        (minute + timedelta(microseconds=7), 8, "/queue", 51),
    ]


async def test_new_writes_refused_when_reading(store: Store) -> None:
    await insert(store, complaint("C-1"), request("R-1", "C-1"))
    moved = complaint("C-1").model_copy(update={"version": 1})
    writes = [
        lambda tx: tx.update_complaint(moved, expected_version=0),
        lambda tx: tx.insert_request(request("R-2", "C-1")),
        lambda tx: tx.update_request(request("R-1", "C-1")),
        lambda tx: tx.enqueue(Notification(user_id=1, key="k", created_at=T0)),
        lambda tx: tx.mark_sent([1], T0),
        lambda tx: tx.audit(AuditEntry(at=T0, actor=1, action="a")),
    ]
    for write in writes:
        with pytest.raises(ReadOnlyTransaction):
            await store.read(write)


async def test_new_methods_refuse_naive_datetimes(store: Store) -> None:
    naive = datetime(2025, 3, 1, 9, 30)  # noqa: DTZ001
    await insert(store, complaint("C-1"))
    attempts = [
        lambda tx: tx.due_complaints(naive),
        lambda tx: tx.revocations_in(1, naive, T0),
        lambda tx: tx.appeals_in(1, T0, naive),
        lambda tx: tx.enqueue(Notification(user_id=1, key="k", created_at=naive)),
        lambda tx: tx.mark_sent([1], naive),
        lambda tx: tx.audit(AuditEntry(at=naive, actor=1, action="a")),
        lambda tx: tx.insert_request(request("R-1", "C-1", at=naive)),
        lambda tx: tx.update_complaint(
            complaint("C-1").model_copy(update={"remind_at": naive, "version": 1}), 0
        ),
        lambda tx: tx.update_complaint(
            complaint("C-1").model_copy(
                update={"timeline": (entry("submitted", naive),), "version": 1}
            ),
            0,
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ValueError, match="aware"):
            await store.transact(attempt)
    got = await store.read(lambda tx: tx.get_complaint("C-1"))
    assert got == complaint("C-1")
