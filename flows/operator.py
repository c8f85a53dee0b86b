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

from flows import exhibits, lifecycle, materials, policy
from flows.complaints import save, title
from flows.context import Context
from flows.events import Command, Event, Tap
from flows.evidence import counts
from flows.operator_task import BUTTONS, FLOW, Verdict, cannot_revoke, record, start_task
from flows.operator_task import on_event as _on_task_event
from flows.records import (
    OPEN_STAGES,
    ComplaintRecord,
    EvidenceItem,
    RequestStatus,
    RevocationRequest,
    Stage,
)
from flows.replies import Button, Lines, Ref, Reply
from flows.timefmt import at, span

__all__ = ["BUTTONS", "FLOW", "on_event", "on_tap", "open_command", "queue_command"]

SCOPE = "o"
QUEUE_SIZE = 20
REQUESTS_SIZE = 20
SHORT_TEXT = 200  # timeline texts on the card are cut to this many characters

# Stage moves by button: tap action -> (lifecycle trigger, notification to the author).
MOVES = {
    "pick": ("pick_up", "notify.picked_up"),
    "accept": ("accept", "notify.accepted"),
    "investigate": ("investigate", "notify.investigating"),
}
_MOVE_BUTTONS = {"pick_up": "pick", "accept": "accept", "investigate": "investigate"}


def _b(key: str, action: str, arg: str = "", **params: object) -> Button:
    return Button(key, action, arg, params, scope=SCOPE)


def on_event(ctx: Context, event: Event) -> None:
    """An event while the operator's task (a result or a decision message) is open."""
    if ctx.refuse_non_operator(f"task {FLOW}"):
        ctx.set_task(None)  # no longer an operator: the half-typed task is dropped
        return
    _on_task_event(ctx, event)


# -- the queue ---------------------------------------------------------------------------------


def queue_command(ctx: Context, command: Command) -> None:
    """/queue [all | flagged | <stage> | <type>]: open complaints, oldest first."""
    if ctx.refuse_non_operator("/queue"):
        return
    wanted = parse_filter(ctx, command.args)
    if wanted is None:
        ctx.reply(Reply("operator.queue_bad_filter", {"filter": command.args.strip()}))
        wanted = "all"
    ctx.reply(queue_view(ctx, wanted))


def parse_filter(ctx: Context, text: str) -> str | None:
    """A filter as a button argument ("all", "flagged", "stage_<stage>", "type_<type id>")
    from what an operator typed ("payment", "manual_review", "stage_accepted"...); None if
    it names nothing."""
    word = text.strip().lower().replace("-", "_").replace(" ", "_") or "all"
    stages = {s.value for s in OPEN_STAGES}
    if word in ("all", "flagged"):
        return word
    for prefix, known in (("stage_", stages), ("type_", {t.id for t in ctx.catalog.types})):
        if word.startswith(prefix) and word.removeprefix(prefix) in known:
            return word
    if word in stages:
        return f"stage_{word}"
    if ctx.catalog.type(word) is not None:
        return f"type_{word}"
    return None


def _filter_name(ctx: Context, wanted: str) -> Ref:
    if wanted.startswith("stage_"):
        return Ref(f"stage.{wanted.removeprefix('stage_')}")
    if wanted.startswith("type_"):
        return Ref(
            "operator.filter.type", {"type": title(ctx.catalog, wanted.removeprefix("type_"))}
        )
    return Ref(f"operator.filter.{wanted}")


def queue_view(ctx: Context, wanted: str, *, edit: bool = False) -> Reply:
    kind, _, value = wanted.partition("_")
    if kind == "flagged":
        items = ctx.tx.queue(flagged=True, limit=QUEUE_SIZE)
    elif kind in ("stage", "type"):
        by = {"stage": Stage(value)} if kind == "stage" else {"type_id": value}
        items = ctx.tx.queue(**by, limit=QUEUE_SIZE)
    else:
        items = ctx.tx.queue(limit=QUEUE_SIZE)
    rows: list[tuple[Button, ...]] = [
        (
            _b(
                "operator.button.item",
                "open",
                c.number,
                number=c.number,
                type=title(ctx.catalog, c.type_id),
                stage=Ref(f"stage.{c.stage}"),
                age=span(ctx.now - c.submitted_at),
            ),
        )
        for c in items
    ]
    rows.append(
        (
            _b("operator.filter.all", "queue", "all"),
            _b("operator.filter.flagged", "queue", "flagged"),
        )
    )
    stage_buttons = [
        _b("operator.button.filter", "queue", f"stage_{s}", name=Ref(f"stage.{s}"))
        for s in Stage
        if s in OPEN_STAGES
    ]
    type_buttons = [
        _b("operator.button.filter", "queue", f"type_{t.id}", name=t.title.as_dict())
        for t in ctx.catalog.types
    ]
    rows += _in_rows(stage_buttons, 3) + _in_rows(type_buttons, 3)
    key = "operator.queue" if items else "operator.queue_empty"
    params = {"filter": _filter_name(ctx, wanted), "count": len(items)}
    return Reply(key, params, tuple(rows), edit=edit)


def _in_rows(buttons: list[Button], size: int) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + size]) for i in range(0, len(buttons), size)]


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


def card(ctx: Context, complaint: ComplaintRecord, *, edit: bool = False) -> Reply:
    """Everything an operator needs about one complaint, with what can be done to it now."""
    n = complaint.number
    request = ctx.tx.open_request_for(n)
    timeline = Lines(
        tuple(
            Ref(f"timeline.{e.kind}", {"at": at(e.at), "text": _short(e.text)})
            for e in complaint.timeline
        )
    )
    buttons: list[tuple[Button, ...]] = []
    moves: list[Button] = []
    for trigger in lifecycle.allowed(complaint):
        if trigger == "pick_up" and complaint.operator_id == ctx.user.user_id:
            continue  # already theirs
        action = _MOVE_BUTTONS.get(trigger, "result")
        moves.append(_b(f"operator.button.{action}", action, n))
    buttons += _in_rows(moves, 2)
    if request is not None:
        buttons.append(
            (
                _b("operator.button.approve", "approve", request.number),
                _b("operator.button.reject", "reject", request.number),
            )
        )
    if complaint.evidence:
        count = len(complaint.evidence)
        buttons.append((_b("operator.button.evidence", "evidence", n, count=count),))
    extra = [_b("operator.button.refresh", "open", n), _b("operator.button.queue", "queue", "all")]
    if complaint.stage is not Stage.REVOKED and not complaint.loss_reported:
        extra.insert(0, _b("operator.button.loss", "loss", n))
    buttons += _in_rows(extra, 2)
    return Reply(
        "operator.card",
        {
            "number": n,
            "user": complaint.user_id,
            "user_language": complaint.language,
            "type": title(ctx.catalog, complaint.type_id),
            "target": complaint.target,
            "description": complaint.description,
            "stage": Ref(f"stage.{complaint.stage}"),
            "submitted": at(complaint.submitted_at),
            "age": span(ctx.now - complaint.submitted_at),
            "operator": complaint.operator_id or "-",
            "loss": Ref("operator.loss.yes" if complaint.loss_reported else "operator.loss.no"),
            "evidence": counts(complaint.evidence),
            "files": _files(complaint.evidence),
            "timeline": timeline,
            "request": _request_line(request),
        },
        tuple(buttons),
        edit=edit,
    )


def _files(items: tuple[EvidenceItem, ...]) -> Lines | Ref:
    lines = (exhibits.line(item, i) for i, item in enumerate(items, start=1))
    return Lines(tuple(lines)) if items else Ref("evidence.none")


def _request_line(request: RevocationRequest | None) -> Ref:
    if request is None:
        return Ref("operator.card.no_request")
    key = "operator.card.request_flagged" if request.flagged else "operator.card.request"
    return Ref(key, {"number": request.number})


def _short(text: str, limit: int = SHORT_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- taps --------------------------------------------------------------------------------------


def on_tap(ctx: Context, tap: Tap) -> None:
    """Every "o:" button. A non-operator is refused before anything is looked up."""
    if ctx.refuse_non_operator(tap.raw or f"{SCOPE}:{tap.action}:{tap.arg}"):
        return
    ctx.notice("menu.ok")
    if tap.action == "queue":
        wanted = parse_filter(ctx, tap.arg)
        ctx.reply(queue_view(ctx, wanted or "all", edit=True))
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
    ctx.notify(complaint.user_id, key, number=complaint.number)
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
    start_task(ctx, {"what": "result", "number": complaint.number})


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
    ctx.audit("open_evidence", complaint.number)
    back = _b("operator.button.complaint", "open", complaint.number)
    for reply in exhibits.evidence(complaint.number, complaint.evidence, back):
        ctx.reply(reply)


COMPLAINT_ACTIONS = {
    "open": _open,
    "evidence": _show_evidence,
    "pick": _move,
    "accept": _move,
    "investigate": _move,
    "result": _ask_result,
    "loss": _report_loss,
}


# -- revocation requests -----------------------------------------------------------------------


def requests_command(ctx: Context, command: Command) -> None:
    """/requests: open revocation requests, flagged first, then oldest first."""
    if ctx.refuse_non_operator("/requests"):
        return
    ctx.reply(requests_view(ctx))


def requests_view(ctx: Context, *, edit: bool = False) -> Reply:
    requests = ctx.tx.open_requests(REQUESTS_SIZE)
    if not requests:
        return Reply("operator.requests_empty", edit=edit)
    rows = tuple(
        (
            _b(
                "operator.button.request_flagged" if r.flagged else "operator.button.request",
                "request",
                r.number,
                number=r.number,
                complaint=r.complaint_number,
                age=span(ctx.now - r.created_at),
            ),
        )
        for r in requests
    )
    return Reply("operator.requests", {"count": len(requests)}, rows, edit=edit)


def request_card(ctx: Context, request: RevocationRequest, *, edit: bool = False) -> Reply:
    complaint = ctx.tx.get_complaint(request.complaint_number)
    lines = tuple(
        Ref("operator.material", {"material": Ref(key), "item": exhibits.line(item, i)})
        for i, (item, key) in enumerate(_materials(ctx, request), start=1)
    )
    buttons: list[tuple[Button, ...]] = []
    if request.materials:
        count = len(request.materials)
        buttons.append((_b("operator.button.materials", "materials", request.number, count=count),))
    if request.status is RequestStatus.OPEN:
        buttons.append(
            (
                _b("operator.button.approve", "approve", request.number),
                _b("operator.button.reject", "reject", request.number),
            )
        )
    buttons.append(
        (
            _b("operator.button.complaint", "open", request.complaint_number),
            _b("operator.button.requests", "requests"),
        )
    )
    return Reply(
        "operator.request_card",
        {
            "number": request.number,
            "complaint": request.complaint_number,
            "stage": Ref(f"stage.{complaint.stage}") if complaint else "-",
            "user": request.user_id,
            "reason": Ref(f"revoke.reason.{request.reason}"),
            "account": Ref(f"revoke.account.{request.account_kind}"),
            "materials": Lines(lines) if lines else Ref("evidence.none"),
            "created": at(request.created_at),
            "age": span(ctx.now - request.created_at),
            "flag": Ref("operator.flagged" if request.flagged else "operator.not_flagged"),
            "status": Ref(f"operator.status.{request.status}"),
        },
        tuple(buttons),
        edit=edit,
    )


def _materials(ctx: Context, request: RevocationRequest) -> list[tuple[EvidenceItem, str]]:
    """Each item of a request with the material it was given for (the explanation first)."""
    complaint = ctx.tx.get_complaint(request.complaint_number)
    needed: tuple[str, ...] = ()
    if complaint is not None:
        needed = policy.required_materials(request.reason, request.account_kind, complaint) or ()
    given = request.materials
    out = [(item, "material.explanation") for item in given if item.file_id is None]
    for group in materials.groups(ctx.catalog, needed, given):
        out += [(item, group.key) for item in group.items]
    return out


def _show_materials(ctx: Context, request: RevocationRequest) -> None:
    """Every material of a request, step by step, so identity can be checked."""
    ctx.audit("open_materials", request.number)
    back = _b("operator.button.request_back", "request", request.number)
    items = [(item, Ref(key)) for item, key in _materials(ctx, request)]
    heading = Reply(
        "exhibit.materials",
        {"number": request.number, "complaint": request.complaint_number, "total": len(items)},
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
    data = {"what": "decision", "request": request.number, "verdict": verdict.value}
    start_task(ctx, {**data, "number": complaint.number})
