"""`complaint-desk migrate` and `complaint-desk backup PATH`, and the start-up check.

- migrate: opens the database (creating it if needed) and applies the pending migrations, in
  order, each in its own transaction; prints what it applied. Refused while a bot runs on the
  same SQLite file (storage/writer_lock.py).
- with MIGRATE_ON_START=false, `run` and `serve` first check that the database is at the
  latest migration (`check_migrated`) and stop with exit code 2 if it is not.
- backup: a consistent copy of the SQLite file while the bot runs (`VACUUM INTO`, a read
  transaction: writers go on). For PostgreSQL use `pg_dump` (see the README).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from bot.config import Settings
from flows.catalog import load_catalog
from storage.factory import is_postgres, open_store
from storage.migrations import MigrationsPending
from storage.writer_lock import DatabaseInUse


async def migrate(settings: Settings) -> int:
    try:
        language = load_catalog(settings.catalog).default_language(settings.default_language)
        store = await open_store(settings.database, default_language=language)
    except DatabaseInUse as exc:
        print(f"complaint-desk migrate: {exc}", file=sys.stderr)
        return 1
    try:
        applied: list[str] = getattr(store, "migrations_applied", [])
    finally:
        await store.close()
    where = "PostgreSQL" if is_postgres(settings.database) else settings.database
    print(f"{where}: " + (", ".join(applied) if applied else "up to date"))
    return 0


async def check_migrated(settings: Settings) -> int:
    """0 if the database is at the latest migration (nothing is migrated); else a message
    and 2 (1 while another bot holds the SQLite file)."""
    try:
        language = load_catalog(settings.catalog).default_language(settings.default_language)
        store = await open_store(settings.database, default_language=language, migrate=False)
    except MigrationsPending as exc:
        print(f"complaint-desk: MIGRATE_ON_START is false and {exc}", file=sys.stderr)
        return 2
    except DatabaseInUse as exc:
        print(f"complaint-desk: {exc}", file=sys.stderr)
        return 1
    await store.close()
    return 0


def backup(settings: Settings, target: Path) -> int:
    if is_postgres(settings.database):
        print("complaint-desk backup: for PostgreSQL use pg_dump (see the README)", file=sys.stderr)
        return 2
    source = Path(settings.database)
    if not source.is_file():
        print(f"complaint-desk backup: no database at {source}", file=sys.stderr)
        return 1
    if target.exists():
        print(f"complaint-desk backup: {target} exists; choose a new file", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute("VACUUM INTO ?", (str(target),))
    finally:
        conn.close()
    print(f"{source} -> {target}")
    return 0
