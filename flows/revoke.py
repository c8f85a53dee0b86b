"""The revocation request: reason, account kind, materials, confirm (being built)."""

from __future__ import annotations

from flows.events import Event
from flows.step import Step

FLOW = "revoke"
BUTTONS: frozenset[str] = frozenset()


def on_event(step: Step, event: Event) -> None:
    step.set_task(None)
