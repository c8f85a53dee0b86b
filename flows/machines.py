"""How every state machine here is built: once per process, shared, never bound to a model.

`model=None`, no automatic transitions, states as an Enum, transitions as a table, callbacks
given the `EventData`. Each event is fired on a throwaway model
(`MACHINE.events[name].trigger(model, ...)`). `validator` writes the usual pair of a guard and
its fallback once.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, cast

from transitions import EventData, Machine

from flows.replies import Ref, Reply


def shared_machine(states: type[Enum], transitions: list[dict[str, Any]]) -> Machine:
    return Machine(
        model=None,
        states=states,
        initial=None,
        transitions=transitions,
        auto_transitions=False,
        send_event=True,
    )


Guard = Callable[[EventData], bool]
Callback = Callable[[EventData], None]


def validator(problem: Callable[[EventData], Ref | Reply | None]) -> tuple[Guard, Callback]:
    """For `<what>_problem` (why an input cannot be taken, or None): the guard `<what>_ok` and
    the fallback callback `<what>_rejected` that says the problem (a table's guarded row and
    its `dest=None` row)."""
    what = problem.__name__.removesuffix("_problem")

    def ok(ev: EventData) -> bool:
        return problem(ev) is None

    def rejected(ev: EventData) -> None:
        found = problem(ev)
        assert found is not None
        reply = found if isinstance(found, Reply) else Reply(found.key, found.params)
        cast(Any, ev.model).replies.append(reply)

    ok.__name__, rejected.__name__ = f"{what}_ok", f"{what}_rejected"  # as the diagrams name them
    return ok, rejected
