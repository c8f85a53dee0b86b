"""The benchmark runs and measures what it claims (ratios are read, never asserted)."""

from __future__ import annotations

from bot import bench


async def test_every_arm_runs_and_the_desk_costs_one_db_hop_per_update() -> None:
    results = await bench.run(users=3)
    assert [r.updates for r in results] == [30, 9, 30]
    desk = results[-1]
    assert desk.round_trips == desk.updates  # one transaction, one thread hop, per update
    assert desk.api_calls > desk.updates  # replies, tap answers, keyboards: all counted
    table = bench.report(results)
    assert "ConversationHandler" in table
    assert "1.00" in table.splitlines()[-1]
