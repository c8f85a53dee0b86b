"""Erasing personal data, on every store backend (see the `store` fixture)."""

from __future__ import annotations

from datetime import timedelta

from flows.ports import Tx
from flows.records import (
    AccountKind,
    EvidenceKind,
    Notification,
    RevocationReason,
    RevocationRequest,
    Stage,
    TimelineEntry,
)
from storage.base import Store
from tests.storage.test_contract import T0, complaint, item


async def test_erase_complaint_keeps_only_what_is_anonymous(store: Store) -> None:
    filed = complaint("C1", evidence=(item(1), item(2, EvidenceKind.FORWARD)))
    filed = filed.model_copy(
        update={"timeline": (TimelineEntry(at=T0, kind="submitted", actor=1, text="note"),)}
    )
    request = RevocationRequest(
        number="R1",
        complaint_number="C1",
        user_id=1,
        reason=RevocationReason.MISOPERATION,
        account_kind=AccountKind.PERSONAL,
        materials=(item(3),),
        created_at=T0,
        decision_text="ok, Zhang",
    )
    await store.transact(lambda tx: tx.insert_complaint(filed))
    await store.transact(lambda tx: tx.insert_request(request))
    await store.transact(lambda tx: tx.erase_complaint("C1"))

    erased = await store.read(lambda tx: tx.get_complaint("C1"))
    assert erased is not None
    assert (erased.target, erased.target_key, erased.description, erased.evidence) == (
        "",
        "",
        "",
        (),
    )
    assert (erased.number, erased.type_id, erased.stage, erased.submitted_at) == (
        "C1",
        filed.type_id,
        filed.stage,
        T0,
    )
    assert [(e.kind, e.text) for e in erased.timeline] == [("submitted", "")]
    kept = await store.read(lambda tx: tx.get_request("R1"))
    assert kept is not None
    assert kept.materials == ()
    assert kept.decision_text == ""


async def test_erasable_complaints_are_closed_before_the_cutoff_and_not_yet_erased(
    store: Store,
) -> None:
    old_closed = complaint("OLD", stage=Stage.RESULT_GIVEN).model_copy(
        update={"timeline": (TimelineEntry(at=T0 + timedelta(days=2), kind="result_given"),)}
    )
    withdrawn = complaint("WD", stage=Stage.REVOKED).model_copy(
        update={"revoked_at": T0 + timedelta(days=1)}
    )
    still_open = complaint("OPEN", stage=Stage.INVESTIGATING)
    recent = complaint("NEW", stage=Stage.REVOKED, at=T0 + timedelta(days=30)).model_copy(
        update={"revoked_at": T0 + timedelta(days=30)}
    )

    def insert_all(tx: Tx) -> None:
        for record in (old_closed, withdrawn, still_open, recent):
            tx.insert_complaint(record)

    await store.transact(insert_all)

    cutoff = T0 + timedelta(days=10)
    found = await store.read(lambda tx: tx.erasable_complaints(cutoff))
    assert sorted(found) == ["OLD", "WD"]
    # the last timeline entry counts for a result: closed on day 2, not erasable on day 1
    assert await store.read(lambda tx: tx.erasable_complaints(T0 + timedelta(days=1))) == []
    await store.transact(lambda tx: tx.erase_complaint("OLD"))
    assert await store.read(lambda tx: tx.erasable_complaints(cutoff)) == ["WD"]


async def test_erase_sent_notifications_leaves_pending_ones(store: Store) -> None:
    def enqueue_two(tx: Tx) -> None:
        for key in ("a", "b"):
            tx.enqueue(Notification(user_id=7, key=key, created_at=T0))

    await store.transact(enqueue_two)
    claimed = await store.transact(lambda tx: tx.claim_notifications(T0, 1))
    await store.transact(lambda tx: tx.mark_sent([n.id for n, _ in claimed if n.id], T0))
    assert await store.transact(lambda tx: tx.erase_sent_notifications(7)) == 1
    pending = await store.read(lambda tx: tx.pending_notifications())
    assert [n.key for n, _ in pending] == ["b"]
