"""Triage as conversations: every open complaint reachable through the queue's pages, /find by
target and by user, the audit trail on the card (actions and a refusal), /export as a CSV
built in batches, and bad input answered without changing anything."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from bot.app import runtime
from bot.exporter import COLUMNS
from bot.simulator import Simulator
from flows.ports import Tx
from flows.records import ComplaintRecord, Stage
from tests.conftest import START
from tests.flows.conversations import audit, file, open_card, operator, stored


def made(n: int, *, user_id: int = 5000, stage: Stage = Stage.MANUAL_REVIEW) -> ComplaintRecord:
    """A complaint stored directly (the operator's side is what these tests walk)."""
    return ComplaintRecord(
        number=f"261120-{n:04d}-TEST",
        user_id=user_id,
        type_id="payment",
        target=f"shop_{n}",
        target_key=f"shop_{n}",
        description=f"complaint number {n} about a payment",
        language="en",
        stage=stage,
        submitted_at=START - timedelta(days=3) + timedelta(seconds=n),
    )


async def store_all(sim: Simulator, complaints: list[ComplaintRecord]) -> None:
    def work(tx: Tx) -> None:
        for complaint in complaints:
            tx.insert_complaint(complaint)

    await runtime(sim.app).store.transact(work)


async def test_queue_paging_reaches_every_open_complaint(sim: Simulator) -> None:
    """120 open complaints, ten a page: » walks to the last page and every one was listed
    once; a forged page number lands on the last page, nothing breaks."""
    await store_all(sim, [made(n) for n in range(120)])
    op = await operator(sim)
    await op.send("/queue")
    listed: list[str] = []
    for _ in range(12):
        page = op.assert_last("operator.queue")
        listed += [d.removeprefix("o:open:") for d in page.callback_data if d.startswith("o:open:")]
        await op.tap(label="»")
    assert listed == [made(n).number for n in range(120)]  # oldest first: no deadlines here
    assert op.label("operator.button.page", page=12, pages=12) in op.last.labels
    await op.tap_raw(op.last.message_id, "o:queue:all.999999")
    assert op.label("operator.button.page", page=12, pages=12) in op.last.labels
    await op.tap_raw(op.last.message_id, "o:queue:all.x")  # forged: back to the first page
    assert op.label("operator.button.page", page=1, pages=12) in op.last.labels


async def test_find_by_target_by_user_and_by_number(sim: Simulator) -> None:
    alice = sim.user(1001, language_code="en")
    bob = sim.user(1002, language_code="en")
    theirs = await file(alice, "payment")
    other = await file(bob, "friend_report", target="wxid_other_person")
    op = await operator(sim)
    await op.send("/find 4200001234")  # the start of the payment's transaction id
    found = op.assert_last("operator.find_results")
    assert found.callback_data == [f"o:open:{theirs}"]
    await op.send("/find 1002")  # the author's user id
    assert op.last.callback_data == [f"o:open:{other}"]
    await op.send(f"/find {other[:11].lower()}")  # a number's start, any case
    assert op.last.callback_data == [f"o:open:{other}"]
    await op.tap(data=f"o:open:{other}")
    op.assert_last("operator.card")
    await op.send("/find %%%")
    op.assert_last("operator.find_none")
    await op.send("/find")
    op.assert_last("operator.find_usage")
    await op.send("/find " + "x" * 101)
    op.assert_last("operator.find_too_long")
    mallory = sim.user(1003, language_code="en")
    await mallory.send("/find 1001")
    mallory.assert_last("errors.not_operator")
    assert theirs not in mallory.last.text


async def test_the_card_shows_the_audit_trail_with_a_refusal(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    number = await file(user, "payment")
    op = await operator(sim)
    await open_card(op, number)
    await op.tap(data=f"o:pick:{number}")
    await op.tap(data=f"o:accept:{number}")
    mallory = sim.user(1002, "Mallory", language_code="en")
    await mallory.send("/start")
    await mallory.tap_raw(mallory.last.message_id, f"o:accept:{number}")  # copied data
    mallory.assert_last("errors.not_operator")
    await open_card(op, number)
    card = op.last.text
    trail = card[card.index(op.label("operator.audit_none").split(":")[0]) :]
    for action in ("open", "pick_up", "accept", "refused"):
        assert action in trail, action
    assert "1002" in trail  # who was refused
    entries = [(e.actor, e.action) for e in await audit(sim, number)]
    assert (1002, "refused") in entries
    assert (await stored(sim, number)).stage is Stage.ACCEPTED  # the refusal changed nothing


async def test_export_of_ten_thousand_complaints_has_every_row(sim: Simulator) -> None:
    """The CSV has a header and every one of 10,000 rows, read in batches of at most 500."""
    await store_all(sim, [made(n, user_id=5000 + n % 7) for n in range(10_000)])
    op = await operator(sim)
    await op.send("/export 30d")
    op.assert_got("operator.export_started")
    document = op.last
    assert document.kind == "document"
    assert document.file is not None
    assert document.file.file_name is not None
    assert document.file.file_name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(document.file.data.decode("utf-8-sig"))))
    assert rows[0][0] == "number"
    assert sorted(r[0] for r in rows[1:]) == sorted(made(n).number for n in range(10_000))
    exporter = runtime(sim.app).exporter
    assert exporter is not None
    assert exporter.largest_batch <= exporter.batch == 500


async def test_export_refuses_what_it_cannot_read(sim: Simulator) -> None:
    op = await operator(sim)
    await op.send("/export 2020-01-01..2026-11-30")
    op.assert_got("operator.export_too_long")
    op.assert_last("operator.export_usage")
    await op.send("/export yesterday")
    op.assert_got("operator.export_bad")
    await op.send("/export 2026-13")
    op.assert_got("operator.export_bad")
    assert all(m.kind == "text" for m in op.messages)  # no file was sent
    user = sim.user(1001, language_code="en")
    await user.send("/export")
    user.assert_last("errors.not_operator")
    number = await file(user, "payment")
    await op.send("/export 7d accepted")  # none accepted: a file with the header only
    assert op.last.file is not None
    assert op.last.file.data.decode("utf-8-sig").splitlines() == [",".join(COLUMNS)]
    await op.send("/export 7d")  # a small file too (not only one big enough to spill to disk)
    assert op.last.file is not None
    assert number in op.last.file.data.decode("utf-8-sig")
