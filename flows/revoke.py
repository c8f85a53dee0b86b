"""The revocation request (the operator channel): reason -> account kind -> the materials that
reason and kind require, one at a time, with the format the person is told -> confirm -> a
request number. A minor's request is not taken: a guardian must go in person (article 002).

A task on top of the filing flow (`Task(flow="revoke")`, opened from a complaint's detail), run
on its own shared machine. The policy is asked again at confirmation, so a window that closed
meanwhile is respected.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

from transitions import EventData

from flows import complaints, explain, materials, policy
from flows.context import Context
from flows.conversation import FlowModel, Trigger, ask
from flows.events import Event, Forward, Media, Text
from flows.evidence import evidence_item
from flows.machines import shared_machine, validator
from flows.policy import Channel
from flows.records import (
    AccountKind,
    ComplaintRecord,
    EvidenceItem,
    EvidenceKind,
    RevocationReason,
    RevocationRequest,
    TimelineEntry,
)
from flows.registry import Feature
from flows.replies import Button, Lines, Ref, Reply
from flows.task import (
    BACK,
    CANCEL,
    TaskData,
    every_task_takes,
    invalid_choice,
    submit,
    task_flow,
)

NAME = "revoke"


class RequestState(Enum):
    REASON = "reason"
    EXPLAIN = "explain"  # "other reason": a short explanation
    ACCOUNT = "account"
    MATERIAL = "material"
    CONFIRM = "confirm"


class RequestData(TaskData):
    """The request being written: for which complaint, and what the person chose so far."""

    number: str  # the complaint's
    flagged: bool = False  # the policy sent it to an operator with a flag (a risk review)
    reason: RevocationReason | None = None
    account: AccountKind | None = None
    needed: tuple[str, ...] = ()  # the materials this reason and account kind require
    explanation: str = ""  # for the reason "other"


def _m(ev: EventData) -> FlowModel:
    return cast(FlowModel, ev.model)


def _data(model: FlowModel) -> RequestData:
    return cast(RequestData, model.data)


def valid_reason(ev: EventData) -> bool:
    return ev.kwargs.get("arg") in {r.value for r in RevocationReason}


def valid_account(ev: EventData) -> bool:
    return ev.kwargs.get("arg") in {k.value for k in AccountKind if k is not AccountKind.MINOR}


def is_minor(ev: EventData) -> bool:
    return bool(ev.kwargs.get("arg") == AccountKind.MINOR.value)


def material_problem(ev: EventData) -> Ref | None:
    m = _m(ev)
    data = _data(m)
    return materials.problem(m.catalog, data.needed, data.materials, ev.kwargs["item"])


material_ok, material_rejected = validator(material_problem)


def last_material(ev: EventData) -> bool:
    m = _m(ev)
    data = _data(m)
    return materials.all_in(m.catalog, data.needed, (*data.materials, ev.kwargs["item"]))


def is_other(ev: EventData) -> bool:
    return bool(ev.kwargs.get("arg") == RevocationReason.OTHER.value)


def explanation_problem(ev: EventData) -> Ref | None:
    limits = _m(ev).catalog.limits
    text = str(ev.kwargs.get("text", "")).strip()
    if not limits.explanation_min <= len(text) <= limits.explanation_max:
        bounds = {"min": limits.explanation_min, "max": limits.explanation_max}
        return Ref("revoke.explanation_length", {**bounds, "length": len(text)})
    return None


explanation_ok, explanation_rejected = validator(explanation_problem)


def set_explanation(ev: EventData) -> None:
    _data(_m(ev)).explanation = str(ev.kwargs["text"]).strip()


def clear_explanation(ev: EventData) -> None:
    _data(_m(ev)).explanation = ""


def set_reason(ev: EventData) -> None:
    _data(_m(ev)).reason = RevocationReason(ev.kwargs["arg"])


def set_account(ev: EventData) -> None:
    """Work out the materials this reason and account kind require."""
    m = _m(ev)
    data = _data(m)
    assert data.reason is not None
    complaint: ComplaintRecord = m.facts
    data.account = AccountKind(ev.kwargs["arg"])
    data.needed = tuple(policy.required_materials(data.reason, data.account, complaint) or ())
    data.materials = ()


def minor_refused(ev: EventData) -> None:
    m = _m(ev)
    m.done = True
    m.replies.append(Reply("revoke.minor"))


def add_material(ev: EventData) -> None:
    data = _data(_m(ev))
    data.materials = (*data.materials, ev.kwargs["item"])


def clear_materials(ev: EventData) -> None:
    _data(_m(ev)).materials = ()


REASON, EXPLAIN, ACCOUNT, MATERIAL, CONFIRM = RequestState
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "reason", "source": REASON, "dest": EXPLAIN, "conditions": [valid_reason, is_other], "before": set_reason},
    {"trigger": "reason", "source": REASON, "dest": ACCOUNT, "conditions": valid_reason, "before": set_reason},
    {"trigger": "reason", "source": REASON, "dest": None, "after": invalid_choice},
    {"trigger": "text", "source": EXPLAIN, "dest": ACCOUNT, "conditions": explanation_ok, "before": set_explanation},
    {"trigger": "text", "source": EXPLAIN, "dest": None, "after": explanation_rejected},
    {"trigger": "account", "source": ACCOUNT, "dest": None, "conditions": is_minor, "after": minor_refused},
    {"trigger": "account", "source": ACCOUNT, "dest": MATERIAL, "conditions": valid_account, "before": set_account},
    {"trigger": "account", "source": ACCOUNT, "dest": None, "after": invalid_choice},
    {"trigger": "file", "source": MATERIAL, "dest": CONFIRM, "conditions": [material_ok, last_material], "before": add_material},
    {"trigger": "file", "source": MATERIAL, "dest": None, "conditions": material_ok, "after": add_material},
    {"trigger": "file", "source": MATERIAL, "dest": None, "after": material_rejected},
    {"trigger": "back", "source": [EXPLAIN, ACCOUNT], "dest": REASON, "before": clear_explanation},
    {"trigger": "back", "source": [MATERIAL, CONFIRM], "dest": ACCOUNT, "before": clear_materials},
    {"trigger": "confirm", "source": CONFIRM, "dest": None, "after": submit},
    *every_task_takes(RequestState),
]  # fmt: skip

MACHINE = shared_machine(RequestState, TRANSITIONS)


def question(ctx: Context, model: FlowModel) -> list[Reply]:
    """What the task's current state asks."""
    state, data = model.state, _data(model)
    if state is RequestState.REASON:
        rows = tuple(
            (Button(f"revoke.reason.{r.value}", "reason", r.value),) for r in RevocationReason
        )
        return [Reply("revoke.ask_reason", buttons=(*rows, (CANCEL,)))]
    if state is RequestState.ACCOUNT:
        rows = tuple(
            (Button(f"revoke.account.{k.value}", "account", k.value),) for k in AccountKind
        )
        return [Reply("revoke.ask_account", buttons=(*rows, (BACK, CANCEL)))]
    if state is RequestState.EXPLAIN:
        limits = ctx.catalog.limits
        bounds = {"min": limits.explanation_min, "max": limits.explanation_max}
        return [Reply("revoke.ask_explanation", bounds, ((BACK, CANCEL),))]
    if state is RequestState.MATERIAL:
        return [_ask_material(ctx, data)]
    params = {
        "number": data.number,
        "reason": Ref(f"revoke.reason.{data.reason}"),
        "account": Ref(f"revoke.account.{data.account}"),
        "materials": Lines(tuple(Ref(k) for k in data.needed)),
    }
    return [
        Reply(
            "revoke.confirm", params, ((Button("revoke.button.send", "confirm"),), (BACK, CANCEL))
        )
    ]


def _ask_material(ctx: Context, data: RequestData) -> Reply:
    """The material being collected: what it takes, or how many more of what was started."""
    index, started = materials.position(ctx.catalog, data.needed, data.materials)
    key = data.needed[index]
    params = {"n": index + 1, "total": len(data.needed), "material": Ref(key)}
    if started is not None and started.option is not None:
        left = started.option.count - len(started.items)
        more = {"got": len(started.items), "count": started.option.count, "left": left}
        return Reply("revoke.material_more", {**params, **more}, ((BACK, CANCEL),))
    accepts = materials.accepts_ref(materials.rule(ctx.catalog, key))
    params |= {"howto": Ref(f"{key}.howto"), "accepts": accepts}
    return Reply("revoke.ask_material", params, ((BACK, CANCEL),))


def _complaint(ctx: Context) -> ComplaintRecord | None:
    """The complaint the open request is about, if it is still the sender's."""
    task = ctx.user.task
    assert task is not None
    complaint = ctx.tx.get_complaint(str(task.data["number"]))
    return complaint if complaint is not None and complaint.user_id == ctx.user.user_id else None


def _trigger(ctx: Context, model: FlowModel, event: Event) -> Trigger:
    if isinstance(event, Media | Forward):
        return "file", {"item": evidence_item(event, ctx.now)}
    if isinstance(event, Text):
        return "text", {"text": event.text}
    return None, {}


def _facts(ctx: Context, model: FlowModel, trigger: str, kwargs: dict[str, Any]) -> None:
    model.facts = _complaint(ctx)  # which materials it needs depends on the complaint


def _not_taken(ctx: Context, model: FlowModel, event: Event) -> None:
    """Say what the step takes: a material as a file at the material step, else a button."""
    taking_files = model.state is RequestState.MATERIAL
    ctx.reply(Reply("revoke.send_material" if taking_files else "errors.use_buttons"))
    ask(ctx, FLOW, model)


def _submit(ctx: Context, model: FlowModel) -> None:
    """Confirmed: ask the policy once more, then file the request and tell the operators."""
    data = _data(model)
    assert data.reason is not None
    assert data.account is not None
    number = data.number
    complaint = ctx.tx.get_complaint(number)
    assert complaint is not None
    decision = complaints.decision(ctx.tx, ctx.catalog, complaint, ctx.now)
    ctx.set_task(None)
    if decision.channel is not Channel.OPERATOR:
        ctype = complaints.complaint_type(ctx.catalog, complaint)
        rule = explain.reason(decision, ctype, ctx.catalog.limits)
        ctx.reply(Reply("revoke.no_longer", {"rule": rule}))
        return
    request_number = "R" + complaints.fresh_number(
        ctx, lambda n: ctx.tx.get_request("R" + n) is None
    )
    request = RevocationRequest(
        number=request_number,
        complaint_number=number,
        user_id=ctx.user.user_id,
        reason=data.reason,
        account_kind=data.account,
        materials=(*_explanation(ctx, data), *data.materials),
        flagged=decision.flagged,
        created_at=ctx.now,
    )
    ctx.tx.insert_request(request)
    entry = TimelineEntry(
        at=ctx.now, kind="revocation_requested", actor=ctx.user.user_id, text=request_number
    )
    complaints.save(ctx.tx, complaint, complaints.add_to_timeline(complaint, entry))
    for operator_id in sorted(ctx.rules.operators):
        ctx.notify(
            operator_id,
            "operator.new_request",
            number=request_number,
            complaint=number,
            flagged=Ref("operator.flagged" if decision.flagged else "operator.not_flagged"),
        )
    ctx.event("revocation.requested", number=request_number, complaint=number)
    ctx.reply(Reply("revoke.submitted", {"number": request_number, "complaint": number}))


def _explanation(ctx: Context, data: RequestData) -> tuple[EvidenceItem, ...]:
    """The "other reason" explanation travels with the materials as a text record."""
    if not data.explanation:
        return ()
    return (EvidenceItem(kind=EvidenceKind.TEXT, text=data.explanation, received_at=ctx.now),)


FLOW = task_flow(
    name=NAME,
    machine=MACHINE,
    states=RequestState,
    data=RequestData,
    buttons=frozenset({"reason", "account", "back", "confirm"}),
    trigger=_trigger,
    question=question,
    not_taken=_not_taken,
    on_submit=_submit,
    facts=_facts,
    admit=lambda ctx: _complaint(ctx) is not None,  # a stale task is simply dropped
)
FEATURE = Feature(flows=(FLOW,))
