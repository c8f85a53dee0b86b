"""The outbox sender and the deadline sweeper, through the running bot."""

from __future__ import annotations

from bot.app import runtime
from bot.simulator import Simulator
from flows.context import notification


async def test_a_refused_notification_does_not_hold_up_the_rest(sim: Simulator) -> None:
    """A chat Telegram does not know (400) is kept for later, not dropped; the next row is
    delivered."""
    alice = sim.user(1001, "Alice", language_code="en")
    await alice.send("/start")
    rt = runtime(sim.app)
    now = sim.clock.now()

    def enqueue(tx: object) -> None:
        for user_id in (424242, 1001):
            tx.enqueue(notification(user_id, "notify.accepted", now, number="X-1"))  # type: ignore[attr-defined]

    await rt.store.transact(enqueue)
    assert rt.outbox is not None
    rt.outbox.kick()
    await sim.run_until_idle()
    alice.assert_last("notify.accepted")
    kept = await rt.store.read(lambda tx: tx.pending_notifications())
    assert [note.user_id for note, _ in kept] == [424242]
    assert await rt.store.read(lambda tx: tx.deferred_notifications()) == [424242]


async def test_a_blocked_recipient_is_recorded_and_not_retried(sim: Simulator) -> None:
    alice = sim.user(1001, "Alice", language_code="en")
    await alice.send("/start")
    sim.world.block(1001)
    rt = runtime(sim.app)
    now = sim.clock.now()
    await rt.store.transact(
        lambda tx: tx.enqueue(notification(1001, "notify.accepted", now, number="X-2"))
    )
    assert rt.outbox is not None
    rt.outbox.kick()
    await sim.run_until_idle()
    user = await rt.store.read(lambda tx: tx.load_user(1001))
    assert user is not None
    assert user.blocked_bot
    assert await rt.store.read(lambda tx: tx.pending_notifications()) == []
    sim.world.block(1001, blocked=False)
    await alice.send("/start")  # writing again clears the mark
    user = await rt.store.read(lambda tx: tx.load_user(1001))
    assert user is not None
    assert not user.blocked_bot
