"""The conversation simulator and its actors: the real bot driven by simulated users.

    async with await Simulator.start(build_app, clock=FakeClock(start)) as sim:
        alice = sim.user(1001, "alice", language_code="zh-CN")
        await alice.send("/start")
        await alice.tap(label="File a complaint")
        await sim.advance(hours=23)
        alice.assert_last_contains("reminder")

It sits on top of the fake Telegram (`bot.fake`, which models Telegram only and knows nothing
of simulators): `sim.py` runs the Application against a world and a clock, `actor.py` is one
simulated user, `idle.py` decides when the bot has finished a step.
"""

from bot.simulator.actor import Actor
from bot.simulator.idle import DrainTimeout
from bot.simulator.sim import AnyApp, AppFactory, BotCrashed, Simulator

__all__ = ["Actor", "AnyApp", "AppFactory", "BotCrashed", "DrainTimeout", "Simulator"]
