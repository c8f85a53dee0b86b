"""Erasing personal data (part of `storage.sql.SqlTx`): on a person's request and when the
retention period of a closed complaint is over. What stays is anonymous: number, type, stage,
times, counts; an erased complaint is recognised by its empty `target_key`."""

from __future__ import annotations

from datetime import datetime

from flows.records import OPEN_STAGES, Stage
from storage.rows import marks
from storage.sqlbase import SqlBase

_CLOSED = tuple(sorted(stage.value for stage in Stage if stage not in OPEN_STAGES))


class PrivacySql(SqlBase):
    def erase_complaint(self, number: str) -> None:
        self._check_writable("erase_complaint")
        self._run(
            "UPDATE complaints SET target = '', target_key = '', description = '', "
            "result_text = NULL WHERE number = ?",
            (number,),
        )
        self._run("DELETE FROM evidence WHERE complaint_number = ?", (number,))
        self._run("UPDATE complaint_events SET text = '' WHERE complaint_number = ?", (number,))
        self._run(
            "UPDATE revocation_requests SET materials = '[]', decision_text = '' "
            "WHERE complaint_number = ?",
            (number,),
        )

    def erasable_complaints(self, closed_before: datetime, limit: int = 50) -> list[str]:
        # Closed before `closed_before` implies submitted before it: the (stage, submitted_at)
        # index bounds the scan to old closed complaints.
        rows = self._run(
            f"SELECT number FROM complaints c WHERE stage IN ({marks(len(_CLOSED))}) "
            "AND submitted_at < ? AND target_key <> '' "
            "AND COALESCE(revoked_at, (SELECT MAX(e.at) FROM complaint_events e "
            "WHERE e.complaint_number = c.number)) < ? ORDER BY submitted_at LIMIT ?",
            (*_CLOSED, closed_before, closed_before, limit),
        )
        return [str(row["number"]) for row in rows]

    def erase_sent_notifications(self, user_id: int) -> int:
        self._check_writable("erase_sent_notifications")
        cursor = self._run(
            "DELETE FROM outbox WHERE user_id = ? AND sent_at IS NOT NULL", (user_id,)
        )
        return cursor.rowcount
