"""The revocation request (the operator channel): reason -> account kind -> the materials that
reason and kind require, one at a time, with the format the person is told -> confirm -> a
request number. A minor's request is not taken: a guardian must go in person (article 002).

A task on top of the filing flow (`Task(flow="revoke")`), run on its own shared machine. The
policy is asked again at confirmation, so a window that closed meanwhile is respected.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

from transitions import EventData

from flows import complaints, materials, policy
from flows.catalog import Catalog
from flows.context import Context
from flows.events import Command, Event, Forward, Media, Tap, Text, Unsupported
from flows.evidence import evidence_item
from flows.policy import Channel
from flows.records import (
    AccountKind,
    EvidenceItem,
    EvidenceKind,
    RevocationReason,
    RevocationRequest,
    Task,
    TimelineEntry,
)
from flows.replies import Button, Lines, Ref, Reply
from flows.task import (
    BACK,
    CANCEL,
    TaskFlow,
    TaskModel,
    Trigger,
    cancel_with,
    drive,
    invalid_choice,
    submit,
    task_machine,
)

FLOW = "revoke"


class R(Enum):
    REASON = "reason"
    EXPLAIN = "explain"  # "other reason": a short explanation
    ACCOUNT = "account"
    MATERIAL = "material"
    CONFIRM = "confirm"


BUTTONS = frozenset({"reason", "account", "back", "confirm", "cancel"})


class RevokeModel(TaskModel):
    __slots__ = ("catalog",)

    def __init__(self, task: Task, catalog: Catalog) -> None:
        super().__init__(task, R)
        self.catalog = catalog

    @property
    def needed(self) -> list[str]:
        return list(self.data.get("needed", []))


def _m(ev: EventData) -> RevokeModel:
    return cast(RevokeModel, ev.model)


def valid_reason(ev: EventData) -> bool:
    return ev.kwargs.get("arg") in {r.value for r in RevocationReason}


def valid_account(ev: EventData) -> bool:
    return ev.kwargs.get("arg") in {k.value for k in AccountKind if k is not AccountKind.MINOR}


def is_minor(ev: EventData) -> bool:
    return bool(ev.kwargs.get("arg") == AccountKind.MINOR.value)


def material_problem(ev: EventData) -> Ref | None:
    m = _m(ev)
    return materials.problem(m.catalog, m.needed, m.materials, ev.kwargs["item"])


def material_ok(ev: EventData) -> bool:
    return material_problem(ev) is None


def last_material(ev: EventData) -> bool:
    m = _m(ev)
    return materials.all_in(m.catalog, m.needed, (*m.materials, ev.kwargs["item"]))


def is_other(ev: EventData) -> bool:
    return bool(ev.kwargs.get("arg") == RevocationReason.OTHER.value)


def explanation_problem(ev: EventData) -> Ref | None:
    limits = _m(ev).catalog.limits
    text = str(ev.kwargs.get("text", "")).strip()
    if not limits.explanation_min <= len(text) <= limits.explanation_max:
        bounds = {"min": limits.explanation_min, "max": limits.explanation_max}
        return Ref("revoke.explanation_length", {**bounds, "length": len(text)})
    return None


def explanation_ok(ev: EventData) -> bool:
    return explanation_problem(ev) is None


def set_explanation(ev: EventData) -> None:
    _m(ev).data["explanation"] = str(ev.kwargs["text"]).strip()


def explanation_rejected(ev: EventData) -> None:
    problem = explanation_problem(ev)
    assert problem is not None
    _m(ev).replies.append(Reply(problem.key, problem.params))


def clear_explanation(ev: EventData) -> None:
    _m(ev).data.pop("explanation", None)


def set_reason(ev: EventData) -> None:
    _m(ev).data["reason"] = ev.kwargs["arg"]


def set_account(ev: EventData) -> None:
    """Work out the materials this reason and account kind require."""
    m = _m(ev)
    m.data["account"] = ev.kwargs["arg"]
    complaint = ev.kwargs["complaint"]
    needed = policy.required_materials(
        RevocationReason(m.data["reason"]), AccountKind(m.data["account"]), complaint
    )
    m.data["needed"] = list(needed or ())
    m.materials = ()


def minor_refused(ev: EventData) -> None:
    m = _m(ev)
    m.done = True
    m.replies.append(Reply("revoke.minor"))


def add_material(ev: EventData) -> None:
    m = _m(ev)
    m.materials = (*m.materials, ev.kwargs["item"])


def material_rejected(ev: EventData) -> None:
    problem = material_problem(ev)
    assert problem is not None
    _m(ev).replies.append(Reply(problem.key, problem.params))


def clear_materials(ev: EventData) -> None:
    _m(ev).materials = ()


cancel = cancel_with("task.revoke")


REASON, EXPLAIN, ACCOUNT, MATERIAL, CONFIRM = R
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
    {"trigger": "cancel", "source": list(R), "dest": None, "after": cancel},
]  # fmt: skip

MACHINE = task_machine(R, TRANSITIONS)


def question(task: Task, catalog: Catalog) -> Reply:
    """What the task's current state asks."""
    state = R(task.state)
    if state is R.REASON:
        rows = tuple(
            (Button(f"revoke.reason.{r.value}", "reason", r.value),) for r in RevocationReason
        )
        return Reply("revoke.ask_reason", buttons=(*rows, (CANCEL,)))
    if state is R.ACCOUNT:
        rows = tuple(
            (Button(f"revoke.account.{k.value}", "account", k.value),) for k in AccountKind
        )
        return Reply("revoke.ask_account", buttons=(*rows, (BACK, CANCEL)))
    if state is R.EXPLAIN:
        limits = catalog.limits
        bounds = {"min": limits.explanation_min, "max": limits.explanation_max}
        return Reply("revoke.ask_explanation", bounds, ((BACK, CANCEL),))
    needed: list[str] = list(task.data.get("needed", []))
    if state is R.MATERIAL:
        index, started = materials.position(catalog, needed, task.materials)
        key = needed[index]
        params = {"n": index + 1, "total": len(needed), "material": Ref(key)}
        if started is not None and started.option is not None:
            left = started.option.count - len(started.items)
            more = {"got": len(started.items), "count": started.option.count, "left": left}
            return Reply("revoke.material_more", {**params, **more}, ((BACK, CANCEL),))
        accepts = materials.accepts_ref(materials.rule(catalog, key))
        return Reply(
            "revoke.ask_material",
            {**params, "howto": Ref(f"{key}.howto"), "accepts": accepts},
            ((BACK, CANCEL),),
        )
    return Reply(
        "revoke.confirm",
        {
            "number": task.data["number"],
            "reason": Ref(f"revoke.reason.{task.data['reason']}"),
            "account": Ref(f"revoke.account.{task.data['account']}"),
            "materials": Lines(tuple(Ref(k) for k in needed)),
        },
        ((Button("revoke.button.send", "confirm"),), (BACK, CANCEL)),
    )


def prompt(ctx: Context) -> None:
    assert ctx.user.task is not None
    ctx.reply(question(ctx.user.task, ctx.catalog))


def on_event(ctx: Context, event: Event) -> None:
    """An event while the revocation-request task is open."""
    task = ctx.user.task
    assert task is not None
    complaint = ctx.tx.get_complaint(str(task.data["number"]))
    if complaint is None or complaint.user_id != ctx.user.user_id:
        ctx.set_task(None)  # cannot happen through buttons; a stale task is simply dropped
        return
    drive(ctx, TASK, event)


def _trigger(ctx: Context, event: Event) -> Trigger:
    if isinstance(event, Command):
        return ("repeat", {}) if event.name == "repeat" else (None, {})
    if isinstance(event, Tap):
        if event.action not in BUTTONS:
            return None, {}
        task = ctx.user.task
        assert task is not None
        complaint = ctx.tx.get_complaint(str(task.data["number"]))
        return event.action, {"arg": event.arg, "complaint": complaint}
    if isinstance(event, Media | Forward):
        return "file", {"item": evidence_item(event, ctx.now)}
    if isinstance(event, Text):
        return "text", {"text": event.text}
    return None, {}


def _invalid(ctx: Context, event: Event) -> None:
    if isinstance(event, Tap):
        ctx.notice("errors.button_invalid", alert=True)
    elif isinstance(event, Unsupported):
        ctx.reply(Reply("errors.unsupported", {"step": Ref("task.revoke")}))
    else:
        ctx.reply(Reply("revoke.use_buttons_or_file"))
        prompt(ctx)


TASK = TaskFlow(
    machine=MACHINE,
    states=R,
    trigger=_trigger,
    question=lambda ctx, task: [question(task, ctx.catalog)],
    model=lambda ctx, task: RevokeModel(task, ctx.catalog),
    on_invalid=_invalid,
    on_submit=lambda ctx, task: _submit(ctx, task),
)


def _submit(ctx: Context, task: Task) -> None:
    """Confirmed: ask the policy once more, then file the request and tell the operators."""
    number = str(task.data["number"])
    complaint = ctx.tx.get_complaint(number)
    assert complaint is not None
    decision = complaints.decision(ctx.tx, ctx.catalog, complaint, ctx.now)
    ctx.set_task(None)
    if decision.channel is not Channel.OPERATOR:
        rule = policy.explain(decision.rule, ctx.catalog.limits)
        ctx.reply(Reply("revoke.no_longer", {"rule": rule}))
        return
    request_number = "R" + complaints.fresh_number(
        ctx, lambda n: ctx.tx.get_request("R" + n) is None
    )
    request = RevocationRequest(
        number=request_number,
        complaint_number=number,
        user_id=ctx.user.user_id,
        reason=RevocationReason(task.data["reason"]),
        account_kind=AccountKind(task.data["account"]),
        materials=(*_explanation(task, ctx), *task.materials),
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


def _explanation(task: Task, ctx: Context) -> tuple[EvidenceItem, ...]:
    """The "other reason" explanation travels with the materials as a text record."""
    text = str(task.data.get("explanation", ""))
    return (EvidenceItem(kind=EvidenceKind.TEXT, text=text, received_at=ctx.now),) if text else ()
