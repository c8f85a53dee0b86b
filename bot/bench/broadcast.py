"""`complaint-desk bench --broadcast N`: one broadcast to N stored users on the fake Telegram
with its flood limits on (bot/fake/limits.py), on virtual time, while one user files a
complaint: the send rate against the configured one, 429s, CPU per message, and how long
(virtual) the talking user waited for each reply.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import runtime
from bot.bench.arms import TICK, DeskArm, desk_steps, temporary_folder
from bot.bench.scale import _store, _template, load
from bot.i18n import Translator
from flows.records import Broadcast, DeliveryState, Segment, SegmentKind

TALKER = 10**9 + 1
OPERATOR = 10**9 + 2
NOTICE = "Notice: the desk is closed on Sunday."


@dataclass
class BroadcastRun:
    recipients: int
    configured: float
    sent: int
    seconds: float  # virtual, first to last bulk send
    refused: int  # 429s answered by the fake
    cpu_ms_per_message: float
    reply_delays: list[float]  # virtual seconds, one per update of the talking user

    @property
    def rate(self) -> float:
        return (self.sent - 1) / self.seconds if self.seconds > 0 else 0.0


async def run(recipients: int) -> BroadcastRun:
    translator = Translator.load()
    with temporary_folder() as tmp:
        desk = DeskArm(Path(tmp), desk_steps(translator), translator)
        await desk.start()
        try:
            return await _broadcast(desk, recipients)
        finally:
            await desk.stop()


async def _broadcast(desk: DeskArm, recipients: int) -> BroadcastRun:
    assert desk.app is not None
    rt, store, world, clock = runtime(desk.app), _store(desk), desk.world, desk.clock
    user, complaint = await _template(desk)
    # users only: stored complaints would fall due while virtual time runs and their
    # notifications would mix with the broadcast
    await load(store, user, complaint, recipients, complaints=0)
    for uid in range(1, recipients + 1):
        world.add_user(uid, language_code="en")
    world.add_user(OPERATOR, language_code="en")
    limits = world.enforce_limits()
    everyone = Segment(kind=SegmentKind.LANGUAGE, value="en")
    b = Broadcast(operator_id=OPERATOR, text=NOTICE, segment=everyone, created_at=clock.now())
    created = await store.transact(lambda tx: tx.create_broadcast(b))
    assert created.id is not None
    mark = len(world.calls())
    cpu = time.process_time()
    assert rt.broadcaster is not None
    rt.broadcaster.kick()
    delays: list[float] = []
    talking = False

    async def talker() -> None:
        nonlocal talking
        world.add_user(TALKER, language_code="en")
        for step in desk.steps(TALKER):
            await clock.sleep(2.0)  # a person reads, then answers
            talking = True
            asked = clock.now()
            await desk.feed(step(world, TALKER))
            delays.append((clock.now() - asked - TICK).total_seconds())
            talking = False

    person = asyncio.ensure_future(talker())
    busy = _count_hops(store)
    for turn in itertools.count():
        for _ in range(20):
            await asyncio.sleep(0)
        if busy[0] or talking:  # work on the database thread takes no virtual time
            await asyncio.sleep(0.0005)
            continue
        if turn % 20 == 0 and person.done():
            counts = await store.read(lambda tx: tx.delivery_counts(created.id or 0))
            if counts.get(DeliveryState.PENDING, 0) + counts.get(DeliveryState.SENDING, 0) == 0:
                break
            continue
        due = clock.next_wakeup()
        clock.set(due if due is not None else clock.now() + timedelta(milliseconds=50))
    await person
    cpu = time.process_time() - cpu
    bulk = [
        c for c in world.calls()[mark:]
        if c.ok and c.method == "sendMessage" and c.params.get("text") == NOTICE
    ]  # fmt: skip
    seconds = (bulk[-1].at - bulk[0].at).total_seconds() if len(bulk) > 1 else 0.0
    return BroadcastRun(
        recipients, rt.settings.broadcast_rate, len(bulk), seconds, limits.refused,
        cpu * 1000 / max(1, len(bulk)), delays,
    )  # fmt: skip


def _count_hops(store: Any) -> list[int]:
    """[hops in flight] on `store` (wraps its one database-thread seam, for this run only)."""
    busy = [0]
    original = store._on_db_thread

    async def counted(fn: Any) -> Any:
        busy[0] += 1
        try:
            return await original(fn)
        finally:
            busy[0] -= 1

    setattr(store, "_on_db_thread", counted)  # noqa: B010 - an instance attribute, on purpose
    return busy


def report(r: BroadcastRun) -> str:
    return "\n".join(
        [
            f"broadcast to {r.recipients} users, fake Telegram's flood limits on, virtual time",
            f"sent {r.sent} in {r.seconds:.1f} s: {r.rate:.2f} msg/s of {r.configured:.0f} "
            f"configured ({100 * r.rate / r.configured:.0f}%), 429s: {r.refused}",
            f"CPU per message {r.cpu_ms_per_message:.2f} ms (everything in the process, "
            "the talking user included)",
            f"talking user's replies: {len(r.reply_delays)} updates, longest wait "
            f"{max(r.reply_delays, default=0):.2f} s (virtual)",
        ]
    )
