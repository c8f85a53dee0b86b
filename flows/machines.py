"""How every state machine here is built: once per process, shared, never bound to a model.

`model=None`, no automatic transitions, states as an Enum, transitions as a table, callbacks
given the `EventData`. Each event is fired on a throwaway model
(`MACHINE.events[name].trigger(model, ...)`).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from transitions import Machine


def shared_machine(states: type[Enum], transitions: list[dict[str, Any]]) -> Machine:
    return Machine(
        model=None,
        states=states,
        initial=None,
        transitions=transitions,
        auto_transitions=False,
        send_event=True,
    )
