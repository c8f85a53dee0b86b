"""Rows <-> records for the SQLite store: column lists, parameter tuples and record builders.

Instants are stored as fixed-width ISO-8601 UTC text (so text order is time order and range
queries compare text); booleans as 0/1; nested records (a draft, a task, request materials,
notification params) as JSON. `storage.sqlite` holds the SQL; this module only maps.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

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
from storage.base import require_aware

Values = tuple[Any, ...]

_MATERIALS: TypeAdapter[tuple[EvidenceItem, ...]] = TypeAdapter(tuple[EvidenceItem, ...])


def utc_text(value: datetime, what: str = "datetime") -> str:
    """An aware datetime as fixed-width ISO-8601 UTC text (so text order is time order)."""
    return require_aware(value, what).astimezone(UTC).isoformat(timespec="microseconds")


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def optional_utc_text(value: datetime | None, what: str) -> str | None:
    return None if value is None else utc_text(value, what)


def optional_from_utc_text(text: str | None) -> datetime | None:
    return None if text is None else from_utc_text(text)


def marks(count: int) -> str:
    """`?, ?, ...` for an `IN (...)` list of `count` values."""
    return ", ".join("?" * count)


def params_json(params: dict[str, Any]) -> str:
    """Notification params as JSON (a value JSON can't hold is refused when enqueued)."""
    return json.dumps(params, ensure_ascii=False, sort_keys=True)


# --- users -------------------------------------------------------------------------------

USER_COLUMNS = (
    "language, language_chosen, confirm_twice, state, draft, task, blocked_bot, nonce, "
    "version, created_at, updated_at"
)


def user_values(user: UserRecord) -> Values:
    """The values for USER_COLUMNS, in order."""
    return (
        user.language,
        int(user.language_chosen),
        int(user.confirm_twice),
        user.state,
        None if user.draft is None else user.draft.model_dump_json(),
        None if user.task is None else user.task.model_dump_json(),
        int(user.blocked_bot),
        user.nonce,
        user.version,
        utc_text(user.created_at, "created_at"),
        utc_text(user.updated_at, "updated_at"),
    )


def user_record(row: sqlite3.Row) -> UserRecord:
    draft, task = row["draft"], row["task"]
    return UserRecord(
        user_id=row["user_id"],
        language=row["language"],
        language_chosen=bool(row["language_chosen"]),
        confirm_twice=bool(row["confirm_twice"]),
        state=row["state"],
        draft=None if draft is None else Draft.model_validate_json(draft),
        task=None if task is None else Task.model_validate_json(task),
        blocked_bot=bool(row["blocked_bot"]),
        nonce=row["nonce"],
        version=row["version"],
        created_at=from_utc_text(row["created_at"]),
        updated_at=from_utc_text(row["updated_at"]),
    )


# --- complaints, their evidence and their timeline ---------------------------------------

# Set once, at submission.
COMPLAINT_FILING_COLUMNS = (
    "number, user_id, type_id, target, target_key, description, language, submitted_at"
)
# What changes over a complaint's life (update_complaint writes these, in this order).
COMPLAINT_LIFE_COLUMNS = (
    "stage",
    "review_due_at",
    "revocable_until",
    "remind_at",
    "operator_id",
    "result_text",
    "reviews_requested",
    "loss_reported",
    "revoked_at",
    "version",
)


def complaint_filing_values(complaint: ComplaintRecord) -> Values:
    return (
        complaint.number,
        complaint.user_id,
        complaint.type_id,
        complaint.target,
        complaint.target_key,
        complaint.description,
        complaint.language,
        utc_text(complaint.submitted_at, "submitted_at"),
    )


def complaint_life_values(complaint: ComplaintRecord) -> Values:
    """The values for COMPLAINT_LIFE_COLUMNS, in order."""
    return (
        complaint.stage.value,
        optional_utc_text(complaint.review_due_at, "review_due_at"),
        optional_utc_text(complaint.revocable_until, "revocable_until"),
        optional_utc_text(complaint.remind_at, "remind_at"),
        complaint.operator_id,
        complaint.result_text,
        complaint.reviews_requested,
        int(complaint.loss_reported),
        optional_utc_text(complaint.revoked_at, "revoked_at"),
        complaint.version,
    )


def complaint_record(
    row: sqlite3.Row, evidence: list[EvidenceItem], timeline: list[TimelineEntry]
) -> ComplaintRecord:
    return ComplaintRecord(
        number=row["number"],
        user_id=row["user_id"],
        type_id=row["type_id"],
        target=row["target"],
        target_key=row["target_key"],
        description=row["description"],
        evidence=tuple(evidence),
        language=row["language"],
        stage=Stage(row["stage"]),
        submitted_at=from_utc_text(row["submitted_at"]),
        review_due_at=optional_from_utc_text(row["review_due_at"]),
        revocable_until=optional_from_utc_text(row["revocable_until"]),
        remind_at=optional_from_utc_text(row["remind_at"]),
        operator_id=row["operator_id"],
        result_text=row["result_text"],
        reviews_requested=row["reviews_requested"],
        loss_reported=bool(row["loss_reported"]),
        revoked_at=optional_from_utc_text(row["revoked_at"]),
        timeline=tuple(timeline),
        version=row["version"],
    )


EVIDENCE_COLUMNS = (
    "kind, file_id, file_unique_id, size, mime_type, file_name, media_group_id, text, "
    "sender, received_at"
)


def evidence_values(number: str, position: int, item: EvidenceItem) -> Values:
    """(complaint_number, position, *EVIDENCE_COLUMNS)."""
    return (
        number,
        position,
        item.kind.value,
        item.file_id,
        item.file_unique_id,
        item.size,
        item.mime_type,
        item.file_name,
        item.media_group_id,
        item.text,
        item.sender,
        utc_text(item.received_at, "received_at"),
    )


def evidence_item(row: sqlite3.Row) -> EvidenceItem:
    return EvidenceItem(
        kind=EvidenceKind(row["kind"]),
        file_id=row["file_id"],
        file_unique_id=row["file_unique_id"],
        size=row["size"],
        mime_type=row["mime_type"],
        file_name=row["file_name"],
        media_group_id=row["media_group_id"],
        text=row["text"],
        sender=row["sender"],
        received_at=from_utc_text(row["received_at"]),
    )


EVENT_COLUMNS = "at, kind, actor, text"


def event_values(number: str, position: int, entry: TimelineEntry) -> Values:
    """(complaint_number, position, *EVENT_COLUMNS)."""
    at = utc_text(entry.at, "timeline at")
    return (number, position, at, entry.kind, entry.actor, entry.text)


def timeline_entry(row: sqlite3.Row) -> TimelineEntry:
    return TimelineEntry(
        at=from_utc_text(row["at"]), kind=row["kind"], actor=row["actor"], text=row["text"]
    )


# --- revocation requests -----------------------------------------------------------------

REQUEST_COLUMNS = (
    "number, complaint_number, user_id, reason, account_kind, materials, flagged, status, "
    "created_at, decided_at, decided_by, decision_text"
)


def request_values(request: RevocationRequest) -> Values:
    """The values for REQUEST_COLUMNS, in order."""
    for item in request.materials:
        require_aware(item.received_at, "received_at")
    return (
        request.number,
        request.complaint_number,
        request.user_id,
        request.reason.value,
        request.account_kind.value,
        _MATERIALS.dump_json(request.materials).decode(),
        int(request.flagged),
        request.status.value,
        utc_text(request.created_at, "created_at"),
        optional_utc_text(request.decided_at, "decided_at"),
        request.decided_by,
        request.decision_text,
    )


REQUEST_DECISION_COLUMNS = ("flagged", "status", "decided_at", "decided_by", "decision_text")


def request_decision_values(request: RevocationRequest) -> Values:
    """The values for REQUEST_DECISION_COLUMNS (what may change once a request is made)."""
    return (
        int(request.flagged),
        request.status.value,
        optional_utc_text(request.decided_at, "decided_at"),
        request.decided_by,
        request.decision_text,
    )


def request_record(row: sqlite3.Row) -> RevocationRequest:
    return RevocationRequest(
        number=row["number"],
        complaint_number=row["complaint_number"],
        user_id=row["user_id"],
        reason=RevocationReason(row["reason"]),
        account_kind=AccountKind(row["account_kind"]),
        materials=_MATERIALS.validate_json(row["materials"]),
        flagged=bool(row["flagged"]),
        status=RequestStatus(row["status"]),
        created_at=from_utc_text(row["created_at"]),
        decided_at=optional_from_utc_text(row["decided_at"]),
        decided_by=row["decided_by"],
        decision_text=row["decision_text"],
    )


# --- outbox and audit --------------------------------------------------------------------

NOTIFICATION_COLUMNS = "user_id, key, params, created_at"


def notification_values(notification: Notification) -> Values:
    """The values for NOTIFICATION_COLUMNS (the id is the outbox's to assign)."""
    return (
        notification.user_id,
        notification.key,
        params_json(notification.params),
        utc_text(notification.created_at, "created_at"),
    )


def notification(row: sqlite3.Row) -> Notification:
    return Notification(
        id=row["id"],
        user_id=row["user_id"],
        key=row["key"],
        params=json.loads(row["params"]),
        created_at=from_utc_text(row["created_at"]),
    )


AUDIT_COLUMNS = "at, actor, action, subject, detail"


def audit_values(entry: AuditEntry) -> Values:
    """The values for AUDIT_COLUMNS, in order."""
    return (utc_text(entry.at, "at"), entry.actor, entry.action, entry.subject, entry.detail)


def audit_entry(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        at=from_utc_text(row["at"]),
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        detail=row["detail"],
    )
