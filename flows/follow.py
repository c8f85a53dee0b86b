"""Following a complaint: the list, the detail with its timeline and what can be done now,
self-service revocation, a review of the result, and the start of a revocation request.

Buttons here are stateless (scope "c", the complaint number in the argument): every tap loads
the complaint afresh, checks it belongs to the person tapping, and asks the policy again, so an
old button can never do more than the rules allow *now*.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows import explain, lifecycle, policy
from flows.calendar import day_bounds
from flows.catalog import Catalog, ComplaintType
from flows.events import Command, Tap
from flows.policy import Channel, Decision
from flows.records import ComplaintRecord, RevocationReason, Task, TimelineEntry
from flows.replies import Button, Lines, Ref, Reply
from flows.step import Step
from flows.timefmt import at, span

SCOPE = "c"
LIST_SIZE = 10


def with_deadlines(complaint: ComplaintRecord, catalog: Catalog) -> ComplaintRecord:
    """The complaint as stored at submission: its deadlines and first timeline entry."""
    ctype = catalog.type(complaint.type_id)
    assert ctype is not None
    entry = TimelineEntry(at=complaint.submitted_at, kind="submitted", actor=complaint.user_id)
    deadlines = lifecycle.new_deadlines(ctype, complaint.submitted_at, catalog.limits)
    return complaint.model_copy(update={**deadlines, "timeline": (entry,)})


def list_command(step: Step, command: Command) -> None:
    """/mycomplaints: the person's newest complaints, one button each."""
    step.reply(complaint_list(step))


def complaint_list(step: Step, *, edit: bool = False) -> Reply:
    complaints = step.tx.complaints_of(step.user.user_id)[:LIST_SIZE]
    if not complaints:
        return Reply("follow.empty", edit=edit)
    rows = tuple(
        (
            Button(
                "follow.button.item",
                "open",
                c.number,
                {"number": c.number, "type": _title(step, c), "stage": Ref(f"stage.{c.stage}")},
                scope=SCOPE,
            ),
        )
        for c in complaints
    )
    items = Lines(
        tuple(
            Ref(
                "follow.item",
                {
                    "number": c.number,
                    "type": _title(step, c),
                    "stage": Ref(f"stage.{c.stage}"),
                    "age": span(step.now - c.submitted_at),
                },
            )
            for c in complaints
        )
    )
    return Reply("follow.list", {"count": len(complaints), "items": items}, rows, edit=edit)


def on_tap(step: Step, tap: Tap) -> None:
    if tap.action == "list":
        step.reply(complaint_list(step, edit=True))
        return
    number, _, extra = tap.arg.partition(".")
    complaint = step.tx.get_complaint(number)
    if complaint is None or complaint.user_id != step.user.user_id:
        step.notice("follow.not_found", alert=True)  # another person's number: same answer
        return
    handler = ACTIONS.get(tap.action)
    if handler is None:
        step.notice("errors.button_invalid", alert=True)
        return
    handler(step, complaint, extra)


# -- what the rules allow now --------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    complaint: ComplaintRecord
    ctype: ComplaintType
    decision: Decision


def view(step: Step, complaint: ComplaintRecord) -> View:
    ctype = step.catalog.type(complaint.type_id)
    assert ctype is not None, "a stored complaint's type is in the catalog"
    decision = explain.decision_for(step.tx, step.catalog, complaint, step.now)
    return View(complaint, ctype, decision)


def detail(step: Step, complaint: ComplaintRecord, *, edit: bool = True) -> Reply:
    v = view(step, complaint)
    buttons: list[tuple[Button, ...]] = []
    n = complaint.number
    if v.decision.channel is Channel.SELF_SERVICE:
        buttons.append((Button("follow.button.revoke", "revoke", n, scope=SCOPE),))
    elif v.decision.channel is Channel.OPERATOR:
        buttons.append((Button("follow.button.request", "request", n, scope=SCOPE),))
    if policy.can_appeal(complaint, 0, step.catalog.limits) is None:
        buttons.append((Button("follow.button.review", "review", n, scope=SCOPE),))
    buttons.append((Button("follow.button.list", "list", scope=SCOPE),))
    limits = step.catalog.limits
    return Reply(
        "follow.detail",
        {
            "number": n,
            "type": v.ctype.title.as_dict(),
            "target": complaint.target,
            "stage": Ref(f"stage.{complaint.stage}"),
            "age": span(step.now - complaint.submitted_at),
            "timeline": explain.user_timeline(complaint),
            "result": complaint.result_text or "-",
            "can": explain.withdrawal_now(v.decision, complaint, v.ctype, step.now, limits),
        },
        tuple(buttons),
        edit=edit,
    )


def _no_longer(step: Step, complaint: ComplaintRecord) -> None:
    """An old button asked for what the rules no longer allow: say so, show what they allow."""
    step.notice("follow.no_longer", alert=True)
    step.reply(detail(step, complaint))


# -- actions -----------------------------------------------------------------------------------


def open_detail(step: Step, complaint: ComplaintRecord, _: str) -> None:
    step.reply(detail(step, complaint))


def ask_revoke(step: Step, complaint: ComplaintRecord, _: str) -> None:
    """Self-service: spell out the consequence; the reason buttons confirm."""
    v = view(step, complaint)
    if v.decision.channel is not Channel.SELF_SERVICE:
        _no_longer(step, complaint)
        return
    n = complaint.number
    reasons = tuple(
        (Button(f"revoke.reason.{r.value}", "revoke_yes", f"{n}.{r.value}", scope=SCOPE),)
        for r in RevocationReason
    )
    step.reply(
        Reply(
            "follow.revoke_confirm",
            {
                "number": n,
                "type": v.ctype.title.as_dict(),
                "target": complaint.target,
                "monthly": step.catalog.limits.monthly_revocation_requests,
            },
            (*reasons, (Button("follow.button.back", "open", n, scope=SCOPE),)),
            edit=True,
        )
    )


def revoke_now(step: Step, complaint: ComplaintRecord, reason: str) -> None:
    """Revoke at once, if the rules still allow self-service now; recorded with time and reason."""
    v = view(step, complaint)
    if v.decision.channel is not Channel.SELF_SERVICE or reason not in set(RevocationReason):
        _no_longer(step, complaint)
        return
    revoked = lifecycle.apply(complaint, "revoke", step.now, actor=step.user.user_id, text=reason)
    assert revoked is not None, "the policy allowed it, so the stage does"
    save(step, complaint, revoked)
    step.event("complaint.revoked", number=complaint.number, channel="self_service")
    step.reply(Reply("follow.revoked", {"number": complaint.number, "at": at(step.now)}))


def ask_operator(step: Step, complaint: ComplaintRecord, _: str) -> None:
    """The operator channel: open the revocation-request task for this complaint."""
    from flows import revoke

    v = view(step, complaint)
    if v.decision.channel is not Channel.OPERATOR:
        _no_longer(step, complaint)
        return
    step.set_task(
        Task(
            flow=revoke.FLOW,
            state=revoke.R.REASON.value,
            data={"number": complaint.number, "flagged": v.decision.flagged},
        )
    )
    rule = explain.reason(v.decision, v.ctype, step.catalog.limits)
    step.reply(Reply("revoke.intro", {"number": complaint.number, "rule": rule}))
    revoke.prompt(step)


def request_review(step: Step, complaint: ComplaintRecord, _: str) -> None:
    """One review of a result; at most `daily_appeals` a day per account."""
    start, end = day_bounds(step.now)
    appeals = step.tx.appeals_in(step.user.user_id, start, end)
    refusal = policy.can_appeal(complaint, appeals, step.catalog.limits)
    if refusal is not None:
        rule = policy.explain(refusal, step.catalog.limits)
        step.reply(Reply("follow.review_refused", {"rule": rule}))
        return
    reviewed = lifecycle.apply(complaint, "request_review", step.now, actor=step.user.user_id)
    assert reviewed is not None
    save(step, complaint, reviewed)
    if complaint.operator_id is not None:
        step.notify(complaint.operator_id, "operator.review_requested", number=complaint.number)
    step.event("complaint.review_requested", number=complaint.number)
    step.reply(Reply("follow.review_requested", {"number": complaint.number}))
    step.reply(Reply("follow.escalate"))


ACTIONS = {
    "open": open_detail,
    "revoke": ask_revoke,
    "revoke_yes": revoke_now,
    "request": ask_operator,
    "review": request_review,
}


def save(step: Step, before: ComplaintRecord, after: ComplaintRecord) -> None:
    step.tx.update_complaint(
        after.model_copy(update={"version": before.version + 1}), before.version
    )


def _title(step: Step, complaint: ComplaintRecord) -> dict[str, str]:
    ctype = step.catalog.type(complaint.type_id)
    return ctype.title.as_dict() if ctype else {"zh-CN": complaint.type_id, "en": complaint.type_id}
