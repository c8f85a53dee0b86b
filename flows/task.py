"""Tasks: short conversations on top of the filing flow (a revocation request, an operator
writing a result or a decision, an operator composing a broadcast), each a `Flow` kept in the
user's row (`UserRecord.task`) with its data typed by the task (a `TaskData` model).

`task_flow` builds the `Flow` of a task: where it is kept, how it ends, and the rows every task
shares (/start repeats its question, /cancel ends it). A task starts in the first state of its
enum (`start`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, cast

from pydantic import BaseModel, Field
from transitions import EventData, Machine

from flows.context import Context
from flows.conversation import Flow, FlowModel, Trigger, ask, no_facts
from flows.events import Event
from flows.records import EvidenceItem, Task
from flows.replies import Button, Notice, Ref, Reply

CANCEL = Button("filing.button.cancel", "cancel")
BACK = Button("filing.button.back", "back")


class TaskData(BaseModel):
    """A task's data. Stored as JSON in `Task.data`; the files it collected in `Task.materials`."""

    materials: tuple[EvidenceItem, ...] = Field(default=(), exclude=True)


def _model(ev: EventData) -> FlowModel:
    return cast(FlowModel, ev.model)


def invalid_choice(ev: EventData) -> None:
    """A button whose argument the state does not know (forged or damaged)."""
    _model(ev).replies.append(Notice("errors.button_invalid", alert=True))


def submit(ev: EventData) -> None:
    _model(ev).submit = True


def _what(model: FlowModel) -> Ref:
    assert model.user.task is not None
    return Ref(f"task.{model.user.task.flow}")


def still_open(ev: EventData) -> None:
    """/start while a task is open: say so and ask its question again."""
    model = _model(ev)
    model.replies.append(Reply("task.in_progress", {"step": _what(model)}))
    model.ask_again = True


def cancelled(ev: EventData) -> None:
    """/cancel or the cancel button: the task ends, saying what was stopped."""
    model = _model(ev)
    model.done = True
    model.replies.append(Reply("task.cancelled", {"step": _what(model)}))


def every_task_takes(states: type[Enum]) -> list[dict[str, Any]]:
    """The rows of every task's table: /start repeats the question, /cancel ends the task."""
    every = list(states)
    return [
        {"trigger": "start", "source": every, "dest": None, "after": still_open},
        {"trigger": "cancel", "source": every, "dest": None, "after": cancelled},
    ]


def _admit_all(ctx: Context) -> bool:
    return True


def task_flow(
    *,
    name: str,
    machine: Machine,
    states: type[Enum],
    data: type[TaskData],
    buttons: frozenset[str],
    trigger: Callable[[Context, FlowModel, Event], Trigger],
    question: Callable[[Context, FlowModel], list[Reply]],
    not_taken: Callable[[Context, FlowModel, Event], None],
    on_submit: Callable[[Context, FlowModel], None],
    facts: Callable[[Context, FlowModel, str, dict[str, Any]], None] = no_facts,
    admit: Callable[[Context], bool] = _admit_all,
) -> Flow:
    """The `Flow` of a task kept in `UserRecord.task` with its data as a `data` model."""

    def load(ctx: Context) -> FlowModel:
        task = ctx.user.task
        assert task is not None
        assert task.flow == name
        fields = {**task.data, "materials": task.materials}
        return FlowModel(ctx, states(task.state), data.model_validate(fields))

    def store(ctx: Context, model: FlowModel) -> bool:
        before = load(ctx)
        if model.state == before.state and model.data == before.data:
            return False
        ctx.set_task(_record(name, model.state, model.data))
        return True

    return Flow(
        name=name,
        machine=machine,
        states=states,
        buttons=buttons | {"cancel"},
        load=load,
        store=store,
        trigger=trigger,
        question=question,
        not_taken=not_taken,
        where=lambda model: Ref(f"task.{name}"),
        on_submit=on_submit,
        end=lambda ctx: ctx.set_task(None),
        admit=admit,
        facts=facts,
    )


def _record(name: str, state: Enum, data: TaskData) -> Task:
    return Task(
        flow=name,
        state=state.value,
        data=data.model_dump(mode="json", exclude_none=True),
        materials=data.materials,
    )


def start(
    ctx: Context, flow: Flow, data: TaskData | Mapping[str, Any], *, asking: bool = True
) -> None:
    """Open a task in the first state of its enum with `data` (as its data model, or fields
    that model validates when the task is loaded); ask its first question."""
    first = next(iter(flow.states))
    if isinstance(data, TaskData):
        ctx.set_task(_record(flow.name, first, data))
    else:
        ctx.set_task(Task(flow=flow.name, state=first.value, data=dict(data)))
    if asking:
        ask(ctx, flow)
