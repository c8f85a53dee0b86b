"""One writing process per SQLite file, checked with real second processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from subprocess import PIPE

import pytest

from storage.sqlite import SqliteStore
from storage.writer_lock import DatabaseInUse

_OPEN = """
import asyncio, sys
from storage.sqlite import SqliteStore
from storage.writer_lock import DatabaseInUse

async def main() -> int:
    try:
        store = await SqliteStore.open(sys.argv[1], default_language="zh-CN")
    except DatabaseInUse as exc:
        print(exc, file=sys.stderr)
        return 3
    print("opened", flush=True)
    if len(sys.argv) > 2:  # hold it until killed
        sys.stdin.readline()
    await store.close()
    return 0

sys.exit(asyncio.run(main()))
"""


def second_process(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _OPEN, str(path)], capture_output=True, text=True, timeout=60
    )


async def test_a_second_process_is_refused_naming_the_first(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    store = await SqliteStore.open(path, default_language="zh-CN")
    try:
        refused = second_process(path)
        assert refused.returncode == 3, refused.stderr
        assert f"is in use by process {os.getpid()} (" in refused.stderr
        assert str(path) in refused.stderr
    finally:
        await store.close()
    opened = second_process(path)  # closed: free again
    assert (opened.returncode, opened.stdout) == (0, "opened\n"), opened.stderr


async def test_the_lock_goes_with_a_killed_holder(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _OPEN, str(path), "hold", stdin=PIPE, stdout=PIPE
    )
    try:
        assert holder.stdout is not None
        assert await holder.stdout.readline() == b"opened\n"
        with pytest.raises(DatabaseInUse, match=f"in use by process {holder.pid} "):
            await SqliteStore.open(path, default_language="zh-CN")
    finally:
        holder.send_signal(signal.SIGKILL)
        await holder.communicate()
    store = await SqliteStore.open(path, default_language="zh-CN")  # no stale lock after SIGKILL
    await store.close()


async def test_one_process_may_reopen_its_own_file(tmp_path: Path) -> None:
    """The simulator's restart (and a test reopening a file) stay within one process."""
    path = tmp_path / "desk.sqlite3"
    first = await SqliteStore.open(path, default_language="zh-CN")
    second = await SqliteStore.open(path, default_language="zh-CN")
    await first.close()
    assert second_process(path).returncode == 3  # still held by `second`
    await second.close()
    await second.close()  # idempotent: releases once
    assert second_process(path).returncode == 0


async def test_an_in_memory_database_takes_no_lock(tmp_path: Path) -> None:
    store = await SqliteStore.open(":memory:", default_language="zh-CN")
    await store.close()
    assert files(tmp_path) == []


def files(folder: Path) -> list[Path]:
    return list(folder.iterdir())
