"""Ordered, named schema migrations, recorded in the database (in the manner of sqlite-utils).

Each migration is `(name, sql)`. Names sort in the order they must run ("0001_initial",
"0002_..."); a later change appends a new entry and never edits an applied one. Each pending
migration runs in its own `BEGIN IMMEDIATE` transaction together with the row that records
it, so a failing migration leaves neither its changes nor its record behind.

`apply_migrations` is synchronous: it runs on the database thread (see `storage.sqlite`).
The connection must be in autocommit mode (`isolation_level=None`): we issue BEGIN/COMMIT.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

Migration = tuple[str, str]

MIGRATIONS: list[Migration] = [
    (
        "0001_initial",
        """
        CREATE TABLE users (
            user_id INTEGER PRIMARY KEY,
            language TEXT NOT NULL,
            language_chosen INTEGER NOT NULL DEFAULT 0,
            confirm_twice INTEGER NOT NULL DEFAULT 1,
            state TEXT NOT NULL DEFAULT 'idle',
            draft TEXT,
            nonce INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE processed_updates (
            update_id INTEGER PRIMARY KEY,
            seen_at TEXT NOT NULL
        );
        CREATE INDEX processed_updates_seen_at ON processed_updates (seen_at);

        CREATE TABLE complaints (
            number TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL,
            type_id TEXT NOT NULL,
            target TEXT NOT NULL,
            target_key TEXT NOT NULL,
            description TEXT NOT NULL,
            language TEXT NOT NULL,
            stage TEXT NOT NULL,
            submitted_at TEXT NOT NULL
        );
        CREATE INDEX complaints_user_type_target
            ON complaints (user_id, type_id, target_key);

        CREATE TABLE evidence (
            id INTEGER PRIMARY KEY,
            complaint_number TEXT NOT NULL
                REFERENCES complaints (number) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,
            file_id TEXT,
            file_unique_id TEXT,
            size INTEGER,
            mime_type TEXT,
            file_name TEXT,
            media_group_id TEXT,
            text TEXT NOT NULL DEFAULT '',
            sender TEXT NOT NULL DEFAULT '',
            received_at TEXT NOT NULL,
            UNIQUE (complaint_number, position)
        );
        """,
    ),
    (
        "0002_complaint_life",
        """
        ALTER TABLE users ADD COLUMN task TEXT;
        ALTER TABLE users ADD COLUMN blocked_bot INTEGER NOT NULL DEFAULT 0;

        ALTER TABLE complaints ADD COLUMN review_due_at TEXT;
        ALTER TABLE complaints ADD COLUMN revocable_until TEXT;
        ALTER TABLE complaints ADD COLUMN remind_at TEXT;
        ALTER TABLE complaints ADD COLUMN operator_id INTEGER;
        ALTER TABLE complaints ADD COLUMN result_text TEXT;
        ALTER TABLE complaints ADD COLUMN reviews_requested INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE complaints ADD COLUMN loss_reported INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE complaints ADD COLUMN revoked_at TEXT;
        ALTER TABLE complaints ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
        -- Partial: a deadline is cleared once it has fired, so most rows stay out of these.
        CREATE INDEX complaints_review_due_at
            ON complaints (review_due_at) WHERE review_due_at IS NOT NULL;
        CREATE INDEX complaints_remind_at
            ON complaints (remind_at) WHERE remind_at IS NOT NULL;
        CREATE INDEX complaints_stage_submitted ON complaints (stage, submitted_at);

        -- A complaint's timeline, append-only, in `position` order.
        CREATE TABLE complaint_events (
            id INTEGER PRIMARY KEY,
            complaint_number TEXT NOT NULL
                REFERENCES complaints (number) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            actor INTEGER,
            text TEXT NOT NULL DEFAULT '',
            UNIQUE (complaint_number, position)
        );
        CREATE INDEX complaint_events_kind_actor_at ON complaint_events (kind, actor, at);

        CREATE TABLE revocation_requests (
            number TEXT PRIMARY KEY,
            complaint_number TEXT NOT NULL
                REFERENCES complaints (number) ON DELETE CASCADE,
            user_id INTEGER NOT NULL,
            reason TEXT NOT NULL,
            account_kind TEXT NOT NULL,
            materials TEXT NOT NULL DEFAULT '[]',
            flagged INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'open',
            created_at TEXT NOT NULL,
            decided_at TEXT,
            decided_by INTEGER,
            decision_text TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX revocation_requests_complaint_status
            ON revocation_requests (complaint_number, status);
        CREATE INDEX revocation_requests_user_created
            ON revocation_requests (user_id, created_at);
        CREATE INDEX revocation_requests_open
            ON revocation_requests (flagged DESC, created_at) WHERE status = 'open';

        -- Transactional outbox: written with the change that causes it, sent after commit.
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;

        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor INTEGER NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX audit_subject_at ON audit (subject, at);
        CREATE INDEX audit_at ON audit (at);
        """,
    ),
    (
        "0003_broadcasts",
        """
        -- Operator broadcasts and their delivery ledger (storage.broadcasts).
        CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            operator_id INTEGER NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            photo_file_id TEXT,
            segment_kind TEXT NOT NULL,
            segment_value TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            total INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            progress_message_id INTEGER
        );
        CREATE INDEX broadcasts_running ON broadcasts (id) WHERE status = 'running';

        -- One row per recipient, all written in the transaction that creates the broadcast.
        CREATE TABLE deliveries (
            broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            message_id INTEGER,
            error TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (broadcast_id, user_id)
        ) WITHOUT ROWID;
        -- Claims read pending rows in user-id order; recovery finds rows left in flight.
        CREATE INDEX deliveries_pending
            ON deliveries (broadcast_id, user_id) WHERE state = 'pending';
        CREATE INDEX deliveries_sending ON deliveries (broadcast_id) WHERE state = 'sending';
        """,
    ),
    (
        "0004_leases",
        """
        -- Several instances: a claimed outbox or ledger row names its owner and until when
        -- the claim holds (storage.sql); an expired claim may be taken over.
        ALTER TABLE outbox ADD COLUMN owner TEXT;
        ALTER TABLE outbox ADD COLUMN lease_until TEXT;
        ALTER TABLE deliveries ADD COLUMN owner TEXT;
        ALTER TABLE deliveries ADD COLUMN lease_until TEXT;
        """,
    ),
    (
        "0005_update_outcomes",
        """
        -- What a claimed update answered (JSON), kept until its delivery is confirmed, so a
        -- redelivered update whose answer may not have arrived gets it again (flows/redelivery.py).
        ALTER TABLE processed_updates ADD COLUMN outcome TEXT;
        """,
    ),
    (
        "0006_audit_repeats",
        """
        -- Repeated entries (refusals) of one actor within one UTC minute share one row and
        -- count (storage.requests.audit_repeated); `minute` is NULL on every other row.
        ALTER TABLE audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE audit ADD COLUMN minute TEXT;
        CREATE UNIQUE INDEX audit_repeats ON audit (minute, actor, action, subject, detail)
            WHERE minute IS NOT NULL;
        """,
    ),
]

_LEDGER = """
CREATE TABLE IF NOT EXISTS migrations (
    name TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
)
"""


def split_statements(sql: str) -> list[str]:
    """Split a script into complete statements (string literals and triggers kept whole).

    `executescript` can't be used: it commits any open transaction first, which would
    separate a migration from its record.
    """
    statements: list[str] = []
    start = 0
    for end, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start : end + 1]):
            statement = sql[start : end + 1].strip()
            if statement.strip("; \t\r\n"):
                statements.append(statement)
            start = end + 1
    rest = sql[start:].strip()
    if rest:
        statements.append(rest)
    return statements


class MigrationsPending(RuntimeError):
    """The database is behind this code's schema and the store was opened without migrating
    (MIGRATE_ON_START=false)."""

    def __init__(self, pending: Sequence[str]) -> None:
        self.pending = list(pending)
        super().__init__(
            f"the database is not at the latest migration ({len(self.pending)} pending: "
            f"{', '.join(self.pending)}); run `complaint-desk migrate` first"
        )


def pending_migrations(
    conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS
) -> list[str]:
    """The names not yet applied, in order (read only: nothing is created)."""
    ledger = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
    done = set(applied_migrations(conn)) if conn.execute(ledger).fetchone() else set()
    return [name for name, _ in migrations if name not in done]


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """Names recorded as applied, in the order they were applied."""
    conn.execute(_LEDGER)
    rows = conn.execute("SELECT name FROM migrations ORDER BY applied_at, rowid").fetchall()
    return [row[0] for row in rows]


def apply_migrations(
    conn: sqlite3.Connection, now: str, migrations: Sequence[Migration] = MIGRATIONS
) -> list[str]:
    """Apply the pending migrations in order, each in its own transaction; return their names.

    A migration that fails is rolled back (its changes and its record) and its error
    re-raised; the migrations before it stay applied.
    """
    if conn.in_transaction:
        raise RuntimeError("apply_migrations needs a connection with no open transaction")
    names = [name for name, _ in migrations]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate migration names in {names}")
    already = set(applied_migrations(conn))
    applied: list[str] = []
    for name, sql in migrations:
        if name in already:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Checked under the write lock: another process may have applied it meanwhile.
            done = conn.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone()
            if done is None:
                for statement in split_statements(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, now))
                applied.append(name)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return applied
