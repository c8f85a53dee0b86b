"""Operators: the queue, a complaint's card and stages, results, revocation decisions.

Who is an operator comes from configuration (`step.rules.operators`); every entry point asks
`step.refuse_non_operator` first, so a non-operator (or forged "o:" data) changes nothing and
the refusal is audited. Buttons here are stateless (scope "o", the complaint or request number
in the argument): each tap loads the record afresh and asks `lifecycle` again, so an old card
can never move a complaint further than its stage allows *now*. Typing a result or a decision
message is a small task (`flows.operator_task`); every change is audited and its author told
through the outbox (`step.notify`, rendered in the recipient's language).
"""

from __future__ import annotations

from flows import exhibits, lifecycle, materials, policy
from flows.events import Command, Event, Tap
from flows.operator_task import BUTTONS, FLOW, Verdict, cannot_revoke, record, save, start_task
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
from flows.step import Step
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


def on_event(step: Step, event: Event) -> None:
    """An event while the operator's task (a result or a decision message) is open."""
    if step.refuse_non_operator(f"task {FLOW}"):
        step.set_task(None)  # no longer an operator: the half-typed task is dropped
        return
    _on_task_event(step, event)


# -- the queue ---------------------------------------------------------------------------------


def queue_command(step: Step, command: Command) -> None:
    """/queue [all | flagged | <stage> | <type>]: open complaints, oldest first."""
    if step.refuse_non_operator("/queue"):
        return
    wanted = parse_filter(step, command.args)
    if wanted is None:
        step.reply(Reply("operator.queue_bad_filter", {"filter": command.args.strip()}))
        wanted = "all"
    step.reply(queue_view(step, wanted))


def parse_filter(step: Step, text: str) -> str | None:
    """A filter as a button argument ("all", "flagged", "stage_<stage>", "type_<type id>")
    from what an operator typed ("payment", "manual_review", "stage_accepted"...); None if
    it names nothing."""
    word = text.strip().lower().replace("-", "_").replace(" ", "_") or "all"
    stages = {s.value for s in OPEN_STAGES}
    if word in ("all", "flagged"):
        return word
    for prefix, known in (("stage_", stages), ("type_", {t.id for t in step.catalog.types})):
        if word.startswith(prefix) and word.removeprefix(prefix) in known:
            return word
    if word in stages:
        return f"stage_{word}"
    if step.catalog.type(word) is not None:
        return f"type_{word}"
    return None


def _filter_name(step: Step, wanted: str) -> Ref:
    if wanted.startswith("stage_"):
        return Ref(f"stage.{wanted.removeprefix('stage_')}")
    if wanted.startswith("type_"):
        return Ref("operator.filter.type", {"type": _title(step, wanted.removeprefix("type_"))})
    return Ref(f"operator.filter.{wanted}")


def queue_view(step: Step, wanted: str, *, edit: bool = False) -> Reply:
    kind, _, value = wanted.partition("_")
    if kind == "flagged":
        items = step.tx.queue(flagged=True, limit=QUEUE_SIZE)
    elif kind in ("stage", "type"):
        by = {"stage": Stage(value)} if kind == "stage" else {"type_id": value}
        items = step.tx.queue(**by, limit=QUEUE_SIZE)
    else:
        items = step.tx.queue(limit=QUEUE_SIZE)
    rows: list[tuple[Button, ...]] = [
        (
            _b(
                "operator.button.item",
                "open",
                c.number,
                number=c.number,
                type=_title(step, c.type_id),
                stage=Ref(f"stage.{c.stage}"),
                age=span(step.now - c.submitted_at),
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
        for t in step.catalog.types
    ]
    rows += _in_rows(stage_buttons, 3) + _in_rows(type_buttons, 3)
    key = "operator.queue" if items else "operator.queue_empty"
    params = {"filter": _filter_name(step, wanted), "count": len(items)}
    return Reply(key, params, tuple(rows), edit=edit)


def _in_rows(buttons: list[Button], size: int) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + size]) for i in range(0, len(buttons), size)]


# -- a complaint's card ------------------------------------------------------------------------


def open_command(step: Step, command: Command) -> None:
    """/open NUMBER: the operator's card of any complaint."""
    if step.refuse_non_operator("/open"):
        return
    number = command.args.strip().upper()
    if not number:
        step.reply(Reply("operator.open_usage"))
        return
    complaint = step.tx.get_complaint(number)
    if complaint is None:
        step.reply(Reply("operator.not_found", {"number": number}))
        return
    step.audit("open", number)
    step.reply(card(step, complaint))


def card(step: Step, complaint: ComplaintRecord, *, edit: bool = False) -> Reply:
    """Everything an operator needs about one complaint, with what can be done to it now."""
    n = complaint.number
    request = step.tx.open_request_for(n)
    timeline = Lines(
        tuple(
            Ref(f"timeline.{e.kind}", {"at": at(e.at), "text": _short(e.text)})
            for e in complaint.timeline
        )
    )
    buttons: list[tuple[Button, ...]] = []
    moves: list[Button] = []
    for trigger in lifecycle.allowed(complaint):
        if trigger == "pick_up" and complaint.operator_id == step.user.user_id:
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
            "type": _title(step, complaint.type_id),
            "target": complaint.target,
            "description": complaint.description,
            "stage": Ref(f"stage.{complaint.stage}"),
            "submitted": at(complaint.submitted_at),
            "age": span(step.now - complaint.submitted_at),
            "operator": complaint.operator_id or "-",
            "loss": Ref("operator.loss.yes" if complaint.loss_reported else "operator.loss.no"),
            "evidence": _counts(complaint.evidence),
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


def _counts(items: tuple[EvidenceItem, ...]) -> tuple[Ref, ...]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.kind.value] = counts.get(item.kind.value, 0) + 1
    found = tuple(Ref(f"evidence.count.{k}", {"n": n}) for k, n in counts.items())
    return found or (Ref("evidence.none"),)


def _short(text: str, limit: int = SHORT_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- taps --------------------------------------------------------------------------------------


def on_tap(step: Step, tap: Tap) -> None:
    """Every "o:" button. A non-operator is refused before anything is looked up."""
    if step.refuse_non_operator(tap.raw or f"{SCOPE}:{tap.action}:{tap.arg}"):
        return
    step.notice("menu.ok")
    if tap.action == "queue":
        wanted = parse_filter(step, tap.arg)
        step.reply(queue_view(step, wanted or "all", edit=True))
    elif tap.action == "requests":
        step.reply(requests_view(step, edit=True))
    elif tap.action in ("request", "approve", "reject", "materials"):
        request = step.tx.get_request(tap.arg)
        if request is None:
            step.notice("operator.request_not_found", alert=True, number=tap.arg)
        elif tap.action == "request":
            step.audit("open_request", request.number)
            step.reply(request_card(step, request, edit=True))
        elif tap.action == "materials":
            _show_materials(step, request)
        else:
            ask_decision(step, request, Verdict(tap.action))
    elif tap.action in COMPLAINT_ACTIONS:
        complaint = step.tx.get_complaint(tap.arg)
        if complaint is None:
            step.notice("operator.not_found", alert=True, number=tap.arg)
        else:
            COMPLAINT_ACTIONS[tap.action](step, complaint, tap.action)
    else:
        step.notice("errors.button_invalid", alert=True)


def _open(step: Step, complaint: ComplaintRecord, _: str) -> None:
    step.audit("open", complaint.number)
    step.reply(card(step, complaint, edit=True))


def _move(step: Step, complaint: ComplaintRecord, action: str) -> None:
    """Pick up, accept, investigate: only if the stage allows it now; the author is told."""
    trigger, key = MOVES[action]
    me = step.user.user_id
    if trigger == "pick_up" and complaint.operator_id == me:
        step.notice("operator.already_yours", alert=True, number=complaint.number)
        return
    moved = lifecycle.apply(complaint, trigger, step.now, actor=me)
    if moved is None:
        _not_allowed(step, complaint)
        return
    save(step, complaint, moved)
    record(step, trigger, complaint.number, moved.stage.value)
    step.notify(complaint.user_id, key, number=complaint.number)
    step.reply(card(step, moved, edit=True))


def _not_allowed(step: Step, complaint: ComplaintRecord) -> None:
    step.notice(
        "operator.move_not_allowed",
        alert=True,
        number=complaint.number,
        stage=Ref(f"stage.{complaint.stage}"),
    )


def _ask_result(step: Step, complaint: ComplaintRecord, _: str) -> None:
    if "give_result" not in lifecycle.allowed(complaint):
        _not_allowed(step, complaint)
        return
    start_task(step, {"what": "result", "number": complaint.number})


def _report_loss(step: Step, complaint: ComplaintRecord, _: str) -> None:
    """The other party suffered a loss: revocation is never self-service from now on."""
    reported = lifecycle.apply(complaint, "report_loss", step.now, actor=step.user.user_id)
    if reported is None:
        step.notice("operator.loss_not_possible", alert=True, number=complaint.number)
        return
    save(step, complaint, reported)
    record(step, "report_loss", complaint.number)
    step.reply(card(step, reported, edit=True))


def _show_evidence(step: Step, complaint: ComplaintRecord, _: str) -> None:
    step.audit("open_evidence", complaint.number)
    back = _b("operator.button.complaint", "open", complaint.number)
    for reply in exhibits.evidence(complaint.number, complaint.evidence, back):
        step.reply(reply)


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


def requests_command(step: Step, command: Command) -> None:
    """/requests: open revocation requests, flagged first, then oldest first."""
    if step.refuse_non_operator("/requests"):
        return
    step.reply(requests_view(step))


def requests_view(step: Step, *, edit: bool = False) -> Reply:
    requests = step.tx.open_requests(REQUESTS_SIZE)
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
                age=span(step.now - r.created_at),
            ),
        )
        for r in requests
    )
    return Reply("operator.requests", {"count": len(requests)}, rows, edit=edit)


def request_card(step: Step, request: RevocationRequest, *, edit: bool = False) -> Reply:
    complaint = step.tx.get_complaint(request.complaint_number)
    lines = tuple(
        Ref("operator.material", {"material": Ref(key), "item": exhibits.line(item, i)})
        for i, (item, key) in enumerate(_materials(step, request), start=1)
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
            "age": span(step.now - request.created_at),
            "flag": Ref("operator.flagged" if request.flagged else "operator.not_flagged"),
            "status": Ref(f"operator.status.{request.status}"),
        },
        tuple(buttons),
        edit=edit,
    )


def _materials(step: Step, request: RevocationRequest) -> list[tuple[EvidenceItem, str]]:
    """Each item of a request with the material it was given for (the explanation first)."""
    complaint = step.tx.get_complaint(request.complaint_number)
    needed: tuple[str, ...] = ()
    if complaint is not None:
        needed = policy.required_materials(request.reason, request.account_kind, complaint) or ()
    given = request.materials
    out = [(item, "material.explanation") for item in given if item.file_id is None]
    for group in materials.groups(step.catalog, needed, given):
        out += [(item, group.key) for item in group.items]
    return out


def _show_materials(step: Step, request: RevocationRequest) -> None:
    """Every material of a request, step by step, so identity can be checked."""
    step.audit("open_materials", request.number)
    back = _b("operator.button.request_back", "request", request.number)
    items = [(item, Ref(key)) for item, key in _materials(step, request)]
    heading = Reply(
        "exhibit.materials",
        {"number": request.number, "complaint": request.complaint_number, "total": len(items)},
    )
    for reply in exhibits.show(items, heading, back):
        step.reply(reply)


def ask_decision(step: Step, request: RevocationRequest, verdict: Verdict) -> None:
    """Approve / reject: checked now (still open; approval: still revocable), then the task
    asks for the message the user receives."""
    if request.status is not RequestStatus.OPEN:
        step.notice("operator.request_closed", alert=True, number=request.number)
        return
    complaint = step.tx.get_complaint(request.complaint_number)
    if complaint is None:  # pragma: no cover - a request always names a stored complaint
        step.notice("operator.not_found", alert=True, number=request.complaint_number)
        return
    revocable = lifecycle.apply(complaint, "revoke", step.now, actor=step.user.user_id)
    if verdict is Verdict.APPROVE and revocable is None:
        step.reply(cannot_revoke(complaint))
        return
    data = {"what": "decision", "request": request.number, "verdict": verdict.value}
    start_task(step, {**data, "number": complaint.number})


# -- shared ------------------------------------------------------------------------------------


def _title(step: Step, type_id: str) -> dict[str, str]:
    ctype = step.catalog.type(type_id)
    return ctype.title.as_dict() if ctype else {"zh-CN": type_id, "en": type_id}
