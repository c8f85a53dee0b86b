"""Revocation requests, the outbox and the audit log: their SQL (part of `storage.sql.SqlTx`)."""

from __future__ import annotations

from datetime import datetime

from flows.ports import NumberTaken
from flows.records import AuditEntry, Notification, RequestStatus, RevocationRequest
from storage.rows import AUDIT, OUTBOX, REQUEST_DECISION, REQUESTS, marks
from storage.sqlbase import OUTBOX_LEASE, SqlBase, chunks

_OPEN = RequestStatus.OPEN.value
_REPEATED = (*AUDIT.columns, "minute")  # a repeated entry's row also names its minute


DEFERRED = "(deferred)"  # the outbox owner of rows kept for later (never an instance)


class RequestsSql(SqlBase):
    # --- revocation requests -------------------------------------------------------------

    def insert_request(self, request: RevocationRequest) -> None:
        """Store a new request; raises NumberTaken if its number is in use, LookupError if
        its complaint doesn't exist."""
        self._check_writable("insert_request")
        try:
            cursor = self._run(
                f"{REQUESTS.insert()} ON CONFLICT (number) DO NOTHING", REQUESTS.values(request)
            )
        except Exception as error:
            if not self._foreign_key_violation(error):
                raise
            raise LookupError(f"no complaint {request.complaint_number}") from error
        if cursor.rowcount != 1:
            raise NumberTaken(request.number)

    def update_request(self, request: RevocationRequest) -> None:
        """Write the decision (flagged, status, decided_at/by, decision_text); what the user
        submitted (complaint, reason, account kind, materials, created_at) never changes.
        Raises LookupError for an unknown number."""
        self._check_writable("update_request")
        cursor = self._run(
            f"UPDATE revocation_requests SET {REQUESTS.assign(REQUEST_DECISION)} WHERE number = ?",
            (*REQUESTS.values(request, REQUEST_DECISION), request.number),
        )
        if cursor.rowcount != 1:
            raise LookupError(f"no revocation request {request.number}")

    def _requests(self, where: str, *values: object) -> list[RevocationRequest]:
        rows = self._run(f"SELECT {REQUESTS.select()} FROM revocation_requests {where}", values)
        return [REQUESTS.record(row) for row in rows]

    def get_request(self, number: str) -> RevocationRequest | None:
        found = self._requests("WHERE number = ?", number)
        return found[0] if found else None

    def open_request_for(self, complaint_number: str) -> RevocationRequest | None:
        """The complaint's open request (the newest, should there be several)."""
        found = self._requests(
            f"WHERE complaint_number = ? AND status = ? "
            f"ORDER BY created_at DESC, {self.ORDER} DESC LIMIT 1",
            complaint_number,
            _OPEN,
        )
        return found[0] if found else None

    def open_requests(self, limit: int = 20) -> list[RevocationRequest]:
        return self._requests(
            f"WHERE status = ? ORDER BY flagged DESC, created_at, {self.ORDER} LIMIT ?",
            _OPEN,
            limit,
        )

    def revocations_in(self, user_id: int, start: datetime, end: datetime) -> int:
        row = self._run(
            "SELECT (SELECT COUNT(*) FROM revocation_requests "
            "        WHERE user_id = ? AND created_at >= ? AND created_at < ?)"
            "     + (SELECT COUNT(*) FROM complaint_events "
            "        WHERE kind = 'revoked' AND actor = ? AND at >= ? AND at < ?) AS n",
            (user_id, start, end, user_id, start, end),
        ).fetchone()
        return int(row["n"])

    # --- outbox and audit ----------------------------------------------------------------

    def enqueue(self, notification: Notification) -> None:
        """Append to the outbox; the outbox assigns the id (`notification.id` is ignored)."""
        self._check_writable("enqueue")
        columns = OUTBOX.but("id")
        self._run(OUTBOX.insert(columns), OUTBOX.values(notification, columns))

    def pending_notifications(self, limit: int = 50) -> list[tuple[Notification, str]]:
        """Unsent notifications in the order they were enqueued, each with the recipient's
        language (the store's default language for someone with no users row)."""
        rows = self._run(
            f"SELECT {OUTBOX.select('o')}, COALESCE(u.language, ?) AS language "
            "FROM outbox AS o LEFT JOIN users AS u ON u.user_id = o.user_id "
            "WHERE o.sent_at IS NULL ORDER BY o.id LIMIT ?",
            (self._default_language, limit),
        )
        return [(OUTBOX.record(row), str(row["language"])) for row in rows]

    def defer_notification(self, notification_id: int, until: datetime) -> None:
        """Keep a notification Telegram cannot deliver now (chat not found: the person never
        opened the bot) out of every claim until `until`, or until they write."""
        self._check_writable("defer_notification")
        self._run(
            "UPDATE outbox SET owner = ?, lease_until = ? WHERE id = ? AND sent_at IS NULL",
            (DEFERRED, until, notification_id),
        )

    def wake_notifications(self, user_id: int) -> int:
        """The person wrote to the bot: their deferred notifications are claimable now."""
        self._check_writable("wake_notifications")
        cursor = self._run(
            "UPDATE outbox SET owner = NULL, lease_until = NULL "
            "WHERE user_id = ? AND owner = ? AND sent_at IS NULL",
            (user_id, DEFERRED),
        )
        return cursor.rowcount

    def deferred_notifications(self) -> list[int]:
        """The recipients of notifications kept for later, one id per notification."""
        rows = self._run(
            "SELECT user_id FROM outbox WHERE owner = ? AND sent_at IS NULL ORDER BY id",
            (DEFERRED,),
        )
        return [int(row["user_id"]) for row in rows]

    def claim_notifications(self, now: datetime, limit: int = 50) -> list[tuple[Notification, str]]:
        """Claim the oldest unsent rows not held by another instance's live lease."""
        self._check_writable("claim_notifications")
        ids = [
            int(row["id"])
            for row in self._run(
                "SELECT id FROM outbox WHERE sent_at IS NULL "
                "AND (lease_until IS NULL OR lease_until <= ? OR owner = ?) "
                f"ORDER BY id LIMIT ?{self.SKIP_LOCKED}",
                (now, self._owner, limit),
            )
        ]
        if not ids:
            return []
        self._run(
            f"UPDATE outbox SET owner = ?, lease_until = ? WHERE id IN ({marks(len(ids))})",
            (self._owner, now + OUTBOX_LEASE, *ids),
        )
        rows = self._run(
            f"SELECT {OUTBOX.select('o')}, COALESCE(u.language, ?) AS language "
            "FROM outbox AS o LEFT JOIN users AS u ON u.user_id = o.user_id "
            f"WHERE o.id IN ({marks(len(ids))}) ORDER BY o.id",
            (self._default_language, *ids),
        )
        return [(OUTBOX.record(row), str(row["language"])) for row in rows]

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        """Mark as sent; ids already sent keep their first `sent_at`; unknown ids are ignored."""
        self._check_writable("mark_sent")
        for chunk in chunks(ids):
            self._run(
                f"UPDATE outbox SET sent_at = ? WHERE id IN ({marks(len(chunk))}) "
                "AND sent_at IS NULL",
                (now, *chunk),
            )

    def audit(self, entry: AuditEntry) -> None:
        self._check_writable("audit")
        self._run(AUDIT.insert(), AUDIT.values(entry))

    def audit_repeated(self, entry: AuditEntry) -> None:
        self._check_writable("audit_repeated")
        minute = entry.at.replace(second=0, microsecond=0)
        self._run(
            f"{AUDIT.insert(_REPEATED)} ON CONFLICT (minute, actor, action, subject, detail) "
            "WHERE minute IS NOT NULL DO UPDATE SET count = audit.count + 1",
            AUDIT.values(entry.model_copy(update={"count": 1}), _REPEATED, minute=minute),
        )

    def audit_log(self, subject: str | None = None, limit: int = 50) -> list[AuditEntry]:
        """Newest first (ties: the later written first); only `subject`'s when given."""
        where, values = ("WHERE subject = ?", (subject,)) if subject is not None else ("", ())
        rows = self._run(
            f"SELECT {AUDIT.select()} FROM audit {where} ORDER BY at DESC, id DESC LIMIT ?",
            (*values, limit),
        )
        return [AUDIT.record(row) for row in rows]
