from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.base import Store
from storage.memory import MemoryStore
from storage.sqlite import SqliteStore


@pytest.fixture(params=["sqlite", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each store implementation, fresh and empty (SQLite on a file under tmp_path)."""
    opened: Store
    if request.param == "sqlite":
        opened = await SqliteStore.open(tmp_path / "data" / "desk.sqlite3")
    else:
        opened = MemoryStore()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A fresh SQLite store on a file under tmp_path."""
    opened = await SqliteStore.open(tmp_path / "desk.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()
