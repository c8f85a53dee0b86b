"""Real processes on 127.0.0.1: the fake Telegram's HTTP front (bot/fake/http.py) and the real
`complaint-desk run` / `serve`, talking HTTP through TELEGRAM_API_BASE_URL.

Waits are bounded loops over what the fake reports (`until`), never assertions on time.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from bot.i18n import Translator, plain

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "123456:HTTP-TEST-TOKEN"
SECRET = "s3cret-webhook-token"
_TR = Translator.load()


def label(key: str, **params: Any) -> str:
    return plain(_TR.text("en", key, **params))


def until(check: Callable[[], Any], what: str, tries: int = 600) -> Any:
    """Poll `check` until it returns something truthy (at most `tries` x 50 ms)."""
    for _ in range(tries):
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeServer:
    def __init__(self, tmp: Path) -> None:
        self._log = (tmp / "fake.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.fake.http", "--token", TOKEN],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        self.port = int(json.loads(self.proc.stdout.readline())["port"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=60)

    def sim(self, action: str, **body: Any) -> Any:
        answer = self.http.post(f"/sim/{action}", json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def messages(self, user: int) -> list[dict[str, Any]]:
        return list(self.sim("chat", user=user)["messages"])

    def texts(self, user: int) -> list[str]:
        return [m["text"] for m in self.messages(user)]

    def calls(self, method: str | None = None) -> dict[str, Any]:
        return dict(self.sim("calls", method=method))

    def state(self) -> dict[str, Any]:
        return dict(self.sim("state"))

    def close(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


class BotProcess:
    """`complaint-desk <command>` against the fake, on its own SQLite file."""

    def __init__(self, fake: FakeServer, tmp: Path, command: str, **env: str) -> None:
        self.tmp = tmp
        self.db = tmp / "desk.sqlite3"
        self.log = tmp / f"{command}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK"))},
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": f"{fake.url}/bot",
            "TELEGRAM_API_FILE_URL": f"{fake.url}/file/bot",
            "COMPLAINT_DESK_DB": str(self.db),
            "POLL_TIMEOUT": "5",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.command = command
        self.proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:  # the child keeps its own copy of the descriptor
            return self._spawn(out)

    def _spawn(self, out: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", self.command],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.tmp,
        )

    def restart(self) -> None:
        self.proc = self._start()

    def logged(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


class WriteLock:
    """Holds the SQLite write lock from outside, so the bot's next transaction waits on it."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None, timeout=30)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def processed(db: Path, update_id: int) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT COUNT(*) FROM processed_updates WHERE update_id = ?", (update_id,)
        ).fetchone()
    finally:
        conn.close()
    return int(row[0])


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeServer]:
    server = FakeServer(tmp_path)
    yield server
    server.close()


@pytest.fixture
def started() -> Iterator[list[BotProcess]]:
    """Bot processes a test started; killed at the end whatever happened."""
    procs: list[BotProcess] = []
    yield procs
    for proc in procs:
        proc.stop()
