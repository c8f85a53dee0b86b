"""The broadcast kill loop of `make chaos`.

The real `complaint-desk run` polls the fake Telegram's HTTP front on a SQLite file. Recipients
start the bot, an operator composes a notice to everyone and confirms it; while it is being
sent at the paced rate, the bot is SIGKILLed `kills` times and started again. Then it finishes.

Checked: every ledger row ends terminal (sent, blocked, failed or unknown: none pending or
sending); no recipient got the notice twice beyond the rows that were in flight at a kill (at
most one batch per kill); every row counted `sent` arrived; the final report's figures equal
the ledger's.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from tests.bot.http.conftest import BotProcess, FakeServer, label, until

OPERATOR = 9001
FIRST = 8_000_000_001
NOTICE = "Chaos notice: the desk is closed on Sunday."
BATCH = 20  # recipients claimed per batch (Settings.broadcast_batch): in flight at a kill


def _ledger(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return dict(conn.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state"))
    finally:
        conn.close()


def _sent_users(db: Path, state: str) -> set[int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT user_id FROM deliveries WHERE state = ?", (state,)).fetchall()
    finally:
        conn.close()
    return {int(r[0]) for r in rows}


def _tap_data(fake: FakeServer, user: int, suffix: str) -> dict[str, Any]:
    last = [m for m in fake.messages(user) if m["buttons"]][-1]
    found = [b[1] for row in last["buttons"] for b in row if str(b[1]).endswith(suffix)]
    assert found, f"no button ending {suffix!r}: {last['buttons']}"
    data = found[0]
    return dict(fake.sim("tap", user=user, data=data))


def run(kills: int, recipients: int, seed: int, work: Path) -> tuple[list[tuple[str, Any]], bool]:
    rng = random.Random(seed)
    fake = FakeServer(work)
    bot = BotProcess(
        fake, work, "run", POLL_TIMEOUT="1", LOG_LEVEL="WARNING", OPERATOR_IDS=str(OPERATOR)
    )
    try:
        users = [FIRST + i for i in range(recipients)]
        for user in (OPERATOR, *users):
            fake.sim("text", user=user, text="/start", language="en")
        until(lambda: all(fake.messages(u) for u in (OPERATOR, *users)), "every menu", 2400)
        fake.sim("text", user=OPERATOR, text="/broadcast", language="en")
        until(lambda: len(fake.messages(OPERATOR)) >= 2, "the notice's question")
        fake.sim("text", user=OPERATOR, text=NOTICE, language="en")
        until(lambda: len(fake.messages(OPERATOR)) >= 3, "the audience question")
        fake.sim("tap", user=OPERATOR, label=label("broadcast.button.all"), language="en")
        until(lambda: any(b for m in fake.messages(OPERATOR)[3:] for b in m["buttons"]), "preview")
        _tap_data(fake, OPERATOR, ":confirm")
        until(lambda: sum(_ledger(bot.db).values()) > 0, "the ledger")
        for _ in range(kills):
            time.sleep(rng.uniform(0.3, 1.5))
            bot.kill()
            bot.restart()

        def settled() -> bool:
            states = _ledger(bot.db)
            return states.get("pending", 0) + states.get("sending", 0) == 0

        until(settled, "every row terminal", 2400)

        def reported() -> bool:
            return any("Sent:" in t and "Took" in t for t in fake.texts(OPERATOR))

        until(reported, "the final report", 600)
        status = bot.terminate()
        states = _ledger(bot.db)
        sent = _sent_users(bot.db, "sent")
        unknown = _sent_users(bot.db, "unknown")
        got = {u: sum(1 for t in fake.texts(u) if t == NOTICE) for u in (OPERATOR, *users)}
        report = next(t for t in reversed(fake.texts(OPERATOR)) if "Took" in t)
    finally:
        bot.stop()
        fake.close()
    duplicates = sum(n - 1 for n in got.values() if n > 1)
    missing_sent = sum(1 for u in sent if got.get(u, 0) == 0)
    unknown_arrived = sum(1 for u in unknown if got.get(u, 0) > 0)
    pattern = r"(Sent|Blocked the bot|Failed|Unknown)\D*(\d+)"
    figures = {k: int(v) for k, v in re.findall(pattern, report)}
    report_right = figures == {
        "Sent": states.get("sent", 0),
        "Blocked the bot": states.get("blocked", 0),
        "Failed": states.get("failed", 0),
        "Unknown": states.get("unknown", 0),
    }
    rows: list[tuple[str, Any]] = [
        ("SIGKILLs during the broadcast", kills),
        ("recipients", len(got)),
        ("ledger", ", ".join(f"{k} {v}" for k, v in sorted(states.items()))),
        ("rows not terminal", states.get("pending", 0) + states.get("sending", 0)),
        ("duplicates received", duplicates),
        ("bound: rows in flight at kills", kills * BATCH),
        ("rows 'sent' that never arrived", missing_sent),
        ("rows 'unknown' (not resent) that had arrived", f"{unknown_arrived} of {len(unknown)}"),
        ("report equals the ledger", "yes" if report_right else f"NO: {figures}"),
        ("last bot's exit on SIGTERM", status),
    ]
    ok = (
        states.get("pending", 0) + states.get("sending", 0) == 0
        and duplicates <= kills * BATCH
        and missing_sent == 0
        and report_right
        and status == 0
    )
    return rows, ok
