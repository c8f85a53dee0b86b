"""Operators: the queue, a complaint's card and stages, results, revocation decisions.

Who is an operator comes from configuration (`ctx.rules.operators`); every entry point asks
`ctx.refuse_non_operator` first, so a non-operator (or forged "o:" data) changes nothing and
the refusal is audited. Buttons here are stateless (scope "o", the complaint or request number
in the argument): each tap loads the record afresh and asks `lifecycle` again, so an old card
can never move a complaint further than its stage allows *now*. Typing a result or a decision
message is a small task (`flows.operator_task`); every change is audited and its author told
through the outbox (`ctx.notify`, rendered in the recipient's language).
"""

from __future__ import annotations

from flows import exhibits, explain, lifecycle, task, triage
from flows.complaints import save
from flows.context import Context
from flows.events import Command, Tap
from flows.operator_cards import (
    SCOPE,
    cannot_revoke,
    card,
    record,
    request_card,
    request_materials,
    requests_view,
)
from flows.operator_task import FLOW, TypingData, Verdict
from flows.records import ComplaintRecord, RequestStatus, RevocationRequest, Stage
from flows.registry import Feature
from flows.replies import Button, Ref, Reply

# Stage moves by button: tap action -> (lifecycle trigger, notification to the author).
MOVES = {
    "pick": ("pick_up", "notify.picked_up"),
    "accept": ("accept", "notify.accepted"),
    "investigate": ("investigate", "notify.investigating"),
}


# -- a complaint's card ------------------------------------------------------------------------


def open_command(ctx: Context, command: Command) -> None:
    """/open NUMBER: the operator's card of any complaint."""
    if ctx.refuse_non_operator("/open"):
        return
    number = command.args.strip().upper()
    if not number:
        ctx.reply(Reply("operator.open_usage"))
        return
    complaint = ctx.tx.get_complaint(number)
    if complaint is None:
        ctx.reply(Reply("operator.not_found", {"number": number}))
        return
    ctx.audit("open", number)
    ctx.reply(card(ctx, complaint))


# -- taps --------------------------------------------------------------------------------------


def on_tap(ctx: Context, tap: Tap) -> None:
    """Every "o:" button. A non-operator is refused before anything is looked up."""
    if ctx.refuse_non_operator(tap.raw or f"{SCOPE}:{tap.action}:{tap.arg}", subject=tap.arg[:40]):
        return
    ctx.notice("menu.ok")
    if tap.action == "queue":
        wanted, page = triage.parse_page(ctx, tap.arg) or ("all", 0)
        ctx.reply(triage.queue_view(ctx, wanted, page, edit=True))
    elif tap.action == "filters":
        ctx.reply(triage.filters_view(ctx))
    elif tap.action == "requests":
        ctx.reply(requests_view(ctx, edit=True))
    elif tap.action in ("request", "approve", "reject", "materials"):
        request = ctx.tx.get_request(tap.arg)
        if request is None:
            ctx.notice("operator.request_not_found", alert=True, number=tap.arg)
        elif tap.action == "request":
            ctx.audit("open_request", request.number)
            ctx.reply(request_card(ctx, request, edit=True))
        elif tap.action == "materials":
            _show_materials(ctx, request)
        else:
            ask_decision(ctx, request, Verdict(tap.action))
    elif tap.action in COMPLAINT_ACTIONS:
        complaint = ctx.tx.get_complaint(tap.arg)
        if complaint is None:
            ctx.notice("operator.not_found", alert=True, number=tap.arg)
        else:
            COMPLAINT_ACTIONS[tap.action](ctx, complaint, tap.action)
    else:
        ctx.notice("errors.button_invalid", alert=True)


def _open(ctx: Context, complaint: ComplaintRecord, _: str) -> None:
    ctx.audit("open", complaint.number)
    ctx.reply(card(ctx, complaint, edit=True))


def _move(ctx: Context, complaint: ComplaintRecord, action: str) -> None:
    """Pick up, accept, investigate: only if the stage allows it now; the author is told."""
    trigger, key = MOVES[action]
    me = ctx.user.user_id
    if trigger == "pick_up" and complaint.operator_id == me:
        ctx.notice("operator.already_yours", alert=True, number=complaint.number)
        return
    moved = lifecycle.apply(complaint, trigger, ctx.now, actor=me)
    if moved is None:
        _not_allowed(ctx, complaint)
        return
    save(ctx.tx, complaint, moved)
    record(ctx, trigger, complaint.number, moved.stage.value)
    can = explain.withdrawal_now_for(ctx.tx, ctx.catalog, moved, ctx.now)
    ctx.notify(complaint.user_id, key, number=complaint.number, can=can)
    ctx.reply(card(ctx, moved, edit=True))


def _not_allowed(ctx: Context, complaint: ComplaintRecord) -> None:
    ctx.notice(
        "operator.move_not_allowed",
        alert=True,
        number=complaint.number,
        stage=Ref(f"stage.{complaint.stage}"),
    )


def _ask_result(ctx: Context, complaint: ComplaintRecord, _: str) -> None:
    if "give_result" not in lifecycle.allowed(complaint):
        _not_allowed(ctx, complaint)
        return
    task.start(ctx, FLOW, TypingData(what="result", number=complaint.number))


def _ask_loss(ctx: Context, complaint: ComplaintRecord, _: str) -> None:
    """Reporting a loss cannot be undone: the first tap says what it changes, a second does it."""
    if complaint.loss_reported or complaint.stage is Stage.REVOKED:  # as the card offers it
        ctx.notice("operator.loss_not_possible", alert=True, number=complaint.number)
        return
    n = complaint.number
    buttons = ((Button("operator.button.loss_yes", "loss_yes", n, scope=SCOPE),),)
    back = ((Button("operator.button.complaint", "open", n, scope=SCOPE),),)
    ctx.reply(Reply("operator.loss_confirm", {"number": n}, buttons + back, edit=True))


def _report_loss(ctx: Context, complaint: ComplaintRecord, _: str) -> None:
    """The other party suffered a loss: revocation is never self-service from now on."""
    reported = lifecycle.apply(complaint, "report_loss", ctx.now, actor=ctx.user.user_id)
    if reported is None:
        ctx.notice("operator.loss_not_possible", alert=True, number=complaint.number)
        return
    save(ctx.tx, complaint, reported)
    record(ctx, "report_loss", complaint.number)
    ctx.reply(card(ctx, reported, edit=True))


def _show_evidence(ctx: Context, complaint: ComplaintRecord, _: str) -> None:
    """Every evidence item, re-sent or quoted (`flows.exhibits`)."""
    ctx.audit("open_evidence", complaint.number)
    back = Button("operator.button.complaint", "open", complaint.number, scope=SCOPE)
    for reply in exhibits.evidence(complaint.number, complaint.evidence, back):
        ctx.reply(reply)


COMPLAINT_ACTIONS = {
    "open": _open,
    "evidence": _show_evidence,
    "pick": _move,
    "accept": _move,
    "investigate": _move,
    "result": _ask_result,
    "loss": _ask_loss,
    "loss_yes": _report_loss,
}


# -- revocation requests -----------------------------------------------------------------------


def requests_command(ctx: Context, command: Command) -> None:
    """/requests: open revocation requests, flagged first, then oldest first."""
    if ctx.refuse_non_operator("/requests"):
        return
    ctx.reply(requests_view(ctx))


def _show_materials(ctx: Context, request: RevocationRequest) -> None:
    """Every material of a request, step by step, so identity can be checked."""
    ctx.audit("open_materials", request.number)
    back = Button("operator.button.request_back", "request", request.number, scope=SCOPE)
    items = [(item, Ref(key)) for item, key in request_materials(ctx, request)]
    heading = Reply(
        "exhibit.materials",
        {"number": request.number, "complaint": request.complaint_number, "count": len(items)},
    )
    for reply in exhibits.show(items, heading, back):
        ctx.reply(reply)


def ask_decision(ctx: Context, request: RevocationRequest, verdict: Verdict) -> None:
    """Approve / reject: checked now (still open; approval: still revocable), then the task
    asks for the message the user receives."""
    if request.status is not RequestStatus.OPEN:
        ctx.notice("operator.request_closed", alert=True, number=request.number)
        return
    complaint = ctx.tx.get_complaint(request.complaint_number)
    if complaint is None:  # pragma: no cover - a request always names a stored complaint
        ctx.notice("operator.not_found", alert=True, number=request.complaint_number)
        return
    revocable = lifecycle.apply(complaint, "revoke", ctx.now, actor=ctx.user.user_id)
    if verdict is Verdict.APPROVE and revocable is None:
        ctx.reply(cannot_revoke(complaint))
        return
    data = TypingData(
        what="decision", number=complaint.number, request=request.number, verdict=verdict
    )
    task.start(ctx, FLOW, data)


FEATURE = Feature(
    commands={
        "queue": triage.queue_command,
        "open": open_command,
        "requests": requests_command,
        "find": triage.find_command,
        "export": triage.export_command,
    },
    scope=SCOPE,
    on_tap=on_tap,
    flows=(FLOW,),
)
