"""Each flow on the conversation driver alone: no PTB, no database, no event loop.

A `Chat` runs events through `Desk.handle` (the engine: routing, the driver, saving the row)
on `FakeTx`, plain dicts holding only what the flows touch. These tests check the flows' own
rules quickly; the whole conversations through the real Application are in the
`test_*_conversations.py` modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import cast

import pytest

from flows import complaints, task
from flows.broadcast_compose import ComposeState
from flows.catalog import load_catalog
from flows.context import Context, Rules
from flows.conversation import Flow, drive
from flows.engine import Desk
from flows.events import Command, Event, Inbound, Media, MediaKind, Tap, Text, UserRef
from flows.features import REGISTRY
from flows.filing_model import FilingState
from flows.numbers import format_number
from flows.operator_task import FLOW as TYPING
from flows.operator_task import TypingData
from flows.policy import Channel
from flows.ports import Tx
from flows.records import (
    AuditEntry,
    Broadcast,
    ComplaintRecord,
    EvidenceItem,
    EvidenceKind,
    Notification,
    RevocationRequest,
    Segment,
    Stage,
    UserRecord,
)
from flows.replies import Outcome

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
OPERATOR = 9001
CATALOG = load_catalog()


class FakeTx:
    """What the flows read and write, on plain dicts (the part of `Tx` they use)."""

    def __init__(self) -> None:
        self.users: dict[int, UserRecord] = {}
        self.complaints: dict[str, ComplaintRecord] = {}
        self.requests: dict[str, RevocationRequest] = {}
        self.outbox: list[Notification] = []
        self.audits: list[AuditEntry] = []
        self.broadcasts: list[Broadcast] = []
        self.seen: set[int] = set()
        self.kept: dict[int, str] = {}

    def claim_update(self, update_id: int, now: datetime) -> bool:
        fresh = update_id not in self.seen
        self.seen.add(update_id)
        return fresh

    def keep_outcome(self, update_id: int, outcome: str) -> None:
        self.kept[update_id] = outcome

    def kept_outcome(self, update_id: int) -> str | None:
        return self.kept.get(update_id)

    def forget_outcomes(self, update_ids: Sequence[int]) -> None:
        for update_id in update_ids:
            self.kept.pop(update_id, None)

    def load_user(self, user_id: int) -> UserRecord | None:
        return self.users.get(user_id)

    def save_user(self, user: UserRecord, expected_version: int) -> None:
        stored = self.users.get(user.user_id)
        assert (stored.version if stored else 0) == expected_version
        self.users[user.user_id] = user

    def find_open_complaint(self, user_id: int, type_id: str, target_key: str) -> str | None:
        return next(
            (
                c.number
                for c in self.complaints.values()
                if (c.user_id, c.type_id, c.target_key) == (user_id, type_id, target_key)
            ),
            None,
        )

    def insert_complaint(self, complaint: ComplaintRecord) -> None:
        self.complaints[complaint.number] = complaint

    def get_complaint(self, number: str) -> ComplaintRecord | None:
        return self.complaints.get(number)

    def update_complaint(self, complaint: ComplaintRecord, expected_version: int) -> None:
        assert self.complaints[complaint.number].version == expected_version
        self.complaints[complaint.number] = complaint

    def open_request_for(self, complaint_number: str) -> RevocationRequest | None:
        return next(
            (r for r in self.requests.values() if r.complaint_number == complaint_number), None
        )

    def revocations_in(self, user_id: int, start: datetime, end: datetime) -> int:
        return sum(1 for r in self.requests.values() if r.user_id == user_id)

    def get_request(self, number: str) -> RevocationRequest | None:
        return self.requests.get(number)

    def insert_request(self, request: RevocationRequest) -> None:
        self.requests[request.number] = request

    def enqueue(self, notification: Notification) -> None:
        self.outbox.append(notification)

    def audit(self, entry: AuditEntry) -> None:
        self.audits.append(entry)

    def audit_log(self, subject: str | None = None, limit: int = 50) -> list[AuditEntry]:
        found = [e for e in self.audits if subject is None or e.subject == subject]
        return found[::-1][:limit]

    def audit_repeated(self, entry: AuditEntry) -> None:
        self.audits.append(entry)

    def audience_count(self, segment: Segment) -> int:
        return len(self.users)

    def create_broadcast(self, broadcast: Broadcast) -> Broadcast:
        created = broadcast.model_copy(update={"id": len(self.broadcasts) + 1, "total": 2})
        self.broadcasts.append(created)
        return created


class Chat:
    """One person talking to the engine on a `FakeTx`; every event is one update."""

    def __init__(self, tx: FakeTx, user_id: int = 1001) -> None:
        self.tx, self.user_id, self.now = tx, user_id, T0
        self.updates = count(1)
        bits = count(1)
        rules = Rules(
            CATALOG, lambda now: format_number(now, next(bits)), "en", frozenset({OPERATOR})
        )
        self.desk = Desk(rules, REGISTRY)
        self.out = Outcome(language="en")

    @property
    def row(self) -> UserRecord:
        return self.tx.users[self.user_id]

    def send(self, event: Event | str) -> list[str]:
        """The event as one update; the keys of what came back (a pop-up's key first)."""
        inbound = Inbound(
            next(self.updates) + self.user_id * 1000,
            UserRef(self.user_id, language_code="en"),
            Text(event) if isinstance(event, str) else event,
        )
        self.out = self.desk.handle(cast(Tx, self.tx), inbound, self.now)
        notice = [self.out.notice.key] if self.out.notice else []
        return notice + [reply.key for reply in self.out.replies]

    def tap(self, action: str, arg: str = "") -> list[str]:
        """A conversation button drawn for the current prompt."""
        nonce = self.tx.users[self.user_id].nonce
        return self.send(Tap(scope="f", action=action, arg=arg, nonce=nonce))

    def photo(self, name: str) -> list[str]:
        return self.send(Media(MediaKind.PHOTO, f"file-{name}", f"unique-{name}", size=1000))


def filed(tx: FakeTx, type_id: str, user_id: int = 1001, **changes: object) -> ComplaintRecord:
    """A complaint with a photo as filing stores it (with its deadlines), submitted at T0."""
    complaint = ComplaintRecord(
        number=f"N-{len(tx.complaints) + 1}",
        user_id=user_id,
        type_id=type_id,
        target="someone",
        target_key="someone",
        description="what happened, in enough words",
        language="en",
        submitted_at=T0,
        evidence=(EvidenceItem(kind=EvidenceKind.PHOTO, file_id="f", received_at=T0),),
    )
    stored = complaints.with_deadlines(complaint, CATALOG).model_copy(update=changes)
    tx.insert_complaint(stored)
    return stored


# -- filing --------------------------------------------------------------------------------------


def test_filing_from_start_to_a_stored_complaint() -> None:
    tx = FakeTx()
    chat = Chat(tx)
    assert chat.send(Command("start")) == ["menu.welcome"]
    assert chat.tap("file") == ["filing.choose_type"]
    assert chat.tap("choose", "friend_report") == ["filing.guidance"]
    assert chat.tap("proceed") == ["filing.ask_target"]
    assert chat.send("wxid_scammer88") == ["filing.evidence_status"]
    nonce = chat.row.nonce
    assert chat.photo("1") == ["filing.evidence_status"]  # the checklist again, same buttons
    assert chat.row.nonce == nonce
    assert chat.tap("done") == ["filing.ask_description"]
    assert chat.send("They asked me to transfer money and then blocked me.") == ["filing.review"]
    assert chat.tap("submit") == ["filing.confirm_warning"]
    assert chat.tap("confirm") == ["filing.submitted", "menu.welcome"]
    (complaint,) = tx.complaints.values()
    assert (complaint.type_id, complaint.target_key, len(complaint.evidence)) == (
        "friend_report",
        "wxid_scammer88",
        1,
    )
    assert [e.kind for e in complaint.timeline] == ["submitted"]
    assert complaint.review_due_at is not None
    assert (chat.row.state, chat.row.draft) == (FilingState.IDLE.value, None)
    assert [e.name for e in chat.out.events] == ["complaint.submitted"]


def test_a_button_the_state_does_not_take_changes_nothing() -> None:
    tx = FakeTx()
    chat = Chat(tx)
    chat.send(Command("start"))
    chat.tap("file")
    before = chat.row
    assert chat.tap("submit") == ["errors.button_invalid"]  # a real trigger, not of this state
    assert chat.tap("text") == ["errors.button_invalid"]  # a trigger no button may fire
    assert chat.send(Tap(scope="f", action="file", nonce=before.nonce - 1)) == [
        "errors.button_stale"
    ]
    assert chat.row.model_copy(update={"version": before.version}) == before


def test_a_duplicate_target_is_refused_with_the_open_complaint_number() -> None:
    tx = FakeTx()
    open_one = filed(tx, "friend_report", target_key="wxid_scammer88")
    chat = Chat(tx)
    chat.send(Command("start"))
    chat.tap("file")
    chat.tap("choose", "friend_report")
    chat.tap("proceed")
    assert chat.send(" @WXID_Scammer88 ") == ["filing.duplicate"]
    assert chat.out.replies[0].params["number"] == open_one.number
    assert chat.row.state == FilingState.ENTERING_TARGET.value


@pytest.mark.parametrize("flow", [*REGISTRY.flows.values()], ids=lambda flow: flow.name)
def test_triggers_are_computed_once_per_state_from_the_machine(flow: Flow) -> None:
    for state in flow.states:
        assert flow.triggers[state] == frozenset(flow.machine.get_triggers(state.name))
    assert flow.buttons <= frozenset(flow.machine.events)


# -- the revocation request ------------------------------------------------------------------


def test_a_revocation_request_collects_its_materials_and_tells_the_operators() -> None:
    tx = FakeTx()
    complaint = filed(tx, "payment")
    assert complaints.decision(cast(Tx, tx), CATALOG, complaint, T0).channel is Channel.OPERATOR
    chat = Chat(tx)
    chat.send(Command("start"))
    opened = chat.send(Tap(scope="c", action="request", arg=complaint.number))
    assert opened == ["revoke.intro", "revoke.ask_reason"]
    assert chat.tap("reason", "misoperation") == ["revoke.ask_account"]
    assert chat.tap("account", "personal") == ["revoke.ask_material"]
    assert chat.send("a text is not a file") == [
        "revoke.send_material",
        "revoke.ask_material",
    ]
    assert chat.photo("id-front") == ["revoke.material_more"]  # both sides of the ID card
    assert chat.photo("id-back") == ["revoke.ask_material"]
    video = Media(MediaKind.VIDEO, "file-recording", "unique-recording", size=1000)
    assert chat.send(video) == ["revoke.confirm"]
    assert chat.tap("confirm") == ["revoke.submitted"]
    (request,) = tx.requests.values()
    assert (request.complaint_number, request.reason, len(request.materials)) == (
        complaint.number,
        "misoperation",
        3,
    )
    assert [n.user_id for n in tx.outbox] == [OPERATOR]
    assert chat.row.task is None


def test_a_minor_cannot_ask_and_the_task_ends() -> None:
    tx = FakeTx()
    complaint = filed(tx, "payment")
    chat = Chat(tx)
    chat.send(Tap(scope="c", action="request", arg=complaint.number))
    chat.tap("reason", "misoperation")
    assert chat.tap("account", "minor") == ["revoke.minor"]
    assert chat.row.task is None


# -- the operator's typing task ------------------------------------------------------------------


def test_a_typed_result_is_given_after_send() -> None:
    tx = FakeTx()
    complaint = filed(tx, "friend_report", stage=Stage.INVESTIGATING, operator_id=OPERATOR)
    chat = Chat(tx, OPERATOR)
    chat.send(Command("start"))
    ctx = Context(cast(Tx, tx), T0, chat.desk.rules, chat.row, Outcome(language="en"))
    task.start(ctx, TYPING, TypingData(what="result", number=complaint.number))
    assert [r.key for r in ctx.out.replies] == ["operator.ask_result"]
    tx.users[OPERATOR] = ctx.user.model_copy(update={"nonce": ctx.user.nonce + 1})
    assert chat.send("") == ["operator.text_empty"]
    assert chat.send("  Refunded.  ") == ["operator.confirm_result"]
    assert chat.tap("send") == ["operator.result_sent", "operator.card"]
    given = tx.complaints[complaint.number]
    assert (given.stage, given.result_text) == (Stage.RESULT_GIVEN, "Refunded.")
    assert [n.key for n in tx.outbox] == ["notify.result", "follow.escalate"]
    assert chat.row.task is None


def test_cancel_ends_a_task_and_keeps_the_filing_draft_underneath() -> None:
    tx = FakeTx()
    complaint = filed(tx, "friend_report", stage=Stage.INVESTIGATING)
    chat = Chat(tx, OPERATOR)
    chat.send(Command("start"))
    chat.tap("file")
    ctx = Context(cast(Tx, tx), T0, chat.desk.rules, chat.row, Outcome(language="en"))
    task.start(ctx, TYPING, {"what": "result", "number": complaint.number})
    tx.users[OPERATOR] = ctx.user
    assert chat.send(Command("start")) == ["task.in_progress", "operator.ask_result"]
    assert chat.send(Command("cancel")) == ["task.cancelled"]
    assert (chat.row.task, chat.row.state) == (None, FilingState.CHOOSING_TYPE.value)


# -- broadcast composing ---------------------------------------------------------------------


def test_composing_a_broadcast_writes_it_on_confirmation() -> None:
    tx = FakeTx()
    chat = Chat(tx, OPERATOR)
    assert chat.send(Command("broadcast")) == ["broadcast.ask_text"]
    assert chat.send("Downtime tonight.") == ["broadcast.ask_audience"]
    assert chat.tap("audience", "all") == [
        "broadcast.preview",
        "broadcast.body",
        "broadcast.confirm",
    ]
    assert chat.row.task is not None
    assert chat.row.task.state == ComposeState.PREVIEW.value
    assert chat.tap("confirm") == ["broadcast.started"]
    assert [(b.text, b.segment.kind) for b in tx.broadcasts] == [("Downtime tonight.", "all")]
    assert chat.row.task is None


def test_a_non_operator_cannot_compose() -> None:
    tx = FakeTx()
    chat = Chat(tx)
    assert chat.send(Command("broadcast")) == ["errors.not_operator"]
    assert chat.row.task is None
    assert [a.action for a in tx.audits] == ["refused"]


def test_drive_asks_again_without_a_new_nonce_on_start() -> None:
    """`ask_again` repeats the question; only a new state draws a new prompt nonce."""
    tx = FakeTx()
    chat = Chat(tx)
    chat.send(Command("start"))
    nonce = chat.row.nonce
    ctx = Context(cast(Tx, tx), T0 + timedelta(seconds=1), chat.desk.rules, chat.row, chat.out)
    drive(ctx, REGISTRY.conversation, Command("start"))
    assert [r.key for r in ctx.out.replies][-1] == "menu.welcome"
    assert (ctx.nonce_bump, ctx.user.nonce) == (False, nonce)
