"""The filing conversation as a `Flow`: its model (`flows.filing_model`), its machine
(`flows.filing_machine`), what each state asks (`flows.filing_questions`), and what the driver
needs around them: its state lives in the user's row (`state`, `draft`), texts and files become
triggers, duplicates and a fresh number are looked up before firing, and a submitted complaint
is stored with its deadlines.

It is the conversation underneath every task: /start and /cancel belong to it, and a text, a
file or a conversation button comes here when no task is open.
"""

from __future__ import annotations

from typing import Any

from flows import complaints
from flows.context import Context
from flows.conversation import Flow, FlowModel, Trigger
from flows.events import Event, Forward, Media, Text
from flows.evidence import evidence_item
from flows.filing_machine import BUTTONS, MACHINE
from flows.filing_model import Facts, FilingModel, FilingState
from flows.filing_questions import prompt
from flows.records import ComplaintRecord
from flows.replies import Ref, Reply

NAME = "filing"


def _load(ctx: Context) -> FlowModel:
    return FilingModel(ctx)


def _store(ctx: Context, model: FlowModel) -> bool:
    """Keep the state and draft; a new state asks a new question (old buttons become stale)."""
    moved = model.state.value != ctx.user.state
    ctx.update(state=model.state.value, draft=model.data)
    ctx.nonce_bump |= moved
    return bool(moved)


def _trigger(ctx: Context, model: FlowModel, event: Event) -> Trigger:
    """Which trigger a text or a file fires in the user's filing state, with its arguments."""
    if model.state is FilingState.COLLECTING_EVIDENCE and isinstance(event, Text | Media | Forward):
        body = event.text if isinstance(event, Text) else event
        return "evidence", {"item": evidence_item(body, ctx.now)}
    if isinstance(event, Text):
        return "text", {"text": event.text}
    return None, {}


def _facts(ctx: Context, model: FlowModel, trigger: str, kwargs: dict[str, Any]) -> None:
    """Look up what this trigger's guards need: duplicates, and a number when submitting."""
    user, draft, state = ctx.user, ctx.user.draft, model.state
    if draft is None or draft.type_id is None:
        return
    target: str | None = None
    if state is FilingState.ENTERING_TARGET and trigger == "text":
        target = str(kwargs["text"])
    elif (state, trigger) in (
        (FilingState.REVIEWING, "submit"),
        (FilingState.CONFIRMING, "confirm"),
    ):
        target = draft.target
    if target is None:
        return
    duplicate = ctx.tx.find_open_complaint(
        user.user_id, draft.type_id, complaints.target_key(target)
    )
    submitting = trigger == "confirm" or (trigger == "submit" and not user.confirm_twice)
    number = complaints.fresh_number(ctx) if submitting and duplicate is None else None
    model.facts = Facts(duplicate_of=duplicate, number=number)


def _where(model: FlowModel) -> Ref:
    return Ref(f"filing.step.{model.state.value}")


def _not_taken(ctx: Context, model: FlowModel, event: Event) -> None:
    """A text or a file the state does not take: say what it expects."""
    question = prompt(_filing(model))
    if model.state is FilingState.IDLE:
        ctx.reply(question)
    elif isinstance(event, Text):
        ctx.reply(Reply("errors.use_buttons"))
        ctx.reply(question)
    else:
        ctx.reply(Reply("errors.media_not_expected", {"step": _where(model)}))


def _submitted(ctx: Context, model: FlowModel) -> None:
    """The complaint the machine filed, stored with its deadlines in this transaction."""
    assert isinstance(model.result, ComplaintRecord)
    ctx.tx.insert_complaint(complaints.with_deadlines(model.result, ctx.catalog))


def _filing(model: FlowModel) -> FilingModel:
    assert isinstance(model, FilingModel)
    return model


FLOW = Flow(
    name=NAME,
    machine=MACHINE,
    states=FilingState,
    buttons=BUTTONS,
    load=_load,
    store=_store,
    trigger=_trigger,
    question=lambda ctx, model: [prompt(_filing(model))],
    not_taken=_not_taken,
    where=_where,
    facts=_facts,
    on_submit=_submitted,
)
