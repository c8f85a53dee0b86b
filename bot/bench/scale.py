"""`complaint-desk bench --scale 1000 10000 100000`: the desk with N users already stored.

For each N a fresh database is loaded through the store (each user with 2 submitted
complaints, cloned from one filed by a real conversation), then the desk on it and the
desk on an empty database play interleaved rounds (throughput at N / throughput empty, the
median of per-round ratios with its range), and the background and operator queries are
timed on it: the sweep (the Sweeper's own unit of work), the operator queue (all, flagged),
the broadcast audience count and the creation of its ledger (N rows). Peak RSS is the
process's after each N (it only grows: read the growth from 1k to 100k).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bot.app import runtime
from bot.bench.arms import DeskArm, desk_steps, temporary_folder
from bot.bench.rounds import peak_rss_mib, play
from bot.i18n import Translator
from flows.ports import Tx
from flows.records import Broadcast, ComplaintRecord, Segment, SegmentKind, UserRecord
from flows.sweeper import sweep
from storage.base import Store

TEMPLATE = 10**9
CHUNK = 2_000  # users per loading transaction


@dataclass
class Scale:
    users: int
    ratios: list[float] = field(default_factory=list)  # desk at N / desk empty, per round
    rate: float = 0.0
    hops: float = 0.0
    statements: float = 0.0
    calls: float = 0.0
    load_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # ms, median of 5
    rss_mib: float = 0.0


async def _template(desk: DeskArm) -> tuple[UserRecord, ComplaintRecord]:
    await desk.record(TEMPLATE)
    store = _store(desk)

    def read(tx: Tx) -> tuple[UserRecord | None, list[ComplaintRecord]]:
        return tx.load_user(TEMPLATE), tx.complaints_of(TEMPLATE)

    user, complaints = await store.read(read)
    assert user is not None, "the template conversation stored no user"
    assert complaints, "the template conversation filed nothing"
    return user, complaints[0]


def _store(desk: DeskArm) -> Store:
    assert desk.app is not None
    return runtime(desk.app).store


async def load(
    store: Store, user: UserRecord, complaint: ComplaintRecord, n: int, complaints: int = 2
) -> None:
    """N users, `complaints` complaints each, written through the store's own port."""

    def chunk(tx: Tx, first: int, last: int) -> None:
        for uid in range(first, last):
            tx.save_user(user.model_copy(update={"user_id": uid}), expected_version=0)
            for k in range(complaints):
                number = f"{complaint.number[:7]}{uid:07d}{k}"
                target = f"{complaint.target_key}-{uid}-{k}"
                update = {"number": number, "user_id": uid, "target_key": target}
                tx.insert_complaint(complaint.model_copy(update=update))

    for first in range(1, n + 1, CHUNK):
        await store.transact(partial(chunk, first=first, last=min(n + 1, first + CHUNK)))


async def _ms(work: Callable[[], Awaitable[Any]], times: int = 5) -> float:
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        await work()
        spent.append((time.perf_counter() - began) * 1000)
    return statistics.median(spent)


async def measure(
    n: int, folder: Path, translator: Translator, empty: DeskArm, rounds: int, users: int,
    concurrency: int,
) -> Scale:  # fmt: skip
    result = Scale(n)
    desk = DeskArm(folder, desk_steps(translator), translator)
    await desk.start()
    try:
        store = _store(desk)
        user, complaint = await _template(desk)
        began = time.perf_counter()
        await load(store, user, complaint, n)
        result.load_s = time.perf_counter() - began
        start = desk.counters()
        rates = []
        for r in range(rounds):
            first = 2 * 10**8 + n + r * users  # new people for both arms (the empty one is shared)
            uids = range(first, first + users)
            pair = []
            for arm in (desk, empty) if r % 2 == 0 else (empty, desk):
                before = arm.updates
                seconds, _ = await play(arm, uids, concurrency)
                pair.append(((arm.updates - before) / seconds, arm is desk))
            at_n = next(rate for rate, mine in pair if mine)
            rates.append(at_n)
            result.ratios.append(at_n / next(rate for rate, mine in pair if not mine))
        end = desk.counters()
        updates = end.updates - start.updates
        result.rate = statistics.median(rates)
        result.hops = ((end.round_trips or 0) - (start.round_trips or 0)) / updates
        result.statements = ((end.statements or 0) - (start.statements or 0)) / updates
        result.calls = (end.api_calls - start.api_calls) / updates
        rt = runtime(desk.app) if desk.app is not None else None
        assert rt is not None
        now = desk.clock.now()
        rules = rt.desk.rules
        everyone = Segment(kind=SegmentKind.ALL)
        result.timings = {
            "sweep": await _ms(lambda: store.transact(partial(sweep, now=now, rules=rules))),
            "queue": await _ms(lambda: store.read(lambda tx: tx.queue(limit=20))),
            "flagged": await _ms(lambda: store.read(lambda tx: tx.queue(flagged=True))),
            "audience": await _ms(lambda: store.read(lambda tx: tx.audience_count(everyone))),
        }
        b = Broadcast(operator_id=1, text="bench", segment=everyone, created_at=now)
        result.timings["ledger"] = await _ms(
            lambda: store.transact(lambda tx: tx.create_broadcast(b)), times=1
        )
    finally:
        await desk.stop()
    result.rss_mib = peak_rss_mib()
    return result


async def run(
    sizes: list[int], rounds: int = 5, users: int = 16, concurrency: int = 1
) -> list[Scale]:
    translator = Translator.load()
    results = []
    with temporary_folder() as tmp:
        root = Path(tmp)
        (root / "empty").mkdir()
        empty = DeskArm(root / "empty", desk_steps(translator), translator)
        await empty.start()
        try:
            for n in sizes:
                folder = root / f"n{n}"
                folder.mkdir()
                results.append(
                    await measure(n, folder, translator, empty, rounds, users, concurrency)
                )
        finally:
            await empty.stop()
    return results


def report(results: list[Scale], concurrency: int) -> str:
    head = "{:>7} {:>8} {:>6} {:>17} {:>5} {:>5} {:>5} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7}"
    lines = [
        f"stored users: each with 2 complaints; desk at N vs. an empty database, interleaved, "
        f"{concurrency} user(s) in flight; timings: ms (median of 5; ledger: once)",
        head.format(
            "users", "load s", "upd/s", "x empty [range]", "hops", "SQL", "calls", "sweep",
            "queue", "flagged", "audience", "ledger", "RSS MiB",
        ),
    ]  # fmt: skip
    for s in results:
        spread = f"{statistics.median(s.ratios):.2f} [{min(s.ratios):.2f}-{max(s.ratios):.2f}]"
        t = s.timings
        cells = [s.users, f"{s.load_s:.1f}", f"{s.rate:.0f}", spread, f"{s.hops:.2f}"]
        cells += [f"{s.statements:.2f}", f"{s.calls:.2f}"]
        cells += [f"{t[k]:.2f}" for k in ("sweep", "queue", "flagged", "audience")]
        cells += [f"{t['ledger']:.0f}", f"{s.rss_mib:.1f}"]
        lines.append(head.format(*cells))
    return "\n".join(lines)
