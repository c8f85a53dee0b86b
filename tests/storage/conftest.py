from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.sqlite import SqliteStore


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A fresh SQLite store on a file under tmp_path."""
    opened = await SqliteStore.open(tmp_path / "desk.sqlite3", default_language="zh-CN")
    try:
        yield opened
    finally:
        await opened.close()
