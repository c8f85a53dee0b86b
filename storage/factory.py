"""One way to open the store, for the bot and every tool: the database setting picks it.

`postgresql://...` (or `postgres://...`) opens the PostgreSQL store; anything else is a
path to the embedded SQLite file (the default).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from storage.base import Store
from storage.postgres import PostgresStore
from storage.sqlite import SqliteStore

_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(database: str | Path) -> bool:
    return isinstance(database, str) and database.startswith(_SCHEMES)


def database_setting(value: str | Path) -> str | Path:
    """A PostgreSQL DSN as given (a Path would fold its `//`), anything else as a Path."""
    return value if is_postgres(value) else Path(value)


async def open_store(
    database: str | Path,
    *,
    now: datetime | None = None,
    default_language: str,
    migrate: bool = True,
) -> Store:
    """Open (and migrate) the store `database` names. Without `migrate` (MIGRATE_ON_START
    false) it only checks: a database behind the code raises MigrationsPending."""
    if is_postgres(database):
        return await PostgresStore.open(
            str(database), now=now, default_language=default_language, migrate=migrate
        )
    return await SqliteStore.open(
        database, now=now, default_language=default_language, migrate=migrate
    )
