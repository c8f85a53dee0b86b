"""What operators see: the queue, a complaint's card, the revocation requests and a request's
card, each with the buttons that act on it now (scope "o", the number in the argument).

Views only: they read through `ctx.tx` and build replies; acting is `flows.operator` (buttons,
commands) and `flows.operator_task` (typing a result or a decision).
"""

from __future__ import annotations

from flows import exhibits, lifecycle, materials, policy
from flows.complaints import title
from flows.context import Context
from flows.evidence import counts
from flows.explain import timeline_line
from flows.records import (
    ComplaintRecord,
    EvidenceItem,
    RequestStatus,
    RevocationRequest,
    Stage,
)
from flows.replies import Button, Lines, Ref, Reply
from flows.timefmt import at, span

SCOPE = "o"
AUDIT_LINES = 8  # the latest audit entries shown on a complaint's card
REQUESTS_SIZE = 20
SHORT_TEXT = 200  # timeline texts on the card are cut to this many characters
MOVE_BUTTONS = {"pick_up": "pick", "accept": "accept", "investigate": "investigate"}


def _b(key: str, action: str, arg: str = "", **params: object) -> Button:
    return Button(key, action, arg, params, scope=SCOPE)


def _in_rows(buttons: list[Button], size: int) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + size]) for i in range(0, len(buttons), size)]


def card(ctx: Context, complaint: ComplaintRecord, *, edit: bool = False) -> Reply:
    """Everything an operator needs about one complaint, with what can be done to it now."""
    n = complaint.number
    request = ctx.tx.open_request_for(n)
    timeline = Lines(tuple(timeline_line(e, _short(e.text)) for e in complaint.timeline))
    buttons: list[tuple[Button, ...]] = []
    moves: list[Button] = []
    for trigger in lifecycle.allowed(complaint):
        if trigger == "pick_up" and complaint.operator_id == ctx.user.user_id:
            continue  # already theirs
        action = MOVE_BUTTONS.get(trigger, "result")
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
            "audit": _audit(ctx, n),
        },
        tuple(buttons),
        edit=edit,
    )


def _files(items: tuple[EvidenceItem, ...]) -> Lines | Ref:
    lines = (exhibits.line(item, i) for i, item in enumerate(items, start=1))
    return Lines(tuple(lines)) if items else Ref("evidence.none")


def _audit(ctx: Context, number: str) -> Ref:
    """Who did what to this complaint and when, refusals included (newest first)."""
    entries = ctx.tx.audit_log(number, AUDIT_LINES)
    lines = tuple(
        Ref(
            "operator.audit_line",
            {"at": at(e.at), "actor": e.actor, "action": e.action, "detail": _short(e.detail, 60)},
        )
        for e in entries
    )
    return Ref("operator.audit", {"lines": Lines(lines)}) if lines else Ref("operator.audit_none")


def _request_line(request: RevocationRequest | None) -> Ref:
    if request is None:
        return Ref("operator.card.no_request")
    key = "operator.card.request_flagged" if request.flagged else "operator.card.request"
    return Ref(key, {"number": request.number})


def _short(text: str, limit: int = SHORT_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        for i, (item, key) in enumerate(request_materials(ctx, request), start=1)
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


def request_materials(ctx: Context, request: RevocationRequest) -> list[tuple[EvidenceItem, str]]:
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


def cannot_revoke(complaint: ComplaintRecord) -> Reply:
    """Approval refused: the complaint's stage no longer allows a revocation."""
    return Reply(
        "operator.cannot_revoke",
        {"number": complaint.number, "stage": Ref(f"stage.{complaint.stage}")},
    )


def record(ctx: Context, action: str, subject: str, detail: str = "") -> None:
    """Audit an operator action (who, what, subject) and tell observers."""
    ctx.audit(action, subject, detail)
    ctx.event("operator.action", action=action, subject=subject, operator=ctx.user.user_id)
