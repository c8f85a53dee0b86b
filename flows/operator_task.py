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

from flows import lifecycle, policy
from flows.events import Command, Event, Tap, Text, Unsupported
from flows.records import ComplaintRecord, RequestStatus, Task, TimelineEntry
from flows.replies import Button, Ref, Reply
from flows.step import Step
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


def start_task(step: Step, data: dict[str, Any]) -> None:
    step.set_task(Task(flow=FLOW, state=T.TEXT.value, data=data))
    prompt(step)


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


def prompt(step: Step) -> None:
    assert step.user.task is not None
    step.reply(question(step.user.task))


def on_event(step: Step, event: Event) -> None:
    """An event while the operator's task is open (the caller checked they are an operator)."""
    drive(step, TASK, event)


def _trigger(step: Step, event: Event) -> Trigger:
    if isinstance(event, Command):
        return ("repeat", {}) if event.name == "repeat" else (None, {})
    if isinstance(event, Tap):
        return (event.action, {}) if event.action in BUTTONS else (None, {})
    if isinstance(event, Text):
        return "text", {"text": event.text}
    return None, {}


def _invalid(step: Step, event: Event) -> None:
    if isinstance(event, Tap):
        step.notice("errors.button_invalid", alert=True)
    elif isinstance(event, Unsupported):
        step.reply(Reply("errors.unsupported", {"step": Ref("task.operator")}))
    else:
        step.reply(Reply("operator.text_expected"))


def _finish(step: Step, task: Task) -> None:
    step.set_task(None)
    FINISH[str(task.data["what"])](step, task.data)


TASK = TaskFlow(
    machine=MACHINE,
    states=T,
    trigger=_trigger,
    question=lambda step, task: [question(task)],
    model=lambda step, task: TaskModel(task, T),
    on_invalid=_invalid,
    on_submit=lambda step, task: _finish(step, task),
)


# -- what "send" does --------------------------------------------------------------------------


def finish_result(step: Step, data: dict[str, Any]) -> None:
    """Give the result (if the stage still allows it); the author gets it and how to escalate."""
    from flows import operator as op

    number, text = str(data["number"]), str(data["text"])
    complaint = step.tx.get_complaint(number)
    if complaint is None:  # pragma: no cover - complaints are never deleted
        step.reply(Reply("operator.not_found", {"number": number}))
        return
    given = lifecycle.apply(complaint, "give_result", step.now, actor=step.user.user_id, text=text)
    if given is None:
        step.reply(
            Reply(
                "operator.move_not_allowed",
                {"number": number, "stage": Ref(f"stage.{complaint.stage}")},
            )
        )
        return
    save(step, complaint, given)
    record(step, "give_result", number, text)
    step.notify(
        complaint.user_id, "notify.result", number=number, text=text, next=_after(step, given)
    )
    step.notify(complaint.user_id, "follow.escalate")
    step.reply(Reply("operator.result_sent", {"number": number}))
    step.reply(op.card(step, given))


def _after(step: Step, given: ComplaintRecord) -> Ref:
    """What the author may do about the result: the one review while it is unused."""
    limits = step.catalog.limits
    if policy.can_appeal(given, 0, limits) is None:
        return Ref("notify.result.review_offer", {"daily": limits.daily_appeals})
    return Ref("notify.result.reviewed")


def finish_decision(step: Step, data: dict[str, Any]) -> None:
    """Approve (the complaint is revoked) or reject a still-open request; the user is told."""
    from flows import operator as op

    request = step.tx.get_request(str(data["request"]))
    if request is None or request.status is not RequestStatus.OPEN:
        step.reply(Reply("operator.request_closed", {"number": data["request"]}))
        return
    complaint = step.tx.get_complaint(request.complaint_number)
    assert complaint is not None, "a request names a stored complaint"
    verdict, text = Verdict(data["verdict"]), str(data["text"])
    me, now = step.user.user_id, step.now
    entry = TimelineEntry(at=now, kind=f"revocation_{PAST[verdict]}", actor=me, text=text)
    after = complaint.model_copy(update={"timeline": (*complaint.timeline, entry)})
    if verdict is Verdict.APPROVE:
        revoked = lifecycle.apply(after, "revoke", now, actor=me, text=request.number)
        if revoked is None:
            step.reply(cannot_revoke(complaint))
            return
        after = revoked
    save(step, complaint, after)
    status = RequestStatus.APPROVED if verdict is Verdict.APPROVE else RequestStatus.REJECTED
    decided = request.model_copy(
        update={"status": status, "decided_at": now, "decided_by": me, "decision_text": text}
    )
    step.tx.update_request(decided)
    record(step, f"{verdict}_request", request.number, f"{complaint.number}: {text}")
    if verdict is Verdict.APPROVE:
        record(step, "revoke", complaint.number, request.number)
    step.notify(
        request.user_id,
        f"notify.revocation_{PAST[verdict]}",
        number=request.number,
        complaint=complaint.number,
        text=text,
    )
    step.reply(
        Reply(
            f"operator.{PAST[verdict]}", {"number": request.number, "complaint": complaint.number}
        )
    )
    step.reply(op.request_card(step, decided))


FINISH = {"result": finish_result, "decision": finish_decision}


# -- shared with flows.operator ----------------------------------------------------------------


def save(step: Step, before: ComplaintRecord, after: ComplaintRecord) -> None:
    """Store with the version check (a concurrent change rolls the whole update back)."""
    step.tx.update_complaint(
        after.model_copy(update={"version": before.version + 1}), before.version
    )


def record(step: Step, action: str, subject: str, detail: str = "") -> None:
    """Audit an operator action (who, what, subject) and tell observers."""
    step.audit(action, subject, detail)
    step.event("operator.action", action=action, subject=subject, operator=step.user.user_id)


def cannot_revoke(complaint: ComplaintRecord) -> Reply:
    """Approval refused: the complaint's stage no longer allows a revocation."""
    return Reply(
        "operator.cannot_revoke",
        {"number": complaint.number, "stage": Ref(f"stage.{complaint.stage}")},
    )
