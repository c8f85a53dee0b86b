"""The PostgreSQL server the tests use, and the databases they create on it and drop.

`COMPLAINT_DESK_TEST_PG` names the server (default postgresql://postgres@127.0.0.1:5432/test);
each test run creates its own database there (`cd_test_<pid>_<random>`) and drops it at the
end, never touching another. Without a server the PostgreSQL tests are skipped, with one line
in the summary saying so, unless `COMPLAINT_DESK_REQUIRE_PG=1` (CI), which makes it a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

SERVER = os.environ.get("COMPLAINT_DESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("COMPLAINT_DESK_REQUIRE_PG") == "1"


@cache
def unavailable() -> str | None:
    """Why the server cannot be used (None: it can)."""
    try:
        with psycopg.connect(SERVER, connect_timeout=3):
            return None
    except psycopg.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"no PostgreSQL server at {SERVER} ({first})"


def require_server() -> None:
    """Skip the calling test without a server (fail it when COMPLAINT_DESK_REQUIRE_PG=1)."""
    problem = unavailable()
    if problem is None:
        return
    if REQUIRED:
        pytest.fail(f"COMPLAINT_DESK_REQUIRE_PG=1 but {problem}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {problem}")


def dsn_for(database: str) -> str:
    parts = urlsplit(SERVER)
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty database on the server for the duration; its DSN. Dropped after."""
    name = f"cd_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}".encode())
    try:
        yield dsn_for(name)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def empty_tables(dsn: str) -> None:
    """Delete every row but the migrations' record (fast isolation between tests)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'migrations'"
            )
        ]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE".encode())
