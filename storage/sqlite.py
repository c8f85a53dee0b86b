"""The SQLite store: one aiosqlite connection, one thread hop per unit of work.

aiosqlite runs every call on its connection's worker thread and each awaited call costs a
hop there and back (~0.17 ms; see the architecture's "Storage"). Going through its public
API an update costs ~7 hops (begin, claim, load, save, ..., commit). Instead the whole unit
of work (`BEGIN IMMEDIATE`, the engine's function over a `SqliteTx`, `COMMIT`) is queued to
that thread as one callable: one hop per update. The worker thread takes callables in FIFO
order and runs one at a time, so units of work never interleave.

Cancelling the awaiting task does not stop a unit of work already queued: it still runs and
commits; only its result is lost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, cast

import aiosqlite

from flows.ports import NumberTaken, Tx, VersionConflict
from flows.records import (
    OPEN_STAGES,
    AuditEntry,
    ComplaintRecord,
    EvidenceItem,
    Notification,
    RequestStatus,
    RevocationRequest,
    Stage,
    TimelineEntry,
    UserRecord,
)
from storage.base import ReadOnlyTransaction, T
from storage.broadcasts import BroadcastLedger
from storage.migrations import apply_migrations
from storage.rows import (
    AUDIT_COLUMNS,
    COMPLAINT_FILING_COLUMNS,
    COMPLAINT_LIFE_COLUMNS,
    EVENT_COLUMNS,
    EVIDENCE_COLUMNS,
    NOTIFICATION_COLUMNS,
    REQUEST_COLUMNS,
    REQUEST_DECISION_COLUMNS,
    USER_COLUMNS,
    audit_entry,
    audit_values,
    complaint_filing_values,
    complaint_life_values,
    complaint_record,
    event_values,
    evidence_item,
    evidence_values,
    marks,
    notification,
    notification_values,
    request_decision_values,
    request_record,
    request_values,
    timeline_entry,
    user_record,
    user_values,
    utc_text,
)

__all__ = ["SqliteStore", "SqliteTx", "utc_text"]

_OPEN_STAGES = tuple(sorted(stage.value for stage in OPEN_STAGES))
_OPEN_MARKS = marks(len(_OPEN_STAGES))
_OPEN = RequestStatus.OPEN.value
_USER_SET = ", ".join(f"{column.strip()} = ?" for column in USER_COLUMNS.split(","))
_LIFE_SET = ", ".join(f"{column} = ?" for column in COMPLAINT_LIFE_COLUMNS)
_DECISION_SET = ", ".join(f"{column} = ?" for column in REQUEST_DECISION_COLUMNS)
_LIFE_COLUMNS = ", ".join(COMPLAINT_LIFE_COLUMNS)
_COMPLAINT_MARKS = marks(len(COMPLAINT_FILING_COLUMNS.split(",")) + len(COMPLAINT_LIFE_COLUMNS))
_DEFAULT_LANGUAGE = "zh-CN"  # a notification's recipient with no users row (yet)
_CHUNK = 500  # values per `IN (...)` list, well under SQLite's variable limit


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class SqliteTx(BroadcastLedger):  # the broadcast ledger's SQL: storage/broadcasts.py
    """One open transaction on the database thread; implements `flows.ports.Tx`.

    Only valid inside the unit of work it was handed to (it must not escape it: it is
    bound to the database thread).
    """

    def __init__(self, conn: sqlite3.Connection, *, writable: bool) -> None:
        self._conn = conn
        self._writable = writable
        self.statements = 0

    def _run(self, sql: str, parameters: Iterable[Any] = ()) -> sqlite3.Cursor:
        self.statements += 1
        return self._conn.execute(sql, tuple(parameters))

    def _run_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.statements += 1
            self._conn.executemany(sql, rows)

    def _check_writable(self, operation: str) -> None:
        if not self._writable:
            raise ReadOnlyTransaction(f"{operation} inside a read-only unit of work")

    # --- processed updates -------------------------------------------------------------

    def claim_update(self, update_id: int, now: datetime) -> bool:
        self._check_writable("claim_update")
        cursor = self._run(
            "INSERT INTO processed_updates (update_id, seen_at) VALUES (?, ?) "
            "ON CONFLICT (update_id) DO NOTHING",
            (update_id, utc_text(now, "now")),
        )
        return cursor.rowcount == 1

    def prune_updates(self, before: datetime) -> int:
        """Forget updates seen before `before`; returns how many were forgotten."""
        self._check_writable("prune_updates")
        cursor = self._run(
            "DELETE FROM processed_updates WHERE seen_at < ?", (utc_text(before, "before"),)
        )
        return cursor.rowcount

    # --- users -------------------------------------------------------------------------

    def load_user(self, user_id: int) -> UserRecord | None:
        row = self._run(
            f"SELECT user_id, {USER_COLUMNS} FROM users WHERE user_id = ?", (user_id,)
        ).fetchone()
        return None if row is None else user_record(row)

    def save_user(self, user: UserRecord, expected_version: int) -> None:
        self._check_writable("save_user")
        values = user_values(user)
        if expected_version == 0:
            cursor = self._run(
                f"INSERT INTO users (user_id, {USER_COLUMNS}) VALUES (?, {marks(len(values))}) "
                "ON CONFLICT (user_id) DO NOTHING",
                (user.user_id, *values),
            )
            if cursor.rowcount != 1:
                raise VersionConflict(f"user {user.user_id} already exists")
            return
        cursor = self._run(
            f"UPDATE users SET {_USER_SET} WHERE user_id = ? AND version = ?",
            (*values, user.user_id, expected_version),
        )
        if cursor.rowcount != 1:
            raise VersionConflict(
                f"user {user.user_id} is not at version {expected_version} (or is absent)"
            )

    # --- complaints --------------------------------------------------------------------

    def find_open_complaint(self, user_id: int, type_id: str, target_key: str) -> str | None:
        row = self._run(
            "SELECT number FROM complaints "
            "WHERE user_id = ? AND type_id = ? AND target_key = ? "
            f"AND stage IN ({_OPEN_MARKS}) "
            "ORDER BY submitted_at DESC, rowid DESC LIMIT 1",
            (user_id, type_id, target_key, *_OPEN_STAGES),
        ).fetchone()
        return None if row is None else str(row["number"])

    def insert_complaint(self, complaint: ComplaintRecord) -> None:
        self._check_writable("insert_complaint")
        cursor = self._run(
            f"INSERT INTO complaints ({COMPLAINT_FILING_COLUMNS}, {_LIFE_COLUMNS}) "
            f"VALUES ({_COMPLAINT_MARKS}) ON CONFLICT (number) DO NOTHING",
            (*complaint_filing_values(complaint), *complaint_life_values(complaint)),
        )
        if cursor.rowcount != 1:
            raise NumberTaken(complaint.number)
        self._run_many(
            f"INSERT INTO evidence (complaint_number, position, {EVIDENCE_COLUMNS}) "
            f"VALUES ({marks(12)})",
            [evidence_values(complaint.number, n, e) for n, e in enumerate(complaint.evidence)],
        )
        self._append_timeline(complaint.number, complaint.timeline, 0)

    def _append_timeline(
        self, number: str, timeline: tuple[TimelineEntry, ...], stored: int
    ) -> None:
        """Insert the entries of `timeline` from position `stored` on."""
        self._run_many(
            f"INSERT INTO complaint_events (complaint_number, position, {EVENT_COLUMNS}) "
            f"VALUES ({marks(6)})",
            [
                event_values(number, position, timeline[position])
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
            f"UPDATE complaints SET {_LIFE_SET} WHERE number = ? AND version = ?",
            (*complaint_life_values(complaint), complaint.number, expected_version),
        )
        if cursor.rowcount != 1:
            raise VersionConflict(
                f"complaint {complaint.number} is not at version {expected_version} (or is absent)"
            )
        stored = self._run(
            "SELECT COUNT(*) FROM complaint_events WHERE complaint_number = ?",
            (complaint.number,),
        ).fetchone()[0]
        self._append_timeline(complaint.number, complaint.timeline, stored)

    def _with_details(self, rows: list[sqlite3.Row]) -> list[ComplaintRecord]:
        """Complaint rows as records, their evidence and timelines loaded with one query per
        table (per chunk of numbers), never one per complaint."""
        numbers = [str(row["number"]) for row in rows]
        evidence: dict[str, list[EvidenceItem]] = {number: [] for number in numbers}
        timeline: dict[str, list[TimelineEntry]] = {number: [] for number in numbers}
        for chunk in _chunks(numbers):
            for e in self._run(
                f"SELECT complaint_number, {EVIDENCE_COLUMNS} FROM evidence "
                f"WHERE complaint_number IN ({marks(len(chunk))}) "
                "ORDER BY complaint_number, position",
                chunk,
            ):
                evidence[e["complaint_number"]].append(evidence_item(e))
            for e in self._run(
                f"SELECT complaint_number, {EVENT_COLUMNS} FROM complaint_events "
                f"WHERE complaint_number IN ({marks(len(chunk))}) "
                "ORDER BY complaint_number, position",
                chunk,
            ):
                timeline[e["complaint_number"]].append(timeline_entry(e))
        return [
            complaint_record(row, evidence[number], timeline[number])
            for row, number in zip(rows, numbers, strict=True)
        ]

    def get_complaint(self, number: str) -> ComplaintRecord | None:
        row = self._run("SELECT * FROM complaints WHERE number = ?", (number,)).fetchone()
        return None if row is None else self._with_details([row])[0]

    def complaints_of(self, user_id: int) -> list[ComplaintRecord]:
        rows = self._run(
            "SELECT * FROM complaints WHERE user_id = ? ORDER BY submitted_at DESC, rowid DESC",
            (user_id,),
        ).fetchall()
        return self._with_details(rows)

    def due_complaints(self, now: datetime, limit: int = 100) -> list[ComplaintRecord]:
        """Complaints whose review or reminder is due, by their earliest due deadline (ties:
        in order of filing)."""
        at = utc_text(now, "now")
        rows = self._run(
            "SELECT * FROM complaints WHERE review_due_at <= ? OR remind_at <= ? "
            "ORDER BY MIN(COALESCE(review_due_at, remind_at), COALESCE(remind_at, review_due_at)),"
            " rowid LIMIT ?",
            (at, at, limit),
        ).fetchall()
        return self._with_details(rows)

    def queue(
        self,
        *,
        stage: Stage | None = None,
        type_id: str | None = None,
        flagged: bool | None = None,
        limit: int = 20,
    ) -> list[ComplaintRecord]:
        conditions = [f"c.stage IN ({_OPEN_MARKS})"]
        parameters: list[Any] = [*_OPEN_STAGES]
        if stage is not None:
            conditions.append("c.stage = ?")
            parameters.append(stage.value)
        if type_id is not None:
            conditions.append("c.type_id = ?")
            parameters.append(type_id)
        if flagged is not None:
            # Not correlated: the (few) open flagged requests are gathered once.
            conditions.append(
                f"c.number {'IN' if flagged else 'NOT IN'} (SELECT complaint_number "
                "FROM revocation_requests WHERE status = ? AND flagged = 1)"
            )
            parameters.append(_OPEN)
        rows = self._run(
            f"SELECT c.* FROM complaints AS c WHERE {' AND '.join(conditions)} "
            "ORDER BY c.submitted_at, c.rowid LIMIT ?",
            (*parameters, limit),
        ).fetchall()
        return self._with_details(rows)

    # --- revocation requests -----------------------------------------------------------

    def insert_request(self, request: RevocationRequest) -> None:
        """Store a new request; raises NumberTaken if its number is in use, LookupError if
        its complaint doesn't exist."""
        self._check_writable("insert_request")
        try:
            cursor = self._run(
                f"INSERT INTO revocation_requests ({REQUEST_COLUMNS}) VALUES ({marks(12)}) "
                "ON CONFLICT (number) DO NOTHING",
                request_values(request),
            )
        except sqlite3.IntegrityError as error:
            if "FOREIGN KEY" not in str(error):
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
            f"UPDATE revocation_requests SET {_DECISION_SET} WHERE number = ?",
            (*request_decision_values(request), request.number),
        )
        if cursor.rowcount != 1:
            raise LookupError(f"no revocation request {request.number}")

    def get_request(self, number: str) -> RevocationRequest | None:
        row = self._run(
            f"SELECT {REQUEST_COLUMNS} FROM revocation_requests WHERE number = ?", (number,)
        ).fetchone()
        return None if row is None else request_record(row)

    def open_request_for(self, complaint_number: str) -> RevocationRequest | None:
        """The complaint's open request (the newest, should there be several)."""
        row = self._run(
            f"SELECT {REQUEST_COLUMNS} FROM revocation_requests "
            "WHERE complaint_number = ? AND status = ? "
            "ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (complaint_number, _OPEN),
        ).fetchone()
        return None if row is None else request_record(row)

    def open_requests(self, limit: int = 20) -> list[RevocationRequest]:
        rows = self._run(
            f"SELECT {REQUEST_COLUMNS} FROM revocation_requests WHERE status = ? "
            "ORDER BY flagged DESC, created_at, rowid LIMIT ?",
            (_OPEN, limit),
        )
        return [request_record(row) for row in rows]

    def revocations_in(self, user_id: int, start: datetime, end: datetime) -> int:
        window = (utc_text(start, "start"), utc_text(end, "end"))
        row = self._run(
            "SELECT (SELECT COUNT(*) FROM revocation_requests "
            "        WHERE user_id = ? AND created_at >= ? AND created_at < ?)"
            "     + (SELECT COUNT(*) FROM complaint_events "
            "        WHERE kind = 'revoked' AND actor = ? AND at >= ? AND at < ?)",
            (user_id, *window, user_id, *window),
        ).fetchone()
        return int(row[0])

    def appeals_in(self, user_id: int, start: datetime, end: datetime) -> int:
        row = self._run(
            "SELECT COUNT(*) FROM complaint_events "
            "WHERE kind = 'review_requested' AND actor = ? AND at >= ? AND at < ?",
            (user_id, utc_text(start, "start"), utc_text(end, "end")),
        ).fetchone()
        return int(row[0])

    # --- outbox and audit --------------------------------------------------------------

    def enqueue(self, notification: Notification) -> None:
        """Append to the outbox; the outbox assigns the id (`notification.id` is ignored)."""
        self._check_writable("enqueue")
        self._run(
            f"INSERT INTO outbox ({NOTIFICATION_COLUMNS}) VALUES ({marks(4)})",
            notification_values(notification),
        )

    def pending_notifications(self, limit: int = 50) -> list[tuple[Notification, str]]:
        """Unsent notifications in the order they were enqueued, each with the recipient's
        language (zh-CN for someone with no users row)."""
        rows = self._run(
            "SELECT o.id, o.user_id, o.key, o.params, o.created_at, "
            "COALESCE(u.language, ?) AS language "
            "FROM outbox AS o LEFT JOIN users AS u ON u.user_id = o.user_id "
            "WHERE o.sent_at IS NULL ORDER BY o.id LIMIT ?",
            (_DEFAULT_LANGUAGE, limit),
        )
        return [(notification(row), str(row["language"])) for row in rows]

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        """Mark as sent; ids already sent keep their first `sent_at`; unknown ids are ignored."""
        self._check_writable("mark_sent")
        at = utc_text(now, "now")
        for chunk in _chunks(ids):
            self._run(
                f"UPDATE outbox SET sent_at = ? WHERE id IN ({marks(len(chunk))}) "
                "AND sent_at IS NULL",
                (at, *chunk),
            )

    def audit(self, entry: AuditEntry) -> None:
        self._check_writable("audit")
        self._run(f"INSERT INTO audit ({AUDIT_COLUMNS}) VALUES ({marks(5)})", audit_values(entry))

    def audit_log(self, subject: str | None = None, limit: int = 50) -> list[AuditEntry]:
        """Newest first (ties: the later written first); only `subject`'s when given."""
        where, parameters = ("WHERE subject = ?", (subject,)) if subject is not None else ("", ())
        rows = self._run(
            f"SELECT {AUDIT_COLUMNS} FROM audit {where} ORDER BY at DESC, id DESC LIMIT ?",
            (*parameters, limit),
        )
        return [audit_entry(row) for row in rows]


def _setup(conn: sqlite3.Connection, *, in_memory: bool, now: datetime | None) -> list[str]:
    """Pragmas and migrations, on the database thread. Returns the migrations applied."""
    conn.row_factory = sqlite3.Row
    if not in_memory:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"could not switch the database to WAL (got {mode!r})")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    if now is not None:
        stamp = utc_text(now, "now")
    else:
        # Bookkeeping only (when a migration ran), so SQLite's own clock will do.
        stamp = conn.execute(
            "SELECT strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00'"
        ).fetchone()[0]
    return apply_migrations(conn, stamp)


class SqliteStore:
    """`storage.base.Store` over one aiosqlite connection. Create it with `await open(...)`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db: aiosqlite.Connection | None = db
        self._round_trips = 0
        self._statements = 0
        self.migrations_applied: list[str] = []

    @classmethod
    async def open(cls, path: Path | str, *, now: datetime | None = None) -> SqliteStore:
        """Open (creating it and its parent directories) and migrate the database at `path`.

        `":memory:"` gives a private in-memory database (no WAL). `now` stamps the
        migrations applied; without it SQLite's clock does.
        """
        in_memory = str(path) == ":memory:"
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        store = cls(db)
        try:
            store.migrations_applied = await store._on_db_thread(
                partial(_setup, in_memory=in_memory, now=now)
            )
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def round_trips(self) -> int:
        """Hops made by `transact` and `read` (opening the store is not counted)."""
        return self._round_trips

    @property
    def statements(self) -> int:
        """SQL statements issued through `SqliteTx` (BEGIN/COMMIT not counted)."""
        return self._statements

    async def _on_db_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(raw sqlite3 connection)` on aiosqlite's worker thread: one hop.

        aiosqlite's public API costs a hop per awaited call (~7 per update); its private
        `Connection._execute` queues one callable on the worker thread, and `_conn` is the
        raw sqlite3 connection that lives there. Used together, a whole unit of work costs
        one hop. Both are private to the pinned aiosqlite 0.22.1: this is the only place
        that touches them, and tests/storage/test_sqlite.py::test_one_hop_per_unit_of_work
        fails if they change.
        """
        db = self._db
        if db is None:
            raise RuntimeError("the store is closed")
        execute = cast(Callable[[Callable[[], T]], Awaitable[T]], db._execute)
        return await execute(lambda: fn(db._conn))

    async def transact(self, work: Callable[[Tx], T]) -> T:
        def unit(conn: sqlite3.Connection) -> T:
            tx = SqliteTx(conn, writable=True)
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(tx)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._statements += tx.statements
            return result

        self._round_trips += 1
        return await self._on_db_thread(unit)

    async def read(self, work: Callable[[Tx], T]) -> T:
        def unit(conn: sqlite3.Connection) -> T:
            tx = SqliteTx(conn, writable=False)
            # A deferred BEGIN takes no write lock; it gives the reads one snapshot.
            conn.execute("BEGIN")
            try:
                return work(tx)
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._statements += tx.statements

        self._round_trips += 1
        return await self._on_db_thread(unit)

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()
