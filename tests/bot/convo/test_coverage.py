"""Flow coverage: transitions are recorded where they fire, whatever drives the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.convo import coverage
from bot.convo.coverage import Edge, Recording
from bot.simulator import Simulator
from flows import broadcast_compose, filing_machine, lifecycle, operator_task, revoke


def test_every_module_level_machine_of_the_flows_is_found() -> None:
    found = list(coverage.machines().values())
    for module in (filing_machine, lifecycle, revoke, broadcast_compose, operator_task):
        assert any(m is module.MACHINE for m in found), module.__name__
    assert len(found) == 5
    rows = [e for e in coverage.edges() if e.machine == "filing" and e.trigger == "choose"]
    assert [(e.dest, e.guard) for e in rows] == [
        ("READING_GUIDANCE", "guarded [known_type]"),
        ("=", "fallback"),
    ]


async def test_a_conversation_records_the_rows_it_walked_and_the_keys_it_rendered(
    sim: Simulator,
) -> None:
    alice = sim.user(1001, "alice", language_code="en")
    with Recording().installed() as rec:
        await alice.send("/start")
        await alice.tap_key("menu.button.file")
    walked = {e.id for e in coverage.edges() if e.machine == "filing" and rec.times(e)}
    assert walked == {"IDLE -start-> =", "IDLE -file-> CHOOSING_TYPE"}
    assert {"menu.welcome", "menu.button.file", "filing.choose_type"} <= set(rec.keys)
    await alice.send("/cancel")  # after the block: no longer recorded
    assert not any(e.trigger == "cancel" and rec.times(e) for e in coverage.edges())
    again = Recording.from_json(rec.to_json())
    assert again.walked == rec.walked
    assert again.keys == rec.keys


def _edge(machine: str, trigger: str) -> Edge:
    return next(e for e in coverage.edges() if e.machine == machine and e.trigger == trigger)


def test_the_gate_accepts_only_listed_unwalked_rows_with_a_reason(tmp_path: Path) -> None:
    rec = Recording()
    walked, accepted = _edge("filing", "file"), _edge("revoke", "confirm")
    rec.walked[(walked.machine, walked.source, walked.trigger, walked.index)] = 1
    exceptions = tmp_path / "accepted.yaml"
    exceptions.write_text(
        f'revoke:\n  "{accepted.id}": only reachable after a crash\n'
        f'filing:\n  "{walked.id}": stale\n  "NOWHERE -fly-> =": typo\n',
        encoding="utf-8",
    )
    problems = coverage.gate(rec, exceptions)
    assert f"filing: {walked.id} is walked now: remove it from {exceptions}" in problems
    assert f"filing: NOWHERE -fly-> = is listed in {exceptions} but is no transition" in problems
    assert not any(accepted.id in p and p.startswith("revoke") for p in problems)
    unwalked = [p for p in problems if p.endswith("is walked by no test")]
    assert len(unwalked) == len(coverage.edges()) - 2
    exceptions.write_text('revoke:\n  "x": ""\n', encoding="utf-8")
    with pytest.raises(ValueError, match="give the reason"):
        coverage.gate(rec, exceptions)


def test_the_diagram_marks_unwalked_edges_red() -> None:
    rec = Recording()
    first = _edge("revoke", "reason")
    rec.walked[(first.machine, first.source, first.trigger, first.index)] = 3
    drawn = coverage.mermaid(rec, "revoke")
    total = sum(1 for e in coverage.edges() if e.machine == "revoke")
    assert drawn.splitlines()[:2] == [
        f"%% revoke flow: 1/{total} transitions walked",
        "flowchart LR",
    ]
    assert f'-->|"reason {first.guard} ×3"| {first.dest}' in drawn
    assert "NOT WALKED" in drawn
    styled = drawn.splitlines()[-1]
    assert styled.startswith("    linkStyle 1,")
    assert "stroke:#d00" in styled
