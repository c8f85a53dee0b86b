"""An in-memory twin of the SQLite store, for tests: same `Store` and `Tx` semantics, dicts.

A unit of work runs over a working copy of the state (the dicts are copied, the records are
frozen so they are shared) and the copy replaces the state only if the work returns: an
exception rolls everything back. Units of work run whole, one at a time, as on the SQLite
store's single thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.ports import NumberTaken, Tx, VersionConflict
from flows.records import (
    OPEN_STAGES,
    AuditEntry,
    ComplaintRecord,
    Notification,
    RequestStatus,
    RevocationRequest,
    Stage,
    Task,
    UserRecord,
)
from storage.base import ReadOnlyTransaction, T, require_aware
from storage.memory_ledger import LedgerState, MemoryLedger

_DEFAULT_LANGUAGE = "zh-CN"  # a notification's recipient with no users row (yet)


@dataclass(frozen=True)
class _Outboxed:
    notification: Notification  # with its id
    sent_at: datetime | None = None


@dataclass
class _State:
    users: dict[int, UserRecord] = field(default_factory=dict)
    updates: dict[int, datetime] = field(default_factory=dict)
    complaints: dict[str, ComplaintRecord] = field(default_factory=dict)  # insertion order
    requests: dict[str, RevocationRequest] = field(default_factory=dict)  # insertion order
    outbox: dict[int, _Outboxed] = field(default_factory=dict)
    last_outbox_id: int = 0
    audit: list[AuditEntry] = field(default_factory=list)  # in the order written
    ledger: LedgerState = field(default_factory=LedgerState)  # broadcasts (memory_ledger.py)

    def copy(self) -> _State:
        return _State(
            dict(self.users),
            dict(self.updates),
            dict(self.complaints),
            dict(self.requests),
            dict(self.outbox),
            self.last_outbox_id,
            list(self.audit),
            self.ledger.copy(),
        )


def _through_json(task: Task | None) -> Task | None:
    """The task as SQLite gives it back (its free-form `data` goes through JSON), unshared."""
    return None if task is None else Task.model_validate_json(task.model_dump_json())


def _in(value: datetime, start: datetime, end: datetime) -> bool:
    return start <= value < end


class MemoryTx(MemoryLedger):  # the broadcast ledger: storage/memory_ledger.py
    """Implements `flows.ports.Tx` (plus `prune_updates`) over a working copy of the state."""

    def __init__(self, state: _State, *, writable: bool) -> None:
        self._state: _State = state
        self._writable = writable

    def _check_writable(self, operation: str) -> None:
        if not self._writable:
            raise ReadOnlyTransaction(f"{operation} inside a read-only unit of work")

    def claim_update(self, update_id: int, now: datetime) -> bool:
        self._check_writable("claim_update")
        require_aware(now, "now")
        if update_id in self._state.updates:
            return False
        self._state.updates[update_id] = now
        return True

    def prune_updates(self, before: datetime) -> int:
        self._check_writable("prune_updates")
        require_aware(before, "before")
        old = [uid for uid, seen in self._state.updates.items() if seen < before]
        for uid in old:
            del self._state.updates[uid]
        return len(old)

    def load_user(self, user_id: int) -> UserRecord | None:
        stored = self._state.users.get(user_id)
        if stored is None or stored.task is None:
            return stored
        return stored.model_copy(update={"task": _through_json(stored.task)})

    def save_user(self, user: UserRecord, expected_version: int) -> None:
        self._check_writable("save_user")
        require_aware(user.created_at, "created_at")
        require_aware(user.updated_at, "updated_at")
        stored = self._state.users.get(user.user_id)
        if expected_version == 0:
            if stored is not None:
                raise VersionConflict(f"user {user.user_id} already exists")
        elif stored is None or stored.version != expected_version:
            raise VersionConflict(
                f"user {user.user_id} is not at version {expected_version} (or is absent)"
            )
        if user.task is not None:
            user = user.model_copy(update={"task": _through_json(user.task)})
        self._state.users[user.user_id] = user

    # --- complaints --------------------------------------------------------------------

    def _filed_order(self) -> list[ComplaintRecord]:
        """Oldest first (ties: in order of insertion)."""
        ordered = list(enumerate(self._state.complaints.values()))
        ordered.sort(key=lambda pair: (pair[1].submitted_at, pair[0]))
        return [complaint for _, complaint in ordered]

    def find_open_complaint(self, user_id: int, type_id: str, target_key: str) -> str | None:
        for c in reversed(self._filed_order()):
            if (c.user_id, c.type_id, c.target_key) == (user_id, type_id, target_key) and (
                c.stage in OPEN_STAGES
            ):
                return c.number
        return None

    def insert_complaint(self, complaint: ComplaintRecord) -> None:
        self._check_writable("insert_complaint")
        _check_complaint_instants(complaint)
        for item in complaint.evidence:
            require_aware(item.received_at, "received_at")
        if complaint.number in self._state.complaints:
            raise NumberTaken(complaint.number)
        self._state.complaints[complaint.number] = complaint

    def update_complaint(self, complaint: ComplaintRecord, expected_version: int) -> None:
        """As the SQLite store: only the life fields change; the timeline only grows."""
        self._check_writable("update_complaint")
        _check_complaint_instants(complaint)
        stored = self._state.complaints.get(complaint.number)
        if stored is None or stored.version != expected_version:
            raise VersionConflict(
                f"complaint {complaint.number} is not at version {expected_version} (or is absent)"
            )
        filed = {
            name: getattr(stored, name)
            for name in (
                "user_id",
                "type_id",
                "target",
                "target_key",
                "description",
                "evidence",
                "language",
                "submitted_at",
            )
        }
        timeline = stored.timeline + complaint.timeline[len(stored.timeline) :]
        self._state.complaints[complaint.number] = complaint.model_copy(
            update={**filed, "timeline": timeline}
        )

    def get_complaint(self, number: str) -> ComplaintRecord | None:
        return self._state.complaints.get(number)

    def complaints_of(self, user_id: int) -> list[ComplaintRecord]:
        return [c for c in reversed(self._filed_order()) if c.user_id == user_id]

    def due_complaints(self, now: datetime, limit: int = 100) -> list[ComplaintRecord]:
        require_aware(now, "now")
        due: list[tuple[datetime, int, ComplaintRecord]] = []
        for index, c in enumerate(self._state.complaints.values()):
            deadlines = [d for d in (c.review_due_at, c.remind_at) if d is not None]
            if deadlines and min(deadlines) <= now:
                due.append((min(deadlines), index, c))
        due.sort(key=lambda entry: entry[:2])
        return [c for _, _, c in due[:limit]]

    def queue(
        self,
        *,
        stage: Stage | None = None,
        type_id: str | None = None,
        flagged: bool | None = None,
        limit: int = 20,
    ) -> list[ComplaintRecord]:
        flagged_numbers = {
            r.complaint_number
            for r in self._state.requests.values()
            if r.status is RequestStatus.OPEN and r.flagged
        }
        return [
            c
            for c in self._filed_order()
            if c.stage in OPEN_STAGES
            and (stage is None or c.stage is stage)
            and (type_id is None or c.type_id == type_id)
            and (flagged is None or (c.number in flagged_numbers) is flagged)
        ][:limit]

    # --- revocation requests -----------------------------------------------------------

    def insert_request(self, request: RevocationRequest) -> None:
        self._check_writable("insert_request")
        _check_request_instants(request)
        if request.complaint_number not in self._state.complaints:
            raise LookupError(f"no complaint {request.complaint_number}")  # a foreign key
        if request.number in self._state.requests:
            raise NumberTaken(request.number)
        self._state.requests[request.number] = request

    def update_request(self, request: RevocationRequest) -> None:
        """As the SQLite store: only the decision fields change."""
        self._check_writable("update_request")
        _check_request_instants(request)
        stored = self._state.requests.get(request.number)
        if stored is None:
            raise LookupError(f"no revocation request {request.number}")
        self._state.requests[request.number] = stored.model_copy(
            update={
                "flagged": request.flagged,
                "status": request.status,
                "decided_at": request.decided_at,
                "decided_by": request.decided_by,
                "decision_text": request.decision_text,
            }
        )

    def get_request(self, number: str) -> RevocationRequest | None:
        return self._state.requests.get(number)

    def _requests_in_order(self) -> list[RevocationRequest]:
        """Oldest first (ties: in order of insertion)."""
        ordered = list(enumerate(self._state.requests.values()))
        ordered.sort(key=lambda pair: (pair[1].created_at, pair[0]))
        return [request for _, request in ordered]

    def open_request_for(self, complaint_number: str) -> RevocationRequest | None:
        for r in reversed(self._requests_in_order()):
            if r.complaint_number == complaint_number and r.status is RequestStatus.OPEN:
                return r
        return None

    def open_requests(self, limit: int = 20) -> list[RevocationRequest]:
        open_ = [r for r in self._requests_in_order() if r.status is RequestStatus.OPEN]
        open_.sort(key=lambda r: not r.flagged)  # stable: oldest first within each group
        return open_[:limit]

    def _events_by(self, user_id: int, kind: str, start: datetime, end: datetime) -> int:
        require_aware(start, "start")
        require_aware(end, "end")
        return sum(
            1
            for c in self._state.complaints.values()
            for e in c.timeline
            if e.kind == kind and e.actor == user_id and _in(e.at, start, end)
        )

    def revocations_in(self, user_id: int, start: datetime, end: datetime) -> int:
        requests = sum(
            1
            for r in self._state.requests.values()
            if r.user_id == user_id and _in(r.created_at, start, end)
        )
        return requests + self._events_by(user_id, "revoked", start, end)

    def appeals_in(self, user_id: int, start: datetime, end: datetime) -> int:
        return self._events_by(user_id, "review_requested", start, end)

    # --- outbox and audit --------------------------------------------------------------

    def enqueue(self, notification: Notification) -> None:
        self._check_writable("enqueue")
        require_aware(notification.created_at, "created_at")
        # As SQLite keeps them: through JSON (refusing what JSON can't hold), unshared.
        params = json.loads(json.dumps(notification.params, ensure_ascii=False))
        self._state.last_outbox_id += 1
        number = self._state.last_outbox_id
        self._state.outbox[number] = _Outboxed(
            notification.model_copy(update={"id": number, "params": params})
        )

    def pending_notifications(self, limit: int = 50) -> list[tuple[Notification, str]]:
        pending: list[tuple[Notification, str]] = []
        for row in self._state.outbox.values():  # in id order: ids only grow
            if row.sent_at is None and len(pending) < limit:
                recipient = self._state.users.get(row.notification.user_id)
                language = _DEFAULT_LANGUAGE if recipient is None else recipient.language
                params = json.loads(json.dumps(row.notification.params))
                pending.append((row.notification.model_copy(update={"params": params}), language))
        return pending

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        self._check_writable("mark_sent")
        require_aware(now, "now")
        for number in ids:
            row = self._state.outbox.get(number)
            if row is not None and row.sent_at is None:
                self._state.outbox[number] = replace(row, sent_at=now)

    def audit(self, entry: AuditEntry) -> None:
        self._check_writable("audit")
        require_aware(entry.at, "at")
        self._state.audit.append(entry)

    def audit_log(self, subject: str | None = None, limit: int = 50) -> list[AuditEntry]:
        entries = list(enumerate(self._state.audit))
        entries.sort(key=lambda pair: (pair[1].at, pair[0]), reverse=True)
        return [e for _, e in entries if subject is None or e.subject == subject][:limit]


def _check_complaint_instants(complaint: ComplaintRecord) -> None:
    require_aware(complaint.submitted_at, "submitted_at")
    for name in ("review_due_at", "revocable_until", "remind_at", "revoked_at"):
        value = getattr(complaint, name)
        if value is not None:
            require_aware(value, name)
    for entry in complaint.timeline:
        require_aware(entry.at, "timeline at")


def _check_request_instants(request: RevocationRequest) -> None:
    require_aware(request.created_at, "created_at")
    if request.decided_at is not None:
        require_aware(request.decided_at, "decided_at")
    for item in request.materials:
        require_aware(item.received_at, "received_at")


class MemoryStore:
    """`storage.base.Store` in memory. Counts one round trip per `transact` / `read`."""

    def __init__(self) -> None:
        self._state = _State()
        self._round_trips = 0
        self._closed = False

    @property
    def round_trips(self) -> int:
        return self._round_trips

    async def _hop(self) -> None:
        if self._closed:
            raise RuntimeError("the store is closed")
        self._round_trips += 1
        await asyncio.sleep(0)  # yield like a real hop would; the work itself runs whole
        if self._closed:
            raise RuntimeError("the store is closed")

    async def transact(self, work: Callable[[Tx], T]) -> T:
        await self._hop()
        working = self._state.copy()
        result = work(MemoryTx(working, writable=True))
        self._state = working  # reached only if work returned: otherwise nothing changed
        return result

    async def read(self, work: Callable[[Tx], T]) -> T:
        await self._hop()
        return work(MemoryTx(self._state.copy(), writable=False))

    async def close(self) -> None:
        self._closed = True
