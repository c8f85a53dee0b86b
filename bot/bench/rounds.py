"""Interleaved rounds: every round runs each arm for the same number of conversations, with
`concurrency` users in flight; a ratio is the median over rounds of desk-rate / arm-rate in
that round, with its range. Counters (DB hops, SQL, Bot API calls) are per update over all
rounds; peak RSS is the process's (every arm lives in this one process).
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.bench.arms import (
    Arm,
    Conversation3,
    Conversation10,
    Counters,
    DeskArm,
    Plain,
    desk_steps,
    generic_steps,
    temporary_folder,
)
from bot.i18n import Translator

TEMPLATE_USER = 10**9  # the desk's recorded conversation (D10's script) is this user's


@dataclass
class Row:
    arm: Arm
    rates: list[float] = field(default_factory=list)  # updates/s, one per round
    ratios: list[float] = field(default_factory=list)  # desk / this arm, one per round
    cpu: list[float] = field(default_factory=list)  # CPU seconds per update, one per round
    start: Counters = field(default_factory=Counters)
    end: Counters = field(default_factory=Counters)


@dataclass
class Table:
    rows: list[Row]
    rounds: int
    users: int
    concurrency: int
    peak_rss_mib: float

    def row(self, name: str) -> Row:
        return next(r for r in self.rows if r.arm.name == name)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def play(arm: Arm, uids: range, concurrency: int) -> tuple[float, float]:
    """(wall, CPU) seconds to play every conversation of `uids`, `concurrency` users in flight.

    CPU is the process's (every thread: the database's too); on a shared machine it moves
    less than wall time with the neighbours' load, so the table shows both ratios."""
    queue: Iterator[int] = iter(uids)

    async def worker() -> None:
        for uid in queue:
            await arm.conversation(uid)

    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(uids)))))
    return time.perf_counter() - began, time.process_time() - cpu


async def build_arms(folder: Path, translator: Translator) -> list[Arm]:
    steps = desk_steps(translator)
    desk = DeskArm(folder, steps, translator)
    await desk.start()
    recorded = await desk.record(TEMPLATE_USER)
    generic = generic_steps(steps)
    arms: list[Arm] = [
        Plain(generic, reply=False),
        Plain(generic, reply=True),
        Conversation3(folder),
        Conversation10(folder, steps, recorded, commit=False),
        Conversation10(folder, steps, recorded, commit=True),
    ]
    for arm in arms:
        await arm.start()
    return [*arms, desk]


async def run(rounds: int = 7, users: int = 40, concurrency: int = 1) -> Table:
    translator = Translator.load()
    with temporary_folder() as tmp:
        arms = await build_arms(Path(tmp), translator)
        rows = [Row(arm) for arm in arms]
        desk = rows[-1]
        try:
            await _warm_up(rows, concurrency)
            for row in rows:
                row.start = row.arm.counters()
            for n in range(rounds):
                uids = range(1 + n * users, 1 + (n + 1) * users)
                for row in rows if n % 2 == 0 else reversed(rows):  # neither goes first always
                    before = row.arm.updates
                    seconds, cpu = await play(row.arm, uids, concurrency)
                    row.rates.append((row.arm.updates - before) / seconds)
                    row.cpu.append(cpu / (row.arm.updates - before))
                for row in rows:
                    row.ratios.append(desk.rates[-1] / row.rates[-1])
            for row in rows:
                row.end = row.arm.counters()
        finally:
            for arm in arms:
                await arm.stop()
    return Table(rows, rounds, users, concurrency, peak_rss_mib())


async def _warm_up(rows: list[Row], concurrency: int) -> None:
    uids = range(10**8, 10**8 + max(2, concurrency))
    for row in rows:
        await play(row.arm, uids, concurrency)


def _per_update(row: Row, what: str) -> str:
    start, end = getattr(row.start, what), getattr(row.end, what)
    if start is None or end is None:
        return "-"
    return f"{(end - start) / max(1, row.end.updates - row.start.updates):.2f}"


def _spread(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"


def report(table: Table) -> str:
    head = "{:5} {:34} {:>6} {:>17} {:>17} {:>5} {:>4} {:>6}"
    lines = [
        f"{table.rounds} interleaved rounds x {table.users} conversations per arm, "
        f"{table.concurrency} user(s) in flight; desk/X = median of per-round ratios [range]",
        "of updates/s (wall) and of CPU per update (all threads)",
        head.format("arm", "what", "upd/s", "desk/X wall", "desk/X CPU", "hops", "SQL", "calls"),
    ]
    desk = table.rows[-1]
    for row in table.rows:
        cpu = [d / x for d, x in zip(row.cpu, desk.cpu, strict=True)]
        rate = f"{statistics.median(row.rates):.0f}"
        hops, sql = _per_update(row, "round_trips"), _per_update(row, "statements")
        calls = _per_update(row, "api_calls")
        line = (row.arm.name, row.arm.note, rate, _spread(row.ratios), _spread(cpu))
        lines.append(head.format(*line, hops, sql, calls))
    lines.append("hops, SQL, calls: per update (DB round trips, SQL statements, Bot API calls)")
    lines.append(f"peak RSS {table.peak_rss_mib:.1f} MiB")
    return "\n".join(lines)
