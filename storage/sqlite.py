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
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, cast

import aiosqlite

from flows.ports import NumberTaken, Tx, VersionConflict
from flows.records import (
    OPEN_STAGES,
    ComplaintRecord,
    Draft,
    EvidenceItem,
    EvidenceKind,
    Stage,
    UserRecord,
)
from storage.base import ReadOnlyTransaction, T, require_aware
from storage.migrations import apply_migrations

_OPEN_STAGES = tuple(sorted(stage.value for stage in OPEN_STAGES))
_OPEN_MARKS = ", ".join("?" * len(_OPEN_STAGES))

_USER_COLUMNS = (
    "language, language_chosen, confirm_twice, state, draft, nonce, version, created_at, updated_at"
)
_EVIDENCE_COLUMNS = (
    "kind, file_id, file_unique_id, size, mime_type, file_name, media_group_id, text, "
    "sender, received_at"
)


def utc_text(value: datetime, what: str = "datetime") -> str:
    """An aware datetime as fixed-width ISO-8601 UTC text (so text order is time order)."""
    return require_aware(value, what).astimezone(UTC).isoformat(timespec="microseconds")


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


class SqliteTx:
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
            f"SELECT user_id, {_USER_COLUMNS} FROM users WHERE user_id = ?", (user_id,)
        ).fetchone()
        if row is None:
            return None
        draft = row["draft"]
        return UserRecord(
            user_id=row["user_id"],
            language=row["language"],
            language_chosen=bool(row["language_chosen"]),
            confirm_twice=bool(row["confirm_twice"]),
            state=row["state"],
            draft=None if draft is None else Draft.model_validate_json(draft),
            nonce=row["nonce"],
            version=row["version"],
            created_at=from_utc_text(row["created_at"]),
            updated_at=from_utc_text(row["updated_at"]),
        )

    def save_user(self, user: UserRecord, expected_version: int) -> None:
        self._check_writable("save_user")
        values = (
            user.language,
            int(user.language_chosen),
            int(user.confirm_twice),
            user.state,
            None if user.draft is None else user.draft.model_dump_json(),
            user.nonce,
            user.version,
            utc_text(user.created_at, "created_at"),
            utc_text(user.updated_at, "updated_at"),
        )
        if expected_version == 0:
            cursor = self._run(
                f"INSERT INTO users (user_id, {_USER_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING",
                (user.user_id, *values),
            )
            if cursor.rowcount != 1:
                raise VersionConflict(f"user {user.user_id} already exists")
            return
        cursor = self._run(
            "UPDATE users SET language = ?, language_chosen = ?, confirm_twice = ?, "
            "state = ?, draft = ?, nonce = ?, version = ?, created_at = ?, updated_at = ? "
            "WHERE user_id = ? AND version = ?",
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
            "INSERT INTO complaints (number, user_id, type_id, target, target_key, "
            "description, language, stage, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (number) DO NOTHING",
            (
                complaint.number,
                complaint.user_id,
                complaint.type_id,
                complaint.target,
                complaint.target_key,
                complaint.description,
                complaint.language,
                complaint.stage.value,
                utc_text(complaint.submitted_at, "submitted_at"),
            ),
        )
        if cursor.rowcount != 1:
            raise NumberTaken(complaint.number)
        if complaint.evidence:
            self.statements += 1
            self._conn.executemany(
                f"INSERT INTO evidence (complaint_number, position, {_EVIDENCE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        complaint.number,
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
                    for position, item in enumerate(complaint.evidence)
                ],
            )

    def get_complaint(self, number: str) -> ComplaintRecord | None:
        row = self._run("SELECT * FROM complaints WHERE number = ?", (number,)).fetchone()
        if row is None:
            return None
        evidence = self._run(
            f"SELECT complaint_number, {_EVIDENCE_COLUMNS} FROM evidence "
            "WHERE complaint_number = ? ORDER BY position",
            (number,),
        ).fetchall()
        return _complaint(row, [_evidence_item(e) for e in evidence])

    def complaints_of(self, user_id: int) -> list[ComplaintRecord]:
        rows = self._run(
            "SELECT * FROM complaints WHERE user_id = ? ORDER BY submitted_at DESC, rowid DESC",
            (user_id,),
        ).fetchall()
        if not rows:
            return []
        evidence: dict[str, list[EvidenceItem]] = {row["number"]: [] for row in rows}
        for e in self._run(
            f"SELECT e.complaint_number, {_EVIDENCE_COLUMNS} FROM evidence AS e "
            "JOIN complaints AS c ON c.number = e.complaint_number "
            "WHERE c.user_id = ? ORDER BY e.complaint_number, e.position",
            (user_id,),
        ):
            evidence[e["complaint_number"]].append(_evidence_item(e))
        return [_complaint(row, evidence[row["number"]]) for row in rows]


def _evidence_item(row: sqlite3.Row) -> EvidenceItem:
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


def _complaint(row: sqlite3.Row, evidence: list[EvidenceItem]) -> ComplaintRecord:
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
    )


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
