"""The port's SQL, written once for both stores (SQLite and PostgreSQL).

`SqlTx` implements `flows.ports.Tx` over a `_execute(sql, values)` that each store provides
for its driver. The SQL is the common subset of the two dialects: `?` placeholders (the
PostgreSQL store translates them), `ON CONFLICT ... DO NOTHING`, `RETURNING`, `CASE` instead
of scalar `MIN(a, b)`, booleans as parameters. What differs is a class attribute: the column
that orders rows by insertion (SQLite's `rowid`, PostgreSQL's identity column `seq`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from flows.ports import NumberTaken, VersionConflict
from flows.records import (
    OPEN_STAGES,
    ComplaintRecord,
    RequestStatus,
    Stage,
    TimelineEntry,
    UserRecord,
)
from storage.broadcasts import LedgerSql
from storage.privacy import PrivacySql
from storage.requests import RequestsSql
from storage.rows import (
    COMPLAINT_LIFE,
    COMPLAINTS,
    EVENTS,
    EVIDENCE,
    USERS,
    M,
    Table,
    instant,
    marks,
)
from storage.sqlbase import chunks

_OPEN_STAGES = tuple(sorted(stage.value for stage in OPEN_STAGES))
_OPEN_MARKS = marks(len(_OPEN_STAGES))
_OPEN = RequestStatus.OPEN.value


class SqlTx(RequestsSql, LedgerSql, PrivacySql):
    """One open transaction; `flows.ports.Tx`. Valid only inside the unit of work it was
    handed to (it is bound to the database thread)."""

    # --- processed updates and users ------------------------------------------------------

    def claim_update(self, update_id: int, now: datetime) -> bool:
        self._check_writable("claim_update")
        cursor = self._run(
            "INSERT INTO processed_updates (update_id, seen_at) VALUES (?, ?) "
            "ON CONFLICT (update_id) DO NOTHING",
            (update_id, now),
        )
        return cursor.rowcount == 1

    def keep_outcome(self, update_id: int, outcome: str) -> None:
        self._check_writable("keep_outcome")
        self._run(
            "UPDATE processed_updates SET outcome = ? WHERE update_id = ?", (outcome, update_id)
        )

    def kept_outcome(self, update_id: int) -> str | None:
        row = self._run(
            "SELECT outcome FROM processed_updates WHERE update_id = ?", (update_id,)
        ).fetchone()
        return None if row is None or row["outcome"] is None else str(row["outcome"])

    def forget_outcomes(self, update_ids: Sequence[int]) -> None:
        self._check_writable("forget_outcomes")
        for part in chunks(list(update_ids)):
            where = f"update_id IN ({marks(len(part))})"
            self._run(f"UPDATE processed_updates SET outcome = NULL WHERE {where}", tuple(part))

    def prune_updates(self, before: datetime) -> int:
        """Forget updates seen before `before`; returns how many were forgotten."""
        self._check_writable("prune_updates")
        return self._run("DELETE FROM processed_updates WHERE seen_at < ?", (before,)).rowcount

    def last_update_id(self) -> int:
        row = self._run("SELECT COALESCE(MAX(update_id), 0) AS n FROM processed_updates")
        return int(row.fetchone()["n"])

    def load_user(self, user_id: int) -> UserRecord | None:
        row = self._run(f"SELECT {USERS.select()} FROM users WHERE user_id = ?", (user_id,))
        found = row.fetchone()
        return None if found is None else USERS.record(found)

    def save_user(self, user: UserRecord, expected_version: int) -> None:
        self._check_writable("save_user")
        if expected_version == 0:
            cursor = self._run(
                f"{USERS.insert()} ON CONFLICT (user_id) DO NOTHING", USERS.values(user)
            )
            if cursor.rowcount != 1:
                raise VersionConflict(f"user {user.user_id} already exists")
            return
        changed = USERS.but("user_id")
        cursor = self._run(
            f"UPDATE users SET {USERS.assign(changed)} WHERE user_id = ? AND version = ?",
            (*USERS.values(user, changed), user.user_id, expected_version),
        )
        if cursor.rowcount != 1:
            raise VersionConflict(
                f"user {user.user_id} is not at version {expected_version} (or is absent)"
            )

    # --- complaints ------------------------------------------------------------------------

    def find_open_complaint(self, user_id: int, type_id: str, target_key: str) -> str | None:
        row = self._run(
            "SELECT number FROM complaints "
            "WHERE user_id = ? AND type_id = ? AND target_key = ? "
            f"AND stage IN ({_OPEN_MARKS}) "
            f"ORDER BY submitted_at DESC, {self.ORDER} DESC LIMIT 1",
            (user_id, type_id, target_key, *_OPEN_STAGES),
        ).fetchone()
        return None if row is None else str(row["number"])

    def insert_complaint(self, complaint: ComplaintRecord) -> None:
        self._check_writable("insert_complaint")
        cursor = self._run(
            f"{COMPLAINTS.insert()} ON CONFLICT (number) DO NOTHING", COMPLAINTS.values(complaint)
        )
        if cursor.rowcount != 1:
            raise NumberTaken(complaint.number)
        self._run_many(
            EVIDENCE.insert(),
            [
                EVIDENCE.values(item, complaint_number=complaint.number, position=position)
                for position, item in enumerate(complaint.evidence)
            ],
        )
        self._append_timeline(complaint.number, complaint.timeline, 0)

    def _append_timeline(
        self, number: str, timeline: tuple[TimelineEntry, ...], stored: int
    ) -> None:
        """Insert the entries of `timeline` from position `stored` on."""
        self._run_many(
            EVENTS.insert(),
            [
                EVENTS.values(timeline[position], complaint_number=number, position=position)
                for position in range(stored, len(timeline))
            ],
        )

    def update_complaint(self, complaint: ComplaintRecord, expected_version: int) -> None:
        """Write the life columns (stage, deadlines, result, ..., version) where the stored
        version is `expected_version`, then append the timeline entries beyond those stored.

        What was filed (user, type, target, description, language, submitted_at, evidence)
        and timeline entries already stored never change here.
        """
        self._check_writable("update_complaint")
        cursor = self._run(
            f"UPDATE complaints SET {COMPLAINTS.assign(COMPLAINT_LIFE)} "
            "WHERE number = ? AND version = ?",
            (*COMPLAINTS.values(complaint, COMPLAINT_LIFE), complaint.number, expected_version),
        )
        if cursor.rowcount != 1:
            raise VersionConflict(
                f"complaint {complaint.number} is not at version {expected_version} (or is absent)"
            )
        stored = self._run(
            "SELECT COUNT(*) AS n FROM complaint_events WHERE complaint_number = ?",
            (complaint.number,),
        ).fetchone()["n"]
        self._append_timeline(complaint.number, complaint.timeline, int(stored))

    def _with_details(self, rows: list[Any]) -> list[ComplaintRecord]:
        """Complaint rows as records, their evidence and timelines loaded with one query per
        table (per chunk of numbers), never one per complaint."""
        numbers = [str(row["number"]) for row in rows]
        evidence = self._by_complaint(EVIDENCE, numbers)
        timeline = self._by_complaint(EVENTS, numbers)
        return [
            COMPLAINTS.record(row, evidence=evidence[number], timeline=timeline[number])
            for row, number in zip(rows, numbers, strict=True)
        ]

    def _by_complaint(self, table: Table[M], numbers: list[str]) -> dict[str, list[M]]:
        """The rows of `table` (evidence, timeline) of each complaint, in position order."""
        found: dict[str, list[M]] = {number: [] for number in numbers}
        for chunk in chunks(numbers):
            for row in self._run(
                f"SELECT {table.select()} FROM {table.name} "
                f"WHERE complaint_number IN ({marks(len(chunk))}) "
                "ORDER BY complaint_number, position",
                chunk,
            ):
                found[row["complaint_number"]].append(table.record(row))
        return found

    def _complaints(
        self, where: str, values: Iterable[Any], source: str = ""
    ) -> list[ComplaintRecord]:
        """`SELECT <complaint columns> FROM <source>complaints AS c <where>` as records."""
        rows = self._run(
            f"SELECT {COMPLAINTS.select('c')} FROM {source}complaints AS c {where}", values
        )
        return self._with_details(rows.fetchall())

    def get_complaint(self, number: str) -> ComplaintRecord | None:
        found = self._complaints("WHERE c.number = ?", (number,))
        return found[0] if found else None

    def complaints_of(self, user_id: int) -> list[ComplaintRecord]:
        return self._complaints(
            f"WHERE c.user_id = ? ORDER BY c.submitted_at DESC, c.{self.ORDER} DESC", (user_id,)
        )

    def due_complaints(self, now: datetime, limit: int = 100) -> list[ComplaintRecord]:
        """Complaints whose review or reminder is due, by their earliest due deadline (ties:
        in order of filing). Each deadline's partial index gives its due rows."""
        earliest = (
            "CASE WHEN c.remind_at IS NULL OR c.review_due_at <= c.remind_at "
            "THEN c.review_due_at ELSE c.remind_at END"
        )
        return self._complaints(
            "WHERE c.number IN (SELECT number FROM complaints WHERE review_due_at <= ? "
            "UNION SELECT number FROM complaints WHERE remind_at <= ?) "
            # a writing transaction claims the due rows it reads: a second sweeper (another
            # instance) skips them instead of colliding with this one
            f"ORDER BY {earliest}, c.{self.ORDER} LIMIT ?{self.SKIP_LOCKED * self._writable}",
            (now, now, limit),
        )

    def next_deadline(self) -> datetime | None:
        """`MIN()` over each deadline's partial index (each an index lookup), then the smaller
        of the two that exist (a bare scalar MIN(a, b) would be NULL if one side is empty)."""
        row = self._run(
            "SELECT MIN(at) AS at FROM ("
            "SELECT MIN(review_due_at) AS at FROM complaints WHERE review_due_at IS NOT NULL "
            "UNION ALL "
            "SELECT MIN(remind_at) AS at FROM complaints WHERE remind_at IS NOT NULL) AS d"
        ).fetchone()
        at = row["at"]
        return None if at is None else instant(at)

    def _queue_where(
        self, stage: Stage | None, type_id: str | None, flagged: bool | None
    ) -> tuple[str, str, list[Any]]:
        """(source, conditions, values) of the open complaints a queue filter selects."""
        source, conditions = "", [f"c.stage IN ({_OPEN_MARKS})"]
        values: list[Any] = [*_OPEN_STAGES]
        flagged_numbers = (
            "SELECT DISTINCT complaint_number FROM revocation_requests "
            "WHERE status = ? AND flagged = ?"
        )
        if flagged:
            # Driven by the (few) open flagged requests, each complaint then found by its key:
            # never a walk over every open complaint. (CROSS JOIN keeps SQLite to that order.)
            source = f"({flagged_numbers}) AS r CROSS JOIN "
            conditions.insert(0, "c.number = r.complaint_number")
            values[:0] = [_OPEN, True]
        elif flagged is not None:
            conditions.append(f"c.number NOT IN ({flagged_numbers})")
            values.extend((_OPEN, True))
        if stage is not None:
            conditions.append("c.stage = ?")
            values.append(stage.value)
        if type_id is not None:
            conditions.append("c.type_id = ?")
            values.append(type_id)
        return source, " AND ".join(conditions), values

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
        """Most urgent first: the nearest of the review deadline and (after `now`) the end of
        the withdrawal window; complaints with neither after them; ties in order of filing."""
        source, where, values = self._queue_where(stage, type_id, flagged)
        window = "CASE WHEN c.revocable_until > ? THEN c.revocable_until END"
        due = (
            f"CASE WHEN c.review_due_at IS NULL THEN {window} "
            f"WHEN {window} IS NULL OR c.review_due_at <= {window} THEN c.review_due_at "
            f"ELSE {window} END"
        )
        moment = now or datetime.max.replace(tzinfo=UTC)
        order = f"({due}) IS NULL, {due}"
        return self._complaints(
            f"WHERE {where} ORDER BY {order}, c.submitted_at, c.{self.ORDER} LIMIT ? OFFSET ?",
            (*values, *[moment] * order.count("?"), limit, offset),
            source,
        )

    def queue_count(
        self,
        *,
        stage: Stage | None = None,
        type_id: str | None = None,
        flagged: bool | None = None,
    ) -> int:
        source, where, values = self._queue_where(stage, type_id, flagged)
        row = self._run(f"SELECT COUNT(*) AS n FROM {source}complaints AS c WHERE {where}", values)
        return int(row.fetchone()["n"])

    def find_complaints(self, text: str, limit: int = 10) -> list[ComplaintRecord]:
        """By number (a prefix), the author's user id, the target or the description (case
        does not matter), newest first."""
        words = text.strip()
        like = "%" + _escape_like(words.lower()) + "%"
        conditions = [
            "c.number LIKE ? ESCAPE '\\'",
            "LOWER(c.target) LIKE ? ESCAPE '\\'",
            "LOWER(c.target_key) LIKE ? ESCAPE '\\'",
            "LOWER(c.description) LIKE ? ESCAPE '\\'",
        ]
        prefix = like[1:].upper()
        values: list[Any] = [prefix, like, like, like]
        if words.isdigit() and len(words) <= 18:
            conditions.append("c.user_id = ?")
            values.append(int(words))
        return self._complaints(
            f"WHERE {' OR '.join(conditions)} "
            f"ORDER BY c.submitted_at DESC, c.{self.ORDER} DESC LIMIT ?",
            (*values, limit),
        )

    def export_batch(
        self,
        start: datetime,
        end: datetime,
        stage: Stage | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[ComplaintRecord]:
        """Complaints submitted in [start, end) (of `stage` if given), in (submitted_at, number)
        order after the `after` key: one batch of an export read without an offset."""
        conditions = ["c.submitted_at >= ?", "c.submitted_at < ?"]
        values: list[Any] = [start, end]
        if stage is not None:
            conditions.append("c.stage = ?")
            values.append(stage.value)
        if after is not None:
            conditions.append("(c.submitted_at > ? OR (c.submitted_at = ? AND c.number > ?))")
            values.extend((after[0], after[0], after[1]))
        return self._complaints(
            f"WHERE {' AND '.join(conditions)} ORDER BY c.submitted_at, c.number LIMIT ?",
            (*values, limit),
        )

    def appeals_in(self, user_id: int, start: datetime, end: datetime) -> int:
        row = self._run(
            "SELECT COUNT(*) AS n FROM complaint_events "
            "WHERE kind = 'review_requested' AND actor = ? AND at >= ? AND at < ?",
            (user_id, start, end),
        ).fetchone()
        return int(row["n"])


def _escape_like(text: str) -> str:
    """`text` matched literally by LIKE ... ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
