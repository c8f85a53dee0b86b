"""The persisted records (pydantic, frozen): a user's row with their conversation, and complaints.

These are what storage reads and writes. The state machine never sees them directly: the
engine copies a record into a throwaway machine model and builds a new record from it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    VIDEO = "video"
    FORWARD = "forward"
    TEXT = "text"


class EvidenceItem(Frozen):
    """One piece of evidence. Files keep Telegram's ids; text records and forwards keep text."""

    kind: EvidenceKind
    file_id: str | None = None
    file_unique_id: str | None = None
    size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None
    media_group_id: str | None = None
    text: str = ""
    sender: str = ""
    received_at: datetime


class Draft(Frozen):
    """A complaint being filed. Survives restarts because it lives in the user's row."""

    type_id: str | None = None
    target: str | None = None
    evidence: tuple[EvidenceItem, ...] = ()
    description: str | None = None
    editing: bool = False  # True while changing one step from the review: return there after
    started_at: datetime


class Task(Frozen):
    """A short conversation on top of the filing flow: a revocation request, an operator
    writing a result, an operator composing a broadcast. While a task is open, text, files and
    conversation buttons go to it; /cancel ends it; the filing draft underneath is untouched."""

    flow: str
    state: str
    data: dict[str, Any] = Field(default_factory=dict)
    materials: tuple[EvidenceItem, ...] = ()


class UserRecord(Frozen):
    """A person's single row: settings plus where they are in the conversation.

    `version` guards concurrent writers (compare-and-swap); `nonce` counts prompts so that
    buttons drawn for an earlier prompt are recognised as stale.
    """

    user_id: int
    language: str
    language_chosen: bool = False  # True once set with /language: Telegram's code no longer wins
    confirm_twice: bool = True
    state: str = "idle"
    draft: Draft | None = None
    task: Task | None = None
    blocked_bot: bool = False  # Telegram answered 403; cleared when they write again
    nonce: int = 0
    version: int = 0
    created_at: datetime
    updated_at: datetime


class Stage(StrEnum):
    PENDING = "pending"  # automatic review
    MANUAL_REVIEW = "manual_review"
    ACCEPTED = "accepted"
    INVESTIGATING = "investigating"
    RESULT_GIVEN = "result_given"
    REVIEW_REQUESTED = "review_requested"
    REVOKED = "revoked"


OPEN_STAGES = frozenset(
    {
        Stage.PENDING,
        Stage.MANUAL_REVIEW,
        Stage.ACCEPTED,
        Stage.INVESTIGATING,
        Stage.REVIEW_REQUESTED,
    }
)


class TimelineEntry(Frozen):
    """One line of a complaint's history, shown to its author and to operators.

    `kind`: submitted, manual_review, picked_up, accepted, investigating, result_given,
    review_requested, revoked, revocation_requested, revocation_approved,
    revocation_rejected, reminder_sent, loss_reported. `actor` is the operator's or user's id
    (None for the desk itself); `text` carries a result or a decision message.
    """

    at: datetime
    kind: str
    actor: int | None = None
    text: str = ""


class ComplaintRecord(Frozen):
    """A submitted complaint. `target_key` is the normalised target used to spot duplicates.

    Deadlines are stored (computed from the catalog at submission), so a sweeper can fire what
    is due and a later catalog change does not move an existing complaint's window:
    `review_due_at` (pending -> manual review, cleared once moved), `revocable_until` (None:
    never revocable), `remind_at` (the one reminder before the window closes; cleared once sent).
    """

    number: str
    user_id: int
    type_id: str
    target: str
    target_key: str
    description: str
    evidence: tuple[EvidenceItem, ...] = Field(default=())
    language: str
    stage: Stage = Stage.PENDING
    submitted_at: datetime
    review_due_at: datetime | None = None
    revocable_until: datetime | None = None
    remind_at: datetime | None = None
    operator_id: int | None = None
    result_text: str | None = None
    reviews_requested: int = 0
    loss_reported: bool = False
    revoked_at: datetime | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    version: int = 0


class RevocationReason(StrEnum):
    MISOPERATION = "misoperation"
    WRONG_TARGET = "wrong_target"
    SETTLED = "settled"  # settled privately
    OTHER = "other"


class AccountKind(StrEnum):
    PERSONAL = "personal"
    ENTERPRISE = "enterprise"
    HK_MACAU = "hk_macau"  # a Hong Kong / Macau number
    MINOR = "minor"  # a guardian must go in person: no request is taken


class RequestStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"


class RevocationRequest(Frozen):
    """A request to an operator to take a complaint back (the operator channel)."""

    number: str
    complaint_number: str
    user_id: int
    reason: RevocationReason
    account_kind: AccountKind
    materials: tuple[EvidenceItem, ...] = ()
    flagged: bool = False  # risk review: over the monthly limit
    status: RequestStatus = RequestStatus.OPEN
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = None
    decision_text: str = ""


class Notification(Frozen):
    """A message to someone other than the sender of the update, written to the outbox in the
    same transaction as the change that caused it and sent after commit by the outbox sender.
    `key`/`params` are rendered in the recipient's language when sent."""

    id: int | None = None
    user_id: int
    key: str
    params: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class AuditEntry(Frozen):
    """Who did what, when: every operator action (and refused operator attempts)."""

    at: datetime
    actor: int
    action: str
    subject: str = ""  # a complaint or request number
    detail: str = ""
    count: int = 1  # equal entries of one minute it stands for (`Audit.audit_repeated`)


# -- broadcasts (operator notices; flows.broadcast, bot.broadcaster) ---------------------------


class SegmentKind(StrEnum):
    ALL = "all"
    LANGUAGE = "language"  # value: a language code of the catalog
    OPEN = "open"  # users with a complaint in an open stage
    OPEN_TYPE = "open_type"  # value: a complaint type id


class Segment(Frozen):
    """Who a broadcast goes to. Users who blocked the bot are always left out."""

    kind: SegmentKind
    value: str = ""


class BroadcastStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class DeliveryState(StrEnum):
    """One recipient's row in a broadcast's ledger.

    pending -> sending (claimed by the sender) -> sent | blocked | failed; a 429 puts a
    claimed row back to pending. A row still `sending` when the process died is ambiguous
    (the message may or may not have gone out): it becomes `unknown` and is never resent.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Broadcast(Frozen):
    """A notice from an operator to many users; its recipients are rows of the ledger.

    `text` is the operator's own text, sent as plain text (the caption when there is a photo);
    `total` is the number of recipients fixed when it was confirmed.
    """

    id: int | None = None
    operator_id: int
    text: str = ""
    photo_file_id: str | None = None
    segment: Segment
    status: BroadcastStatus = BroadcastStatus.RUNNING
    total: int = 0
    created_at: datetime
    finished_at: datetime | None = None
    progress_message_id: int | None = None


class Delivery(Frozen):
    """One recipient's ledger row (what the sender did about them)."""

    broadcast_id: int
    user_id: int
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    message_id: int | None = None
    error: str = ""
    updated_at: datetime
