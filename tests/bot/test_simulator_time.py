"""The simulator on virtual time with the real bot: waits inside an update do not hang a step."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.simulator import Simulator


async def test_a_reply_that_meets_a_429_does_not_hang_the_step(sim: Simulator) -> None:
    """The bot waits `retry_after` on the clock inside the update (the pacer retries replies):
    virtual time moves on to that wake-up, the reply goes out, and the step returns."""
    alice = sim.user(1001, "alice", language_code="en")
    sim.world.fault("sendMessage", code=429, retry_after=7, chat_id=alice.id)
    before = sim.clock.now()
    await asyncio.wait_for(alice.send("/start"), timeout=60)  # a guard against the hang only
    alice.assert_last("menu.welcome")
    assert sim.clock.now() - before >= timedelta(seconds=7)
