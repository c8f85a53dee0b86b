"""Draw the flows as Mermaid `stateDiagram-v2`, generated from the machines' own tables.

Used by `complaint-desk diagram` and the README; never at run time (GraphMachine keeps
per-model graph state and restyles on every transition).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from transitions.extensions import GraphMachine

from flows import broadcast_compose, filing_machine, filing_model, lifecycle, revoke
from flows.records import Stage

FLOWS: dict[str, tuple[type[Enum], Enum, list[dict[str, Any]]]] = {
    "filing": (
        filing_model.FilingState,
        filing_model.FilingState.IDLE,
        filing_machine.TRANSITIONS,
    ),
    "lifecycle": (Stage, Stage.PENDING, lifecycle.TRANSITIONS),
    "revocation": (revoke.RequestState, revoke.RequestState.REASON, revoke.TRANSITIONS),
    "broadcast": (
        broadcast_compose.ComposeState,
        broadcast_compose.ComposeState.TEXT,
        broadcast_compose.TRANSITIONS,
    ),
}


def mermaid(name: str) -> str:
    states, initial, transitions = FLOWS[name]
    rows = [
        {k: v for k, v in t.items() if k in ("trigger", "source", "dest", "conditions")}
        for t in transitions
    ]
    machine = GraphMachine(
        states=states,
        initial=initial,
        transitions=rows,
        auto_transitions=False,
        graph_engine="mermaid",
        show_conditions=True,
        title=f"{name} flow",
    )
    text: str = machine.get_graph().draw(None)
    return text
