"""The schema in PostgreSQL: the same ordered, named migrations as SQLite's, in its dialect.

`storage.migrations.MIGRATIONS` (SQLite) and `PG_MIGRATIONS` carry the same names in the same
order (a test holds them to it); a schema change appends one entry to each. The dialect:
`BIGINT` ids (Telegram ids need 64 bits), identity columns instead of `INTEGER PRIMARY KEY`
/ `AUTOINCREMENT`, `timestamptz` instants, `boolean` flags, and an identity column `seq` on
complaints and revocation requests where SQLite orders ties by `rowid`.

Each pending migration runs in its own transaction with its record, under a transaction
advisory lock so instances starting together apply it once.
"""

from __future__ import annotations

import psycopg
from psycopg.rows import tuple_row

from storage.migrations import Migration

MIGRATION_LOCK = -7_001  # advisory lock keys < 0 never collide with a user id (> 0)

PG_MIGRATIONS: list[Migration] = [
    (
        "0001_initial",
        """
        CREATE TABLE users (
            user_id BIGINT PRIMARY KEY,
            language TEXT NOT NULL,
            language_chosen BOOLEAN NOT NULL DEFAULT FALSE,
            confirm_twice BOOLEAN NOT NULL DEFAULT TRUE,
            state TEXT NOT NULL DEFAULT 'idle',
            draft TEXT,
            nonce BIGINT NOT NULL DEFAULT 0,
            version BIGINT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE processed_updates (
            update_id BIGINT PRIMARY KEY,
            seen_at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX processed_updates_seen_at ON processed_updates (seen_at);
        CREATE TABLE complaints (
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            number TEXT PRIMARY KEY,
            user_id BIGINT NOT NULL,
            type_id TEXT NOT NULL,
            target TEXT NOT NULL,
            target_key TEXT NOT NULL,
            description TEXT NOT NULL,
            language TEXT NOT NULL,
            stage TEXT NOT NULL,
            submitted_at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX complaints_user_type_target ON complaints (user_id, type_id, target_key);
        CREATE TABLE evidence (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            complaint_number TEXT NOT NULL REFERENCES complaints (number) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,
            file_id TEXT,
            file_unique_id TEXT,
            size BIGINT,
            mime_type TEXT,
            file_name TEXT,
            media_group_id TEXT,
            text TEXT NOT NULL DEFAULT '',
            sender TEXT NOT NULL DEFAULT '',
            received_at TIMESTAMPTZ NOT NULL,
            UNIQUE (complaint_number, position)
        );
        """,
    ),
    (
        "0002_complaint_life",
        """
        ALTER TABLE users ADD COLUMN task TEXT;
        ALTER TABLE users ADD COLUMN blocked_bot BOOLEAN NOT NULL DEFAULT FALSE;
        ALTER TABLE complaints ADD COLUMN review_due_at TIMESTAMPTZ;
        ALTER TABLE complaints ADD COLUMN revocable_until TIMESTAMPTZ;
        ALTER TABLE complaints ADD COLUMN remind_at TIMESTAMPTZ;
        ALTER TABLE complaints ADD COLUMN operator_id BIGINT;
        ALTER TABLE complaints ADD COLUMN result_text TEXT;
        ALTER TABLE complaints ADD COLUMN reviews_requested INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE complaints ADD COLUMN loss_reported BOOLEAN NOT NULL DEFAULT FALSE;
        ALTER TABLE complaints ADD COLUMN revoked_at TIMESTAMPTZ;
        ALTER TABLE complaints ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
        CREATE INDEX complaints_review_due_at
            ON complaints (review_due_at) WHERE review_due_at IS NOT NULL;
        CREATE INDEX complaints_remind_at ON complaints (remind_at) WHERE remind_at IS NOT NULL;
        CREATE INDEX complaints_stage_submitted ON complaints (stage, submitted_at);
        CREATE TABLE complaint_events (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            complaint_number TEXT NOT NULL REFERENCES complaints (number) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            at TIMESTAMPTZ NOT NULL,
            kind TEXT NOT NULL,
            actor BIGINT,
            text TEXT NOT NULL DEFAULT '',
            UNIQUE (complaint_number, position)
        );
        CREATE INDEX complaint_events_kind_actor_at ON complaint_events (kind, actor, at);
        CREATE TABLE revocation_requests (
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            number TEXT PRIMARY KEY,
            complaint_number TEXT NOT NULL REFERENCES complaints (number) ON DELETE CASCADE,
            user_id BIGINT NOT NULL,
            reason TEXT NOT NULL,
            account_kind TEXT NOT NULL,
            materials TEXT NOT NULL DEFAULT '[]',
            flagged BOOLEAN NOT NULL DEFAULT FALSE,
            status TEXT NOT NULL DEFAULT 'open',
            created_at TIMESTAMPTZ NOT NULL,
            decided_at TIMESTAMPTZ,
            decided_by BIGINT,
            decision_text TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX revocation_requests_complaint_status
            ON revocation_requests (complaint_number, status);
        CREATE INDEX revocation_requests_user_created ON revocation_requests (user_id, created_at);
        CREATE INDEX revocation_requests_open
            ON revocation_requests (flagged DESC, created_at) WHERE status = 'open';
        CREATE TABLE outbox (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            user_id BIGINT NOT NULL,
            key TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            created_at TIMESTAMPTZ NOT NULL,
            sent_at TIMESTAMPTZ
        );
        CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
        CREATE TABLE audit (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at TIMESTAMPTZ NOT NULL,
            actor BIGINT NOT NULL,
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
        CREATE TABLE broadcasts (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            operator_id BIGINT NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            photo_file_id TEXT,
            segment_kind TEXT NOT NULL,
            segment_value TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            total INTEGER NOT NULL DEFAULT 0,
            created_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            progress_message_id BIGINT
        );
        CREATE INDEX broadcasts_running ON broadcasts (id) WHERE status = 'running';
        CREATE TABLE deliveries (
            broadcast_id BIGINT NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
            user_id BIGINT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            message_id BIGINT,
            error TEXT NOT NULL DEFAULT '',
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (broadcast_id, user_id)
        );
        CREATE INDEX deliveries_pending
            ON deliveries (broadcast_id, user_id) WHERE state = 'pending';
        CREATE INDEX deliveries_sending ON deliveries (broadcast_id) WHERE state = 'sending';
        """,
    ),
    (
        "0004_leases",
        """
        ALTER TABLE outbox ADD COLUMN owner TEXT;
        ALTER TABLE outbox ADD COLUMN lease_until TIMESTAMPTZ;
        ALTER TABLE deliveries ADD COLUMN owner TEXT;
        ALTER TABLE deliveries ADD COLUMN lease_until TIMESTAMPTZ;
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
        ALTER TABLE audit ADD COLUMN minute TIMESTAMPTZ;
        CREATE UNIQUE INDEX audit_repeats ON audit (minute, actor, action, subject, detail)
            WHERE minute IS NOT NULL;
        """,
    ),
]


def pending_pg_migrations(
    conn: psycopg.Connection[object], migrations: list[Migration] = PG_MIGRATIONS
) -> list[str]:
    """The names not yet applied, in order (read only: nothing is created)."""
    cursor = conn.cursor(row_factory=tuple_row)
    ledger = cursor.execute("SELECT to_regclass('migrations') IS NOT NULL").fetchone()
    done: set[str] = set()
    if ledger is not None and ledger[0]:
        done = {str(row[0]) for row in cursor.execute("SELECT name FROM migrations")}
    return [name for name, _ in migrations if name not in done]


def apply_pg_migrations(
    conn: psycopg.Connection[object], migrations: list[Migration] = PG_MIGRATIONS
) -> list[str]:
    """Apply the pending migrations in order, each in its own transaction; their names."""
    applied: list[str] = []
    for name, sql in migrations:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations "
                "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            if conn.execute("SELECT 1 FROM migrations WHERE name = %s", (name,)).fetchone():
                continue
            conn.execute(sql.encode())
            conn.execute("INSERT INTO migrations (name) VALUES (%s)", (name,))
            applied.append(name)
    return applied
