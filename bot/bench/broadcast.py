"""`complaint-desk bench --broadcast N`: one broadcast to N stored users on the fake Telegram
with its flood limits on (bot/fake/limits.py), on virtual time, while one user files a
complaint: the send rate against the configured one, 429s, CPU per message, and how long
(virtual) the talking user waited for each reply.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.app import runtime
from bot.bench.arms import TICK, DeskArm, desk_steps, temporary_folder
from bot.bench.scale import _store, _template, load
from bot.i18n import Translator
from flows.records import Broadcast, DeliveryState, Segment, SegmentKind

TALKER = 10**9 + 1
OPERATOR = 10**9 + 2


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
    await load(store, user, complaint, recipients)
    for uid in range(1, recipients + 1):
        world.add_user(uid, language_code="en")
    world.add_user(OPERATOR, language_code="en")
    limits = world.enforce_limits()
    everyone = Segment(kind=SegmentKind.LANGUAGE, value="en")
    b = Broadcast(operator_id=OPERATOR, text="Notice", segment=everyone, created_at=clock.now())
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
    while True:
        for _ in range(20):
            await asyncio.sleep(0)
        counts = await store.read(lambda tx: tx.delivery_counts(created.id or 0))
        pending = counts.get(DeliveryState.PENDING, 0) + counts.get(DeliveryState.SENDING, 0)
        if pending == 0 and person.done():
            break
        due = clock.next_wakeup()
        if not talking and due is not None:
            clock.set(max(due, clock.now()))
        elif not talking:
            clock.advance(timedelta(milliseconds=10))
    await person
    cpu = time.process_time() - cpu
    bulk = [
        c for c in world.calls()[mark:]
        if c.ok and c.method == "sendMessage" and c.params.get("chat_id", 0) <= recipients
    ]  # fmt: skip
    seconds = (bulk[-1].at - bulk[0].at).total_seconds() if len(bulk) > 1 else 0.0
    return BroadcastRun(
        recipients, rt.settings.broadcast_rate, len(bulk), seconds, limits.refused,
        cpu * 1000 / max(1, len(bulk)), delays,
    )  # fmt: skip


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
