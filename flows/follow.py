"""Following a complaint: the list, the detail with its timeline and what can be done now,
self-service revocation, a review of the result, and the start of a revocation request.

Buttons here are stateless (scope "c", the complaint number in the argument): every tap loads
the complaint afresh, checks it belongs to the person tapping, and asks the policy again, so an
old button can never do more than the rules allow *now*.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows import explain, lifecycle, policy, review
from flows.catalog import ComplaintType
from flows.complaints import complaint_type, decision, save, title
from flows.context import Context
from flows.events import Command, Tap
from flows.policy import Channel, Decision
from flows.records import OPEN_STAGES, ComplaintRecord, RevocationReason
from flows.registry import Feature
from flows.replies import Button, Lines, Ref, Reply, clip
from flows.timefmt import ago, at

SCOPE = "c"
PAGE_SIZE = 8
LABEL_TYPE, LABEL_TARGET = 11, 12  # a button names number, type and target in <= 45 chars


def list_command(ctx: Context, command: Command) -> None:
    """/mycomplaints: the person's complaints, open ones first, a page at a time;
    /mycomplaints NUMBER: that complaint (another person's number: the same "not found")."""
    number = command.args.strip().upper()
    if number:
        open_number(ctx, number)
    else:
        ctx.reply(complaint_list(ctx, 0))


def open_number(ctx: Context, number: str) -> None:
    """Open complaint `number` as a new message, if it is the person's own."""
    complaint = ctx.tx.get_complaint(number)
    if complaint is None or complaint.user_id != ctx.user.user_id:
        ctx.reply(Reply("follow.no_such_number", {"number": clip(number, 40)}))
        return
    ctx.reply(detail(ctx, complaint, edit=False))


def ordered(complaints: list[ComplaintRecord]) -> list[ComplaintRecord]:
    """Open complaints first, then the rest; newest first within each (a stable sort)."""
    return sorted(complaints, key=lambda c: c.stage not in OPEN_STAGES)


def complaint_list(ctx: Context, page: int, *, edit: bool = False) -> Reply:
    complaints = ordered(ctx.tx.complaints_of(ctx.user.user_id))
    if not complaints:
        return Reply("follow.empty", edit=edit)
    pages = (len(complaints) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    shown = complaints[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows: list[tuple[Button, ...]] = [(_item_button(ctx, c),) for c in shown]
    turn = []
    if page > 0:
        turn.append(Button("follow.button.prev", "list", str(page - 1), scope=SCOPE))
    if page < pages - 1:
        turn.append(Button("follow.button.next", "list", str(page + 1), scope=SCOPE))
    if turn:
        rows.append(tuple(turn))
    items = Lines(
        tuple(
            Ref(
                "follow.item",
                {
                    "number": c.number,
                    "type": title(ctx.catalog, c.type_id),
                    "stage": Ref(f"stage.{c.stage}"),
                    "age": ago(ctx.now - c.submitted_at),
                },
            )
            for c in shown
        )
    )
    opened = sum(c.stage in OPEN_STAGES for c in complaints)
    return Reply(
        "follow.list",
        {
            "n": len(complaints),
            "open": opened,
            "page": page + 1,
            "pages": pages,
            "items": items,
        },
        tuple(rows),
        edit=edit,
    )


def _item_button(ctx: Context, c: ComplaintRecord) -> Button:
    """One complaint: its number, type and target, short enough for a phone."""
    names = title(ctx.catalog, c.type_id)
    return Button(
        "follow.button.item",
        "open",
        c.number,
        {
            "number": c.number,
            "type": {lang: clip(name, LABEL_TYPE) for lang, name in names.items()},
            "target": clip(c.target, LABEL_TARGET),
        },
        scope=SCOPE,
    )


def on_tap(ctx: Context, tap: Tap) -> None:
    if tap.action in ("list", "mine"):  # a page in place; the menu's button: a new message
        page = int(tap.arg) if tap.arg.isdigit() else 0
        ctx.reply(complaint_list(ctx, page, edit=tap.action == "list"))
        return
    number, _, extra = tap.arg.partition(".")
    complaint = ctx.tx.get_complaint(number)
    if complaint is None or complaint.user_id != ctx.user.user_id:
        ctx.notice("follow.not_found", alert=True)  # another person's number: same answer
        return
    handler = ACTIONS.get(tap.action)
    if handler is None:
        ctx.notice("errors.button_invalid", alert=True)
        return
    handler(ctx, complaint, extra)


# -- what the rules allow now --------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    complaint: ComplaintRecord
    ctype: ComplaintType
    decision: Decision


def view(ctx: Context, complaint: ComplaintRecord) -> View:
    ctype = complaint_type(ctx.catalog, complaint)
    return View(complaint, ctype, decision(ctx.tx, ctx.catalog, complaint, ctx.now))


def detail(ctx: Context, complaint: ComplaintRecord, *, edit: bool = True) -> Reply:
    v = view(ctx, complaint)
    buttons: list[tuple[Button, ...]] = []
    n = complaint.number
    if v.decision.channel is Channel.SELF_SERVICE:
        buttons.append((Button("follow.button.revoke", "revoke", n, scope=SCOPE),))
    elif v.decision.channel is Channel.OPERATOR:
        buttons.append((Button("follow.button.request", "request", n, scope=SCOPE),))
    if policy.can_appeal(complaint, 0, ctx.catalog.limits) is None:
        buttons.append((Button("follow.button.review", "review", n, scope=SCOPE),))
    buttons.append((Button("follow.button.list", "list", "0", scope=SCOPE),))
    limits = ctx.catalog.limits
    return Reply(
        "follow.detail",
        {
            "number": n,
            "type": v.ctype.title.as_dict(),
            "target": complaint.target,
            "stage": Ref(f"stage.{complaint.stage}"),
            "age": ago(ctx.now - complaint.submitted_at),
            "timeline": explain.user_timeline(complaint),
            "result": complaint.result_text or "-",
            "can": explain.withdrawal_now(v.decision, complaint, v.ctype, ctx.now, limits),
        },
        tuple(buttons),
        edit=edit,
    )


def _no_longer(ctx: Context, complaint: ComplaintRecord) -> None:
    """An old button asked for what the rules no longer allow: say so, show what they allow."""
    ctx.notice("follow.no_longer", alert=True)
    ctx.reply(detail(ctx, complaint))


# -- actions -----------------------------------------------------------------------------------


def open_detail(ctx: Context, complaint: ComplaintRecord, _: str) -> None:
    ctx.reply(detail(ctx, complaint))


def ask_revoke(ctx: Context, complaint: ComplaintRecord, _: str) -> None:
    """Self-service: spell out the consequence; the reason buttons confirm."""
    v = view(ctx, complaint)
    if v.decision.channel is not Channel.SELF_SERVICE:
        _no_longer(ctx, complaint)
        return
    n = complaint.number
    reasons = tuple(
        (Button(f"revoke.reason.{r.value}", "revoke_yes", f"{n}.{r.value}", scope=SCOPE),)
        for r in RevocationReason
    )
    ctx.reply(
        Reply(
            "follow.revoke_confirm",
            {
                "number": n,
                "type": v.ctype.title.as_dict(),
                "target": complaint.target,
                "monthly": ctx.catalog.limits.monthly_revocation_requests,
            },
            (*reasons, (Button("follow.button.back", "open", n, scope=SCOPE),)),
            edit=True,
        )
    )


def revoke_now(ctx: Context, complaint: ComplaintRecord, reason: str) -> None:
    """Revoke at once, if the rules still allow self-service now; recorded with time and reason."""
    v = view(ctx, complaint)
    if v.decision.channel is not Channel.SELF_SERVICE or reason not in set(RevocationReason):
        _no_longer(ctx, complaint)
        return
    revoked = lifecycle.apply(complaint, "revoke", ctx.now, actor=ctx.user.user_id, text=reason)
    assert revoked is not None, "the policy allowed it, so the stage does"
    save(ctx.tx, complaint, revoked)
    ctx.event("complaint.revoked", number=complaint.number, channel="self_service")
    ctx.reply(Reply("follow.revoked", {"number": complaint.number, "at": at(ctx.now)}))


def ask_operator(ctx: Context, complaint: ComplaintRecord, _: str) -> None:
    """The operator channel: open the revocation-request task (`flows.revoke`) for it."""
    v = view(ctx, complaint)
    if v.decision.channel is not Channel.OPERATOR:
        _no_longer(ctx, complaint)
        return
    rule = explain.reason(v.decision, v.ctype, ctx.catalog.limits)
    ctx.reply(Reply("revoke.intro", {"number": complaint.number, "rule": rule}))
    ctx.open_task("revoke", {"number": complaint.number, "flagged": v.decision.flagged})


ACTIONS = {
    "open": open_detail,
    "revoke": ask_revoke,
    "revoke_yes": revoke_now,
    "request": ask_operator,
    "review": review.ask_review,
    "review_yes": review.request_review,
}


FEATURE = Feature(
    commands={"mycomplaints": list_command},
    links={"c": list_command},  # /start c_NUMBER: t.me/<bot>?start=c_NUMBER opens it
    scope=SCOPE,
    on_tap=on_tap,
)
