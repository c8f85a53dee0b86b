"""The persisted records (pydantic, frozen): a user's row with their conversation, and complaints.

These are what storage reads and writes. The state machine never sees them directly: the
engine copies a record into a throwaway machine model and builds a new record from it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

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


class ComplaintRecord(Frozen):
    """A submitted complaint. `target_key` is the normalised target used to spot duplicates."""

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
