"""The bench runs every arm on the same conversation and counts what it claims.

Ratios are printed, never asserted (performance is proven by running the bench, not by tests).
"""

from __future__ import annotations

from collections import Counter

from bot import bench
from bot.bench import broadcast, scale


async def test_arms_interleave_and_d10_makes_the_desks_calls() -> None:
    table = await bench.run(rounds=2, users=2, concurrency=2)
    names = [row.arm.name for row in table.rows]
    assert names == ["A", "B", "D", "D10", "D10s", "desk"]
    for row in table.rows:
        assert len(row.rates) == len(row.ratios) == 2
        per_conversation = 3 if row.arm.name == "D" else 10
        assert row.end.updates - row.start.updates == 2 * 2 * per_conversation
    desk = table.row("desk")
    assert desk.ratios == [1.0, 1.0]

    def methods(arm: bench.Table, name: str) -> Counter[str]:
        world = arm.row(name).arm.world
        return Counter(c.method for c in world.calls() if c.method not in bench.SETUP_CALLS)

    # D10 replays the desk's recorded calls: the same methods, as often, per conversation.
    desk_calls, d10_calls = methods(table, "desk"), methods(table, "D10")
    conversations_desk = 1 + 2 + 2 * 2  # the recording, the warm-up, the rounds
    conversations_d10 = 2 + 2 * 2
    assert {m: n * conversations_d10 for m, n in desk_calls.items()} == {
        m: n * conversations_desk for m, n in d10_calls.items()
    }
    assert "answerCallbackQuery" in d10_calls
    assert desk.end.round_trips is not None
    assert desk.start.round_trips is not None
    assert desk.end.round_trips - desk.start.round_trips <= 2 * 2 * 10  # <= 1 hop per update
    text = bench.report(table)
    assert "D10s" in text
    assert "desk/X CPU" in text
    assert "peak RSS" in text


async def test_scale_mode_loads_users_through_the_store_and_times_the_queries() -> None:
    results = await scale.run([30], rounds=2, users=2, concurrency=1)
    (row,) = results
    assert row.users == 30
    assert len(row.ratios) == 2
    assert row.hops <= 1.0
    assert set(row.timings) == {"sweep", "queue", "flagged", "audience", "ledger"}
    assert "x empty" in scale.report(results, 1)


async def test_broadcast_mode_reaches_everyone_without_429s() -> None:
    result = await broadcast.run(40)
    assert result.sent == 40 + 1  # the stored users, and the template conversation's user
    assert result.refused == 0
    assert len(result.reply_delays) == 10  # the talking user's whole conversation
    assert "msg/s" in broadcast.report(result)
