"""The one review of a result (article 000: 申请复核; article 002: "#误封申诉 + number", at most
`daily_appeals` a day): the first tap asks for a short reason, a reason button confirms it. The
reason is stored on the timeline entry and shown to the operator."""

from __future__ import annotations

from flows import lifecycle, policy
from flows.calendar import day_bounds
from flows.complaints import save
from flows.context import Context
from flows.records import ComplaintRecord
from flows.replies import Button, Ref, Reply

SCOPE = "c"
REASONS = ("new_evidence", "facts_wrong", "too_harsh", "other")


def _refusal(ctx: Context, complaint: ComplaintRecord) -> Ref | None:
    start, end = day_bounds(ctx.now)
    appeals = ctx.tx.appeals_in(ctx.user.user_id, start, end)
    refusal = policy.can_appeal(complaint, appeals, ctx.catalog.limits)
    return None if refusal is None else policy.explain(refusal, ctx.catalog.limits)


def ask_review(ctx: Context, complaint: ComplaintRecord, _: str) -> None:
    """The first tap: what a review means (once, the daily limit), and why: reason buttons."""
    refusal = _refusal(ctx, complaint)
    if refusal is not None:
        ctx.reply(Reply("follow.review_refused", {"rule": refusal}))
        return
    n = complaint.number
    reasons = tuple(
        (Button(f"review.reason.{r}", "review_yes", f"{n}.{r}", scope=SCOPE),) for r in REASONS
    )
    ctx.reply(
        Reply(
            "follow.review_confirm",
            {"number": n, "daily": ctx.catalog.limits.daily_appeals},
            (*reasons, (Button("follow.button.back", "open", n, scope=SCOPE),)),
            edit=True,
        )
    )


def request_review(ctx: Context, complaint: ComplaintRecord, reason: str) -> None:
    """The second tap: the review is requested with its reason, if the rules still allow it."""
    refusal = _refusal(ctx, complaint)
    if refusal is not None or reason not in REASONS:
        rule = refusal or Ref("policy.appeal.no_reason")
        ctx.reply(Reply("follow.review_refused", {"rule": rule}))
        return
    me = ctx.user.user_id
    reviewed = lifecycle.apply(complaint, "request_review", ctx.now, actor=me, text=reason)
    assert reviewed is not None
    save(ctx.tx, complaint, reviewed)
    if complaint.operator_id is not None:
        ctx.notify(
            complaint.operator_id,
            "operator.review_requested",
            number=complaint.number,
            reason=Ref(f"review.reason.{reason}"),
        )
    ctx.event("complaint.review_requested", number=complaint.number)
    ctx.reply(Reply("follow.review_requested", {"number": complaint.number}))
    ctx.reply(Reply("follow.escalate"))
