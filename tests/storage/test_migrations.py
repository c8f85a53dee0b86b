"""Ordered, named migrations: applied once each, atomically with their record."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest

from storage.migrations import MIGRATIONS, applied_migrations, apply_migrations, split_statements

NOW = "2025-03-01T09:30:00.000000+00:00"


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    """A fresh in-memory database in autocommit mode, as the store opens it."""
    with closing(sqlite3.connect(":memory:", isolation_level=None)) as connection:
        connection.execute("PRAGMA foreign_keys = ON")
        yield connection


def tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


def test_fresh_database_gets_every_migration(conn: sqlite3.Connection) -> None:
    assert apply_migrations(conn, NOW) == [name for name, _ in MIGRATIONS]
    assert {
        "users",
        "processed_updates",
        "complaints",
        "evidence",
        "complaint_events",
        "revocation_requests",
        "outbox",
        "audit",
        "migrations",
    } <= tables(conn)
    assert conn.execute("SELECT name, applied_at FROM migrations").fetchall() == [
        ("0001_initial", NOW),
        ("0002_complaint_life", NOW),
        ("0003_broadcasts", NOW),
        ("0004_leases", NOW),
        ("0005_update_outcomes", NOW),
        ("0006_audit_repeats", NOW),
    ]
    assert not conn.in_transaction


def test_rerun_applies_nothing(conn: sqlite3.Connection) -> None:
    apply_migrations(conn, NOW)
    assert apply_migrations(conn, "later") == []
    assert applied_migrations(conn) == [
        "0001_initial",
        "0002_complaint_life",
        "0003_broadcasts",
        "0004_leases",
        "0005_update_outcomes",
        "0006_audit_repeats",
    ]


def test_later_migrations_are_appended(conn: sqlite3.Connection) -> None:
    apply_migrations(conn, NOW)
    extended = [*MIGRATIONS, ("9999_extra", "CREATE TABLE extra (id INTEGER PRIMARY KEY);")]
    assert apply_migrations(conn, "later", extended) == ["9999_extra"]
    assert "extra" in tables(conn)
    assert applied_migrations(conn) == [*(name for name, _ in MIGRATIONS), "9999_extra"]


def test_failing_migration_rolls_back_and_is_not_recorded(conn: sqlite3.Connection) -> None:
    broken = [
        *MIGRATIONS,
        ("9999_half_done", "CREATE TABLE half (x INTEGER); INSERT INTO half VALUES (1); BROKEN;"),
    ]
    with pytest.raises(sqlite3.OperationalError):
        apply_migrations(conn, NOW, broken)
    assert not conn.in_transaction
    assert "half" not in tables(conn)
    # the good ones before it stay
    assert applied_migrations(conn) == [name for name, _ in MIGRATIONS]

    fixed = [*MIGRATIONS, ("9999_half_done", "CREATE TABLE half (x INTEGER);")]
    assert apply_migrations(conn, NOW, fixed) == ["9999_half_done"]


def test_duplicate_names_refused(conn: sqlite3.Connection) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        apply_migrations(conn, NOW, [*MIGRATIONS, MIGRATIONS[0]])


def test_split_statements_keeps_literals_and_triggers_whole() -> None:
    script = """
        CREATE TABLE t (x TEXT);
        INSERT INTO t VALUES ('a; b');
        CREATE TRIGGER tr AFTER INSERT ON t BEGIN
            INSERT INTO t VALUES ('again;');
        END;
        SELECT 1
    """
    statements = split_statements(script)
    assert len(statements) == 4
    assert statements[1] == "INSERT INTO t VALUES ('a; b');"
    assert statements[2].startswith("CREATE TRIGGER")
    assert statements[2].endswith("END;")
    assert statements[3] == "SELECT 1"
