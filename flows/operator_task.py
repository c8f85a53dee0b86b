"""The operator's task: type a text, confirm, then act on it.

Two uses, one small machine (`Task(flow="operator")`, states text -> confirm):
- a result for a complaint (`data = {"what": "result", "number": N}`, 1..1000 characters);
- the message that goes with a decision on a revocation request (`data = {"what":
  "decision", "request": R, "verdict": "approve" | "reject", "number": N}`, 1..500).

Like `flows.revoke`, the machine is shared and never bound to a model; a throwaway model is
built from the task for each event. On "send" everything is checked again against the stored
records (the stage may have moved, the request may have been decided by someone else).
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any, cast

from transitions import EventData

from flows import lifecycle
from flows.complaints import add_to_timeline, save
from flows.context import Context
from flows.events import Command, Event, Tap, Text, Unsupported
from flows.records import ComplaintRecord, RequestStatus, Task, TimelineEntry
from flows.replies import Button, Ref, Reply
from flows.task import (
    BACK,
    CANCEL,
    TaskFlow,
    TaskModel,
    Trigger,
    cancel_with,
    drive,
    submit,
    task_machine,
)

FLOW = "operator"
LIMITS = {"result": 1000, "decision": 500}


class T(Enum):
    TEXT = "text"
    CONFIRM = "confirm"


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


PAST = {Verdict.APPROVE: "approved", Verdict.REJECT: "rejected"}
BUTTONS = frozenset({"send", "back", "cancel"})


def _m(ev: EventData) -> TaskModel:
    return cast(TaskModel, ev.model)


def text_problem(ev: EventData) -> Ref | None:
    text = str(ev.kwargs["text"]).strip()
    limit = LIMITS[str(_m(ev).data["what"])]
    if not text:
        return Ref("operator.text_empty", {"limit": limit})
    if len(text) > limit:
        return Ref("operator.text_too_long", {"limit": limit, "length": len(text)})
    return None


def text_ok(ev: EventData) -> bool:
    return text_problem(ev) is None


def set_text(ev: EventData) -> None:
    _m(ev).data["text"] = str(ev.kwargs["text"]).strip()


def text_rejected(ev: EventData) -> None:
    problem = text_problem(ev)
    assert problem is not None
    _m(ev).replies.append(Reply(problem.key, problem.params))


def clear_text(ev: EventData) -> None:
    _m(ev).data.pop("text", None)


cancel = cancel_with("task.operator")


TEXT, CONFIRM = T
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "text", "source": [TEXT, CONFIRM], "dest": CONFIRM, "conditions": text_ok, "before": set_text},  # noqa: E501
    {"trigger": "text", "source": [TEXT, CONFIRM], "dest": None, "after": text_rejected},
    {"trigger": "back", "source": CONFIRM, "dest": TEXT, "before": clear_text},
    {"trigger": "send", "source": CONFIRM, "dest": None, "after": submit},
    {"trigger": "cancel", "source": list(T), "dest": None, "after": cancel},
]  # fmt: skip

MACHINE = task_machine(T, TRANSITIONS)

_SEND = Button("operator.button.send", "send")


def start_task(ctx: Context, data: dict[str, Any]) -> None:
    ctx.set_task(Task(flow=FLOW, state=T.TEXT.value, data=data))
    prompt(ctx)


def question(task: Task) -> Reply:
    """What the task's current state asks."""
    data = task.data
    what = str(data["what"])
    params: dict[str, Any] = {"number": data["number"], "limit": LIMITS[what]}
    if what == "decision":
        params.update(request=data["request"], verdict=Ref(f"operator.verdict.{data['verdict']}"))
    if T(task.state) is T.TEXT:
        return Reply(f"operator.ask_{what}", params, ((CANCEL,),))
    params.pop("limit")
    params["text"] = data["text"]
    return Reply(f"operator.confirm_{what}", params, ((_SEND,), (BACK, CANCEL)))


def prompt(ctx: Context) -> None:
    assert ctx.user.task is not None
    ctx.reply(question(ctx.user.task))


def on_event(ctx: Context, event: Event) -> None:
    """An event while the operator's task is open (the caller checked they are an operator)."""
    drive(ctx, TASK, event)


def _trigger(ctx: Context, event: Event) -> Trigger:
    if isinstance(event, Command):
        return ("repeat", {}) if event.name == "repeat" else (None, {})
    if isinstance(event, Tap):
        return (event.action, {}) if event.action in BUTTONS else (None, {})
    if isinstance(event, Text):
        return "text", {"text": event.text}
    return None, {}


def _invalid(ctx: Context, event: Event) -> None:
    if isinstance(event, Tap):
        ctx.notice("errors.button_invalid", alert=True)
    elif isinstance(event, Unsupported):
        ctx.reply(Reply("errors.unsupported", {"step": Ref("task.operator")}))
    else:
        ctx.reply(Reply("operator.text_expected"))


def _finish(ctx: Context, task: Task) -> None:
    ctx.set_task(None)
    FINISH[str(task.data["what"])](ctx, task.data)


TASK = TaskFlow(
    machine=MACHINE,
    states=T,
    trigger=_trigger,
    question=lambda ctx, task: [question(task)],
    model=lambda ctx, task: TaskModel(task, T),
    on_invalid=_invalid,
    on_submit=lambda ctx, task: _finish(ctx, task),
)


# -- what "send" does --------------------------------------------------------------------------


def finish_result(ctx: Context, data: dict[str, Any]) -> None:
    """Give the result (if the stage still allows it); the author gets it and how to escalate."""
    from flows import operator as op

    number, text = str(data["number"]), str(data["text"])
    complaint = ctx.tx.get_complaint(number)
    if complaint is None:  # pragma: no cover - complaints are never deleted
        ctx.reply(Reply("operator.not_found", {"number": number}))
        return
    given = lifecycle.apply(complaint, "give_result", ctx.now, actor=ctx.user.user_id, text=text)
    if given is None:
        ctx.reply(
            Reply(
                "operator.move_not_allowed",
                {"number": number, "stage": Ref(f"stage.{complaint.stage}")},
            )
        )
        return
    save(ctx.tx, complaint, given)
    record(ctx, "give_result", number, text)
    ctx.notify(complaint.user_id, "notify.result", number=number, text=text)
    ctx.notify(complaint.user_id, "follow.escalate")
    ctx.reply(Reply("operator.result_sent", {"number": number}))
    ctx.reply(op.card(ctx, given))


def finish_decision(ctx: Context, data: dict[str, Any]) -> None:
    """Approve (the complaint is revoked) or reject a still-open request; the user is told."""
    from flows import operator as op

    request = ctx.tx.get_request(str(data["request"]))
    if request is None or request.status is not RequestStatus.OPEN:
        ctx.reply(Reply("operator.request_closed", {"number": data["request"]}))
        return
    complaint = ctx.tx.get_complaint(request.complaint_number)
    assert complaint is not None, "a request names a stored complaint"
    verdict, text = Verdict(data["verdict"]), str(data["text"])
    me, now = ctx.user.user_id, ctx.now
    entry = TimelineEntry(at=now, kind=f"revocation_{PAST[verdict]}", actor=me, text=text)
    after = add_to_timeline(complaint, entry)
    if verdict is Verdict.APPROVE:
        revoked = lifecycle.apply(after, "revoke", now, actor=me, text=request.number)
        if revoked is None:
            ctx.reply(cannot_revoke(complaint))
            return
        after = revoked
    save(ctx.tx, complaint, after)
    status = RequestStatus.APPROVED if verdict is Verdict.APPROVE else RequestStatus.REJECTED
    decided = request.model_copy(
        update={"status": status, "decided_at": now, "decided_by": me, "decision_text": text}
    )
    ctx.tx.update_request(decided)
    record(ctx, f"{verdict}_request", request.number, f"{complaint.number}: {text}")
    if verdict is Verdict.APPROVE:
        record(ctx, "revoke", complaint.number, request.number)
    ctx.notify(
        request.user_id,
        f"notify.revocation_{PAST[verdict]}",
        number=request.number,
        complaint=complaint.number,
        text=text,
    )
    ctx.reply(
        Reply(
            f"operator.{PAST[verdict]}", {"number": request.number, "complaint": complaint.number}
        )
    )
    ctx.reply(op.request_card(ctx, decided))


FINISH = {"result": finish_result, "decision": finish_decision}


# -- shared with flows.operator ----------------------------------------------------------------


def record(ctx: Context, action: str, subject: str, detail: str = "") -> None:
    """Audit an operator action (who, what, subject) and tell observers."""
    ctx.audit(action, subject, detail)
    ctx.event("operator.action", action=action, subject=subject, operator=ctx.user.user_id)


def cannot_revoke(complaint: ComplaintRecord) -> Reply:
    """Approval refused: the complaint's stage no longer allows a revocation."""
    return Reply(
        "operator.cannot_revoke",
        {"number": complaint.number, "stage": Ref(f"stage.{complaint.stage}")},
    )
