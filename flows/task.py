"""Tasks: short conversations on top of the filing flow (a revocation request, an operator
writing a result, composing a broadcast), each on its own shared transitions machine.

A task module describes itself as a `TaskFlow`: its machine and states, how an event becomes a
trigger, what each state asks, what to say to input the state does not take, and what happens
when the person submits. `drive` runs one event through it the same way for every task: fire
the trigger on a throwaway `TaskModel`, pass on its replies, then end, move or keep the task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

from transitions import EventData, Machine

from flows.context import Context
from flows.events import Event
from flows.records import Task
from flows.replies import Button, Notice, Ref, Reply

CANCEL = Button("filing.button.cancel", "cancel")
BACK = Button("filing.button.back", "back")


def task_machine(states: type[Enum], transitions: list[dict[str, Any]]) -> Machine:
    """A task's shared machine: model-less, no automatic transitions, callbacks get EventData."""
    return Machine(
        model=None,
        states=states,
        initial=None,
        transitions=transitions,
        auto_transitions=False,
        send_event=True,
    )


def _model(ev: EventData) -> TaskModel:
    return cast(TaskModel, ev.model)


def invalid_choice(ev: EventData) -> None:
    """A button whose argument the state does not know (forged or damaged)."""
    _model(ev).replies.append(Notice("errors.button_invalid", alert=True))


def submit(ev: EventData) -> None:
    _model(ev).submit = True


def cancel_with(what: str) -> Callable[[EventData], None]:
    """The `cancel` callback of a task: it ends, saying what was stopped (`what`: a key)."""

    def cancel(ev: EventData) -> None:
        model = _model(ev)
        model.done = True
        model.replies.append(Reply("task.cancelled", {"step": Ref(what)}))

    return cancel


class TaskModel:
    """The machine model of one event: the task's state and data, and what firing produced.

    Callbacks set `done` (the task ends, e.g. cancelled) or `submit` (the person confirmed:
    the flow's `on_submit` takes over) and append replies or a pop-up `Notice`.
    """

    __slots__ = ("data", "done", "materials", "replies", "state", "submit")

    def __init__(self, task: Task, states: type[Enum]) -> None:
        self.state = states(task.state)
        self.data: dict[str, Any] = dict(task.data)
        self.materials = task.materials
        self.replies: list[Reply | Notice] = []
        self.done = False
        self.submit = False

    def updated(self, task: Task) -> Task:
        return task.model_copy(
            update={"state": self.state.value, "data": self.data, "materials": self.materials}
        )


Trigger = tuple[str | None, dict[str, Any]]


@dataclass(frozen=True)
class TaskFlow:
    machine: Machine
    states: type[Enum]
    trigger: Callable[[Context, Event], Trigger]  # "repeat" asks the question again
    question: Callable[[Context, Task], list[Reply]]  # one message, or several (a preview)
    model: Callable[[Context, Task], TaskModel]
    on_invalid: Callable[[Context, Event], None]  # input the current state does not take
    on_submit: Callable[[Context, Task], None]  # with the task as the model left it


def drive(ctx: Context, flow: TaskFlow, event: Event) -> None:
    """Run one event through the open task."""
    task = ctx.user.task
    assert task is not None
    trigger, kwargs = flow.trigger(ctx, event)
    if trigger == "repeat":
        ask(ctx, flow, task)
        return
    if trigger is None or trigger not in flow.machine.get_triggers(flow.states(task.state).name):
        flow.on_invalid(ctx, event)
        return
    model = flow.model(ctx, task)
    flow.machine.events[trigger].trigger(model, **kwargs)
    for item in model.replies:
        if isinstance(item, Notice):
            ctx.out.notice = item
        else:
            ctx.reply(item)
    if model.done:
        ctx.set_task(None)
    elif model.submit:
        flow.on_submit(ctx, model.updated(task))
    elif (moved := model.updated(task)) != task:
        ctx.set_task(moved)
        ask(ctx, flow, moved)


def ask(ctx: Context, flow: TaskFlow, task: Task) -> None:
    for reply in flow.question(ctx, task):
        ctx.reply(reply)
