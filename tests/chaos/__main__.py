"""`make chaos`: the kill loop, the broadcast kill loop and the fault matrix. Not part of
`make test` (it takes minutes). Prints one table of figures; exits 1 if any check fails.

The real `complaint-desk run` polls the fake Telegram's HTTP front (bot/fake/http.py) on a
SQLite file, while simulated people file complaints through it, each step waiting for the
bot's answer before the next. Meanwhile the bot process is SIGKILLed at random moments and
started again, `--kills` times. Then one last bot drains what is left and stops with SIGTERM.

What it checks, and prints as one table:
- every update the people sent was committed exactly once (processed_updates), so no
  committed step was lost and none was applied twice;
- every step got its answer, within the wait, across the kills (an answer lost between commit
  and reply comes back when Telegram redelivers the update: the kept outcome);
- every person who finished has exactly one complaint and saw its number;
- the database passes `PRAGMA integrity_check` and `foreign_key_check`.

The broadcast kill loop is tests/chaos/broadcast.py, the fault matrix tests/chaos/faults.py.
Options: --kills N (100), --people N in flight (6), --recipients N (300), --broadcast-kills N
(5), --seed N, --keep (leave the working folder).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bot.http.conftest import BotProcess, FakeServer, label
from tests.chaos import broadcast, faults

NUMBER = re.compile(r"\d{6}-[0-9A-Z]{4}-[0-9A-Z]{4}")
ANSWER_WAIT = 90.0  # seconds one step may wait for its answer across kills and restarts
FIRST_USER = 7_000_000_001


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    updates: list[int] = field(default_factory=list)
    steps: int = 0
    missing: list[str] = field(default_factory=list)
    finished: dict[int, str] = field(default_factory=dict)  # user -> number they saw
    started: int = 0

    def sent(self, update_id: int) -> None:
        with self.lock:
            self.updates.append(update_id)
            self.steps += 1


class Person:
    """One person filing a 'Report a friend' complaint in English, a step at a time."""

    def __init__(self, fake: FakeServer, user: int, tally: Tally) -> None:
        self.fake, self.user, self.tally = fake, user, tally

    def _last(self) -> str | None:
        """The newest bot message's text: a step is answered when it changed (a new prompt,
        or the tapped one edited into the next question). A keyboard removed is not an answer,
        nor is the previous answer sent again for a redelivered update."""
        messages = self.fake.messages(self.user)
        return messages[-1]["text"] if messages else None

    def _step(self, what: str, act: Callable[[], Any]) -> bool:
        before = self._last()
        update = self._act(what, act)
        if update is None:
            return False
        self.tally.sent(int(update["update"]["update_id"]))
        deadline = time.monotonic() + ANSWER_WAIT
        while time.monotonic() < deadline:
            now = self._last()
            if now != before:
                time.sleep(0.3)  # the rest of the same answer, if any
                if self._last() == now:
                    return True
            time.sleep(0.05)
        with self.tally.lock:
            self.tally.missing.append(f"user {self.user}: no answer to {what}")
        return False

    def _act(self, what: str, act: Callable[[], Any]) -> Any:
        """Send the input; a button not on screen yet (its prompt is still coming after a
        restart) is tried again until the wait is over."""
        deadline = time.monotonic() + ANSWER_WAIT
        while True:
            try:
                return act()
            except AssertionError as refused:
                if time.monotonic() > deadline:
                    with self.tally.lock:
                        self.tally.missing.append(f"user {self.user}: {what}: {refused}")
                    return None
                time.sleep(0.1)

    def say(self, text: str) -> bool:
        return self._step(
            repr(text[:20]),
            lambda: self.fake.sim("text", user=self.user, text=text, language="en"),
        )

    def tap(self, key: str) -> bool:
        return self._step(
            key, lambda: self.fake.sim("tap", user=self.user, label=label(key), language="en")
        )

    def tap_containing(self, words: str) -> bool:
        def tap() -> Any:
            last = [m for m in self.fake.messages(self.user) if m["buttons"]][-1]
            found = [b[1] for row in last["buttons"] for b in row if words in b[0]]
            assert found, f"no button with {words!r} on screen"
            return self.fake.sim("tap", user=self.user, data=found[0])

        return self._step(words, tap)

    def file(self) -> None:
        steps: tuple[Callable[[], bool], ...] = (
            lambda: self.say("/start"),
            lambda: self.tap("menu.button.file"),
            lambda: self.tap_containing("friend"),
            lambda: self.tap("filing.button.proceed"),
            lambda: self.say("wxid_scammer88"),
            lambda: self.say("Chat record: they asked me to transfer 300 yuan, then blocked me"),
            lambda: self.tap("filing.button.done"),
            lambda: self.say("On 20 Nov they asked me to transfer money and then blocked me."),
            lambda: self.tap("filing.button.submit"),
            lambda: self.tap("filing.button.confirm"),
        )
        for step in steps:
            if not step():
                return
        numbers = {n for text in self.fake.texts(self.user) for n in NUMBER.findall(text)}
        if len(numbers) == 1:
            with self.tally.lock:
                self.tally.finished[self.user] = numbers.pop()
        else:
            with self.tally.lock:
                self.tally.missing.append(f"user {self.user}: saw numbers {sorted(numbers)}")


def people(fake: FakeServer, tally: Tally, stop: threading.Event, first: int, every: int) -> None:
    """File complaints, one person after another, until `stop` (then finish the one in hand)."""
    user = first
    while not stop.is_set():
        with tally.lock:
            tally.started += 1
        Person(fake, user, tally).file()
        user += every


def check_database(db: Path, tally: Tally) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        marks = ",".join("?" * len(tally.updates))
        committed = conn.execute(
            f"SELECT COUNT(*) FROM processed_updates WHERE update_id IN ({marks})", tally.updates
        ).fetchone()[0]
        per_user = dict(
            conn.execute("SELECT user_id, COUNT(*) FROM complaints GROUP BY user_id").fetchall()
        )
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()
    wrong = {u: per_user.get(u, 0) for u in tally.finished if per_user.get(u, 0) != 1}
    return {
        "committed": committed,
        "duplicates_applied": sum(n - 1 for n in per_user.values() if n > 1),
        "finished_without_one_complaint": len(wrong),
        "integrity": integrity,
        "foreign_key_problems": len(foreign),
    }


def run(kills: int, in_flight: int, seed: int, work: Path) -> int:
    rng = random.Random(seed)
    fake = FakeServer(work)
    bot = BotProcess(fake, work, "run", POLL_TIMEOUT="1", LOG_LEVEL="WARNING")
    tally, stop = Tally(), threading.Event()
    threads = [
        threading.Thread(target=people, args=(fake, tally, stop, FIRST_USER + i, in_flight))
        for i in range(in_flight)
    ]
    began = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for n in range(kills):
            time.sleep(rng.uniform(0.2, 3.0))
            bot.kill()
            bot.restart()
            if (n + 1) % 10 == 0:
                print(f"  {n + 1} kills, {tally.steps} steps sent", file=sys.stderr, flush=True)
        stop.set()
        for thread in threads:
            thread.join(timeout=ANSWER_WAIT * 12)
        status = bot.terminate()
        db = check_database(bot.db, tally)
        tracebacks = bot.logged().count("Traceback")
    finally:
        stop.set()
        bot.stop()
        fake.close()
    seconds = time.monotonic() - began
    rows = [
        ("SIGKILLs", kills),
        ("people who filed a complaint", f"{len(tally.finished)} of {tally.started}"),
        ("steps sent (updates)", len(tally.updates)),
        ("committed steps lost", len(tally.updates) - db["committed"]),
        ("answers missing after redelivery", len(tally.missing)),
        ("duplicates applied", db["duplicates_applied"]),
        ("finished without exactly one complaint", db["finished_without_one_complaint"]),
        ("integrity_check / foreign keys", f"{db['integrity']} / {db['foreign_key_problems']}"),
        ("last bot's exit on SIGTERM", status),
        ("tracebacks in the bot's log", tracebacks),
        ("wall time", f"{seconds:.0f} s"),
    ]
    print("| kill loop | |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    for line in tally.missing[:10]:
        print(f"  missing: {line}")
    ok = (
        len(tally.updates) == db["committed"]
        and not tally.missing
        and db["duplicates_applied"] == 0
        and db["finished_without_one_complaint"] == 0
        and db["integrity"] == "ok"
        and db["foreign_key_problems"] == 0
        and status == 0
        and tally.finished
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--people", type=int, default=6, help="people filing at once")
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--broadcast-kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="desk-chaos-"))
    try:
        (work / "kills").mkdir()
        (work / "broadcast").mkdir()
        failed = run(args.kills, args.people, args.seed, work / "kills")
        rows, ok = broadcast.run(
            args.broadcast_kills, args.recipients, args.seed, work / "broadcast"
        )
        print("\n| broadcast kill loop | |\n|---|---|")
        for name, value in rows:
            print(f"| {name} | {value} |")
        matrix = asyncio.run(faults.matrix())
        print("\nfault matrix (one fault, once, on the send a person waits for):")
        print(faults.table(matrix))
        return 1 if failed or not ok or not all(row.ok for row in matrix) else 0
    finally:
        if args.keep:
            print(f"working folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
