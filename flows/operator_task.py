"""The operator's typing task: type a text, confirm, then act on it.

Two uses, one small machine (`Task(flow="operator")`, states text -> confirm):
- a result for a complaint (`what="result"`, 1..1000 characters);
- the message that goes with a decision on a revocation request (`what="decision"`, the
  request and the verdict, 1..500).

On "send" everything is checked again against the stored records (the stage may have moved,
the request may have been decided by someone else).
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any, Literal, cast

from transitions import EventData

from flows import lifecycle, policy
from flows.complaints import add_to_timeline, save
from flows.context import Context
from flows.conversation import FlowModel, Trigger
from flows.events import Event, Text
from flows.machines import shared_machine, validator
from flows.operator_cards import cannot_revoke, card, record, request_card
from flows.records import ComplaintRecord, RequestStatus, TimelineEntry
from flows.replies import Button, Ref, Reply
from flows.task import BACK, CANCEL, TaskData, every_task_takes, submit, task_flow

NAME = "operator"
LIMITS = {"result": 1000, "decision": 500}


class TypingState(Enum):
    TEXT = "text"
    CONFIRM = "confirm"


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


PAST = {Verdict.APPROVE: "approved", Verdict.REJECT: "rejected"}


class TypingData(TaskData):
    """What the operator is typing, for which complaint (and request, with which verdict)."""

    what: Literal["result", "decision"]
    number: str  # the complaint's
    request: str = ""  # a decision's request number
    verdict: Verdict | None = None  # a decision's verdict
    text: str | None = None  # typed, waiting for "send"


def _m(ev: EventData) -> FlowModel:
    return cast(FlowModel, ev.model)


def _data(model: FlowModel) -> TypingData:
    return cast(TypingData, model.data)


def text_problem(ev: EventData) -> Ref | None:
    text = str(ev.kwargs["text"]).strip()
    limit = LIMITS[_data(_m(ev)).what]
    if not text:
        return Ref("operator.text_empty", {"limit": limit})
    if len(text) > limit:
        return Ref("operator.text_too_long", {"limit": limit, "length": len(text)})
    return None


text_ok, text_rejected = validator(text_problem)


def set_text(ev: EventData) -> None:
    _data(_m(ev)).text = str(ev.kwargs["text"]).strip()


def clear_text(ev: EventData) -> None:
    _data(_m(ev)).text = None


TEXT, CONFIRM = TypingState
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "text", "source": [TEXT, CONFIRM], "dest": CONFIRM, "conditions": text_ok, "before": set_text},  # noqa: E501
    {"trigger": "text", "source": [TEXT, CONFIRM], "dest": None, "after": text_rejected},
    {"trigger": "back", "source": CONFIRM, "dest": TEXT, "before": clear_text},
    {"trigger": "send", "source": CONFIRM, "dest": None, "after": submit},
    *every_task_takes(TypingState),
]  # fmt: skip

MACHINE = shared_machine(TypingState, TRANSITIONS)

_SEND = Button("operator.button.send", "send")


def question(ctx: Context, model: FlowModel) -> list[Reply]:
    """What the task's current state asks."""
    data = _data(model)
    params: dict[str, Any] = {"number": data.number, "limit": LIMITS[data.what]}
    if data.what == "decision":
        params.update(request=data.request, verdict=Ref(f"operator.verdict.{data.verdict}"))
    if model.state is TypingState.TEXT:
        return [Reply(f"operator.ask_{data.what}", params, ((CANCEL,),))]
    params.pop("limit")
    params["text"] = data.text
    return [Reply(f"operator.confirm_{data.what}", params, ((_SEND,), (BACK, CANCEL)))]


def _trigger(ctx: Context, model: FlowModel, event: Event) -> Trigger:
    return ("text", {"text": event.text}) if isinstance(event, Text) else (None, {})


def _not_taken(ctx: Context, model: FlowModel, event: Event) -> None:
    ctx.reply(Reply("operator.text_expected"))


def _finish(ctx: Context, model: FlowModel) -> None:
    data = _data(model)
    ctx.set_task(None)
    if data.what == "result":
        finish_result(ctx, data)
    else:
        finish_decision(ctx, data)


# -- what "send" does --------------------------------------------------------------------------


def finish_result(ctx: Context, data: TypingData) -> None:
    """Give the result (if the stage still allows it); the author gets it and how to escalate."""
    number, text = data.number, data.text or ""
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
    ctx.notify(
        complaint.user_id, "notify.result", number=number, text=text, next=_after(ctx, given)
    )
    ctx.notify(complaint.user_id, "follow.escalate")
    ctx.reply(Reply("operator.result_sent", {"number": number}))
    ctx.reply(card(ctx, given))


def finish_decision(ctx: Context, data: TypingData) -> None:
    """Approve (the complaint is revoked) or reject a still-open request; the user is told."""
    request = ctx.tx.get_request(data.request)
    if request is None or request.status is not RequestStatus.OPEN:
        ctx.reply(Reply("operator.request_closed", {"number": data.request}))
        return
    complaint = ctx.tx.get_complaint(request.complaint_number)
    assert complaint is not None, "a request names a stored complaint"
    assert data.verdict is not None
    verdict, text = data.verdict, data.text or ""
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
    ctx.reply(request_card(ctx, decided))


FLOW = task_flow(
    name=NAME,
    machine=MACHINE,
    states=TypingState,
    data=TypingData,
    buttons=frozenset({"send", "back"}),
    trigger=_trigger,
    question=question,
    not_taken=_not_taken,
    on_submit=_finish,
    # no longer an operator: refused, and the half-typed task is dropped
    admit=lambda ctx: not ctx.refuse_non_operator(f"task {NAME}"),
)


def _after(ctx: Context, given: ComplaintRecord) -> Ref:
    """What the author may do about the result: the one review while it is unused."""
    limits = ctx.catalog.limits
    if policy.can_appeal(given, 0, limits) is None:
        return Ref("notify.result.review_offer", {"daily": limits.daily_appeals})
    return Ref("notify.result.reviewed")
