"""A real crash: SIGKILL the bot in the middle of a complaint; a new process resumes the draft.

Runs the console as a separate process (the same bot, fake Telegram and SQLite file), feeds it
lines one at a time, waits for each `idle`, kills it with SIGKILL, and starts another on the same
database file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]


def start(db: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console", "--db", str(db), "--lang", "en", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )


def say(proc: subprocess.Popen[str], line: str) -> list[dict[str, Any]]:
    """Send one line; return the JSON objects printed up to its `idle`."""
    stdin, stdout = proc.stdin, proc.stdout
    assert stdin is not None
    assert stdout is not None
    stdin.write(line + "\n")
    stdin.flush()
    return read_until_idle(stdout)


def read_until_idle(stdout: IO[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        raw = stdout.readline()
        assert raw, f"the console ended early after {out}"
        obj = json.loads(raw)
        if obj["type"] == "idle":
            return out
        out.append(obj)


def texts(objs: list[dict[str, Any]]) -> str:
    return "\n".join(o.get("text", "") for o in objs if o["type"] == "message")


def test_sigkill_mid_complaint_then_a_new_process_resumes_the_draft(tmp_path: Path) -> None:
    db = tmp_path / "desk.sqlite3"
    with start(db) as first:
        try:
            say(first, "/start")
            say(first, ":tap 1")  # File a complaint
            say(first, ":tap 1")  # the first type: friend report
            say(first, ":tap 1")  # continue
            say(first, "wxid_scammer88")
            say(first, ":forward Scammer: send me 500 yuan")
        finally:
            first.send_signal(signal.SIGKILL)
    assert first.returncode == -signal.SIGKILL

    with start(db) as second:
        try:
            resumed = texts(say(second, "/start"))
            assert "unfinished complaint" in resumed
            evidence = texts(say(second, ":tap 1"))  # Resume
            assert "(1/10)" in evidence  # the forwarded record survived the kill
        finally:
            assert second.stdin is not None
            second.stdin.close()
    assert second.returncode == 0
