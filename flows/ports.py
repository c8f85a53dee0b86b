"""The storage port: what the flows need from a database, as synchronous interfaces in parts.

A `Tx` is one open write transaction. The engine runs a whole update as one function over a
`Tx`; the store runs that function on its database thread inside one transaction (one thread
hop per update) and rolls back if it raises.

`Tx` is composed of one small protocol per thing it serves (users and update claims,
complaints, revocation requests, the outbox, the broadcast ledger, the audit log), so a
function can say which part it uses by typing its argument as that part.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from flows.records import (
    AuditEntry,
    Broadcast,
    BroadcastStatus,
    ComplaintRecord,
    Delivery,
    DeliveryState,
    Notification,
    RevocationRequest,
    Segment,
    Stage,
    UserRecord,
)


class VersionConflict(Exception):
    """The row changed since it was loaded. The store retries the whole unit of work a few
    times before letting this through (another writer came first)."""


class NumberTaken(Exception):
    """A complaint number collided with an existing one (astronomically rare; draw again)."""


class Users(Protocol):
    """Users' rows and the claims on Telegram update ids."""

    def claim_update(self, update_id: int, now: datetime) -> bool:
        """Record `update_id` as handled; False if it was handled before (a redelivery)."""
        ...

    def keep_outcome(self, update_id: int, outcome: str) -> None:
        """Store what the claimed `update_id` answered (JSON) until its delivery is confirmed."""
        ...

    def kept_outcome(self, update_id: int) -> str | None:
        """The answer kept for `update_id`; None once delivered (or never kept)."""
        ...

    def forget_outcomes(self, update_ids: Sequence[int]) -> None:
        """Their answers reached Telegram: a redelivery of these sends nothing again."""
        ...

    def prune_updates(self, before: datetime) -> int:
        """Forget update ids seen before `before` (Telegram redelivers within 24 h); how many."""
        ...

    def last_update_id(self) -> int:
        """The highest update id claimed and not yet pruned; 0 if none."""
        ...

    def load_user(self, user_id: int) -> UserRecord | None:
        """The user's row, or None for someone new."""
        ...

    def save_user(self, user: UserRecord, expected_version: int) -> None:
        """Insert (expected_version 0, row absent) or update where the stored version matches.

        Stores `user` as given (the caller bumps `version`); raises VersionConflict otherwise.
        """
        ...


class Complaints(Protocol):
    """Complaints with their evidence and timelines."""

    def find_open_complaint(self, user_id: int, type_id: str, target_key: str) -> str | None:
        """The number of this user's open complaint of this type against this target, if any."""
        ...

    def insert_complaint(self, complaint: ComplaintRecord) -> None:
        """Store a new complaint with its evidence; raises NumberTaken on a number collision."""
        ...

    def get_complaint(self, number: str) -> ComplaintRecord | None: ...

    def complaints_of(self, user_id: int) -> list[ComplaintRecord]:
        """The user's complaints, newest first."""
        ...

    def update_complaint(self, complaint: ComplaintRecord, expected_version: int) -> None:
        """Store a changed complaint (the caller bumps `version`) if the stored version matches,
        appending timeline entries beyond those stored; raises VersionConflict otherwise."""
        ...

    def due_complaints(self, now: datetime, limit: int = 100) -> list[ComplaintRecord]:
        """Complaints with `review_due_at` or `remind_at` at or before `now`, earliest first."""
        ...

    def next_deadline(self) -> datetime | None:
        """The earliest stored `review_due_at` or `remind_at` (None: no deadline at all)."""
        ...

    def queue(
        self,
        *,
        stage: Stage | None = None,
        type_id: str | None = None,
        flagged: bool | None = None,
        limit: int = 20,
        offset: int = 0,
        now: datetime | None = None,
    ) -> list[ComplaintRecord]:
        """Open complaints for operators, most urgent first: the nearest of the review deadline
        and the end of the withdrawal window (if after `now`), then those with neither; ties
        in order of filing. `flagged` = with an open flagged request."""
        ...

    def queue_count(
        self,
        *,
        stage: Stage | None = None,
        type_id: str | None = None,
        flagged: bool | None = None,
    ) -> int:
        """How many complaints `queue` would list without a limit."""
        ...

    def find_complaints(self, text: str, limit: int = 10) -> list[ComplaintRecord]:
        """Complaints whose number starts with `text`, whose author's id is `text`, or whose
        target or description contains it (any case); newest first."""
        ...

    def export_batch(
        self,
        start: datetime,
        end: datetime,
        stage: Stage | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[ComplaintRecord]:
        """The next `limit` complaints submitted in [start, end) (of `stage` if given) after
        the key (submitted_at, number) `after`, in that key's order."""
        ...

    def appeals_in(self, user_id: int, start: datetime, end: datetime) -> int:
        """`review_requested` timeline entries by this user in [start, end)."""
        ...


class Requests(Protocol):
    """Revocation requests."""

    def insert_request(self, request: RevocationRequest) -> None: ...

    def update_request(self, request: RevocationRequest) -> None: ...

    def get_request(self, number: str) -> RevocationRequest | None: ...

    def open_request_for(self, complaint_number: str) -> RevocationRequest | None: ...

    def open_requests(self, limit: int = 20) -> list[RevocationRequest]:
        """Open revocation requests, flagged first, then oldest first."""
        ...

    def revocations_in(self, user_id: int, start: datetime, end: datetime) -> int:
        """Revocation requests made plus self-service revocations done by the user in
        [start, end) (the monthly risk limit counts both)."""
        ...


class Outbox(Protocol):
    """Notifications written with the change that causes them, sent after commit."""

    def enqueue(self, notification: Notification) -> None:
        """Write a notification to the outbox (sent after commit by the outbox sender)."""
        ...

    def pending_notifications(self, limit: int = 50) -> list[tuple[Notification, str]]:
        """The oldest unsent notifications, each with the recipient's current language."""
        ...

    def claim_notifications(self, now: datetime, limit: int = 50) -> list[tuple[Notification, str]]:
        """Like `pending_notifications`, but claimed for this instance for a lease: rows
        another instance holds under an unexpired lease are skipped (never waited for); this
        instance's own and expired claims are taken (again)."""
        ...

    def defer_notification(self, notification_id: int, until: datetime) -> None:
        """Keep an undeliverable notification (the chat does not exist yet) unclaimed until
        `until` or until the person writes (`wake_notifications`); never dropped."""
        ...

    def wake_notifications(self, user_id: int) -> int:
        """Make the person's deferred notifications claimable now; how many."""
        ...

    def deferred_notifications(self) -> list[int]:
        """The recipient of each notification kept for later."""
        ...

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        """Record notifications as delivered (or given up on): they are never sent again."""
        ...


class Audit(Protocol):
    """The operators' audit log."""

    def audit(self, entry: AuditEntry) -> None: ...

    def audit_repeated(self, entry: AuditEntry) -> None:
        """Like `audit`, but bounded: the first entry of an actor, action, subject and detail
        in a UTC minute is written with count 1; each equal one later in that minute adds one
        to that row's count (its `at` stays the first's)."""
        ...

    def audit_log(self, subject: str | None = None, limit: int = 50) -> list[AuditEntry]: ...


class Ledger(Protocol):
    """Broadcasts and their delivery ledger (flows.broadcast, bot.broadcaster)."""

    def audience_count(self, segment: Segment) -> int:
        """How many users a broadcast to `segment` would reach now (blocked users left out)."""
        ...

    def create_broadcast(self, broadcast: Broadcast) -> Broadcast:
        """Store a broadcast and one pending ledger row per recipient of its segment, in this
        transaction; returns it with its new `id` and `total` (the number of rows)."""
        ...

    def get_broadcast(self, broadcast_id: int) -> Broadcast | None: ...

    def list_broadcasts(self, limit: int = 10) -> list[Broadcast]:
        """The most recent broadcasts, newest first."""
        ...

    def active_broadcasts(self) -> list[Broadcast]:
        """Running broadcasts, oldest first."""
        ...

    def set_broadcast_status(
        self,
        broadcast_id: int,
        status: BroadcastStatus,
        now: datetime,
        expected: frozenset[BroadcastStatus] | None = None,
    ) -> bool:
        """Move a broadcast to `status` (stamping `finished_at` for done and cancelled) if its
        status is one of `expected` (any, if None); False if it is not (or is absent)."""
        ...

    def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        """Remember the operator's status message (edited in place as the broadcast runs)."""
        ...

    def claim_deliveries(self, broadcast_id: int, limit: int, now: datetime) -> list[int]:
        """Up to `limit` pending recipients, lowest user id first, moved to `sending`
        (attempts + 1) and leased to this instance: the sender now owns them. Rows another
        instance is claiming at the same moment are skipped, not waited for."""
        ...

    def finish_delivery(
        self,
        broadcast_id: int,
        user_id: int,
        state: DeliveryState,
        now: datetime,
        message_id: int | None = None,
        error: str = "",
    ) -> None:
        """Record what became of a claimed row (sent, blocked, failed or unknown)."""
        ...

    def release_delivery(self, broadcast_id: int, user_id: int, now: datetime) -> None:
        """Give a claimed row back (sending -> pending, attempts - 1): it was not sent (a 429,
        a pause or a shutdown came first) and will be claimed again."""
        ...

    def recover_in_flight(self, now: datetime) -> int:
        """Rows left `sending` whose owner's lease expired by `now` (their owner died or
        stalled) become `unknown`: they may or may not have been delivered and are never
        resent. A live instance's rows in flight are left alone. How many."""
        ...

    def delivery_counts(self, broadcast_id: int) -> dict[DeliveryState, int]:
        """Rows per state (every state present, zeros included)."""
        ...

    def get_delivery(self, broadcast_id: int, user_id: int) -> Delivery | None: ...


class Privacy(Protocol):
    """Erasing personal data, keeping what is anonymous (number, type, stage, times)."""

    def erase_complaint(self, number: str) -> None:
        """Blank the complaint's target, description, result and timeline notes, delete its
        evidence and its withdrawal requests' materials and decision texts."""
        ...

    def erasable_complaints(self, closed_before: datetime, limit: int = 50) -> list[str]:
        """Numbers of complaints closed (result given or withdrawn) before `closed_before`
        whose personal data is still stored, oldest first."""
        ...

    def erase_sent_notifications(self, user_id: int) -> int:
        """Delete the notifications already sent to `user_id`; how many."""
        ...


class Tx(Users, Complaints, Requests, Outbox, Audit, Ledger, Privacy, Protocol):
    """One open transaction: every part of the port."""
