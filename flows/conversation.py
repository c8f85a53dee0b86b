"""The one driver every conversation runs on: filing, a revocation request, an operator typing a
result or a decision, an operator composing a broadcast.

A `Flow` describes a conversation: its shared machine (states as an Enum, transitions as a
table), which of its triggers a button may fire, how any other event becomes a trigger, the
facts its guards need from the database, the question each state asks, what to say to input a
state does not take, and what happens on submit. Where it keeps its state (the filing flow in
the user's row, the tasks in `UserRecord.task`) is its `load` / `store`.

`drive` runs one event the same way for every flow: check the trigger against the state's
triggers (computed once per flow), look up the facts, fire it on a throwaway `FlowModel`, pass
on its replies, store the moved state (buttons drawn for the old question become stale) and ask
the next question.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from transitions import Machine

from flows.catalog import Catalog
from flows.context import Context
from flows.events import Command, Event, Tap, Unsupported
from flows.records import UserRecord
from flows.replies import DomainEvent, Notice, Ref, Reply

Trigger = tuple[str | None, dict[str, Any]]


class FlowModel:
    """The machine model of one event: where the conversation stands and what firing produced.

    Guards read `state`, `data`, `facts` (and the user, catalog and time of the update); they
    never do I/O. Callbacks change `state`/`data` and append replies, a pop-up `Notice` or a
    `DomainEvent`; they set `done` (the conversation ends), `submit` (the flow's `on_submit`
    takes over, with `result` if the callback built one) or `ask_again` (ask the state's
    question once more without a new prompt nonce).
    """

    __slots__ = (
        "ask_again",
        "catalog",
        "data",
        "done",
        "facts",
        "now",
        "replies",
        "result",
        "state",
        "submit",
        "user",
    )

    def __init__(self, ctx: Context, state: Enum, data: Any) -> None:
        self.user: UserRecord = ctx.user
        self.catalog: Catalog = ctx.catalog
        self.now = ctx.now
        self.state = state
        self.data = data
        self.facts: Any = None
        self.replies: list[Reply | Notice | DomainEvent] = []
        self.result: Any = None
        self.done = False
        self.submit = False
        self.ask_again = False


def _nothing(ctx: Context, model: FlowModel) -> None:
    """Submitting has no effect beyond the machine's own."""


def no_facts(ctx: Context, model: FlowModel, trigger: str, kwargs: dict[str, Any]) -> None:
    """This flow's guards need nothing from the database."""


@dataclass(frozen=True)
class Flow:
    """What a conversation is; `drive` runs it."""

    name: str
    machine: Machine
    states: type[Enum]
    buttons: frozenset[str]  # the triggers a button may fire; anything else in a tap is forged
    load: Callable[[Context], FlowModel]  # the model of where the conversation stands now
    store: Callable[[Context, FlowModel], bool]  # keep it; True: a new question (and nonce)
    trigger: Callable[[Context, FlowModel, Event], Trigger]  # texts, files, unsupported input
    question: Callable[[Context, FlowModel], list[Reply]]  # one message, or several (a preview)
    not_taken: Callable[[Context, FlowModel, Event], None]  # a text or file the state refuses
    where: Callable[[FlowModel], Ref]  # the state as words, for "this step takes..."
    facts: Callable[[Context, FlowModel, str, dict[str, Any]], None] = no_facts
    on_submit: Callable[[Context, FlowModel], None] = _nothing
    end: Callable[[Context], None] = lambda ctx: None  # `done`: the conversation is over
    admit: Callable[[Context], bool] = lambda ctx: True  # False: dropped (and it said why)
    triggers: Mapping[Enum, frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        table = {s: frozenset(self.machine.get_triggers(s.name)) for s in self.states}
        object.__setattr__(self, "triggers", table)


def drive(ctx: Context, flow: Flow, event: Event) -> None:
    """Run one event through the open conversation."""
    cancelling = isinstance(event, Command) and event.name == "cancel"  # always possible
    if not cancelling and not flow.admit(ctx):
        flow.end(ctx)
        return
    model = flow.load(ctx)
    trigger, kwargs = _trigger(ctx, flow, model, event)
    if trigger is None or trigger not in flow.triggers[model.state]:
        not_taken(ctx, flow, model, event)
        return
    flow.facts(ctx, model, trigger, kwargs)
    flow.machine.events[trigger].trigger(model, **kwargs)
    _pass_on(ctx, model.replies)
    if model.done:
        flow.end(ctx)
        return
    moved = flow.store(ctx, model)
    if model.submit:
        flow.on_submit(ctx, model)
    if moved or model.ask_again:
        ask(ctx, flow, model)


def ask(ctx: Context, flow: Flow, model: FlowModel | None = None) -> None:
    """The question the conversation's current state asks."""
    for reply in flow.question(ctx, model or flow.load(ctx)):
        ctx.reply(reply)


def not_taken(ctx: Context, flow: Flow, model: FlowModel, event: Event) -> None:
    """The event means nothing in this state: say what the state expects; change nothing."""
    if isinstance(event, Tap):
        ctx.notice("errors.button_invalid", alert=True)
    elif isinstance(event, Command):
        ctx.reply(Reply("errors.command_out_of_place", {"step": flow.where(model)}))
    elif isinstance(event, Unsupported):
        ctx.reply(Reply("errors.unsupported", {"step": flow.where(model)}))
    else:
        flow.not_taken(ctx, model, event)


def _trigger(ctx: Context, flow: Flow, model: FlowModel, event: Event) -> Trigger:
    if isinstance(event, Tap):  # its format and scope were checked by decoding and routing
        if event.action not in flow.buttons:
            return None, {}
        return event.action, {"arg": event.arg}
    if isinstance(event, Command):  # /start and /cancel: every flow has both
        return event.name, {}
    return flow.trigger(ctx, model, event)


def _pass_on(ctx: Context, items: list[Reply | Notice | DomainEvent]) -> None:
    for item in items:
        if isinstance(item, Reply):
            ctx.out.replies.append(item)
        elif isinstance(item, Notice):
            ctx.out.notice = item
        else:
            ctx.out.events.append(item)
