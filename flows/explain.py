"""Decision to text: what the desk tells a person about a complaint's withdrawal, stage and
next steps, built only from the policy's decision for that complaint (the rule that decided,
its channel, its deadline) and from the type's catalog rule, never from a generic string.

- `type_rule`: a type's whole withdrawal rule (window, the self-service hours, who decides
  after them, the type's own note), shown before submission, after it and in the guide;
- `withdrawal_now`: what the person can do now (the "What you can do now" of the detail page
  and of the stage notifications): the channel with its deadline, or the refusal with the
  routes that apply (`policy.next.*`, each with the complaint number and the catalog limits);
- `reason`: the sentence of the rule that decided, with the figures it quotes;
- `user_timeline`: the timeline without the operator-only entries.
"""

from __future__ import annotations

from datetime import datetime

from flows import complaints
from flows.catalog import Catalog, ComplaintType, Limits
from flows.policy import Channel, Decision
from flows.ports import Tx
from flows.records import ComplaintRecord, TimelineEntry
from flows.replies import Lines, Ref
from flows.timefmt import at, span

# Timeline entries for operators only: a loss report is the other party's business.
OPERATOR_ONLY = frozenset({"loss_reported"})


def window(ctype: ComplaintType) -> Ref:
    """The type's withdrawal window: "24 hours", "3 working days (mainland-China calendar)"."""
    rule = ctype.revocation
    if rule.window_hours is not None:
        return Ref("rule.window.hours", {"n": rule.window_hours})
    return Ref("rule.window.working_days", {"n": rule.window_working_days or 0})


def type_rule(ctype: ComplaintType, limits: Limits) -> Ref:
    """The type's whole withdrawal rule, one paragraph, with its success rating."""
    rule = ctype.revocation
    params = {
        "note": rule.rule.as_dict(),
        "rating": rating(ctype),
        "pending": Ref("stage.pending"),
        "n": limits.auto_review_hours,
    }
    if not rule.revocable:
        return Ref("rule.type.never", params)
    shape = "self_service" if rule.self_service else "operator"
    return Ref(f"rule.type.{shape}", {**params, "window": window(ctype)})


def rating(ctype: ComplaintType) -> Ref:
    """The source article's withdrawal success rating for the type (out of 5), if it gives one."""
    if ctype.rating is None:
        return Ref("rule.rating.none")
    stars = "★" * int(ctype.rating) + ("½" if ctype.rating % 1 >= 0.5 else "")
    return Ref("rule.rating", {"stars": stars, "rating": f"{ctype.rating:g}"})


def reason(decision: Decision, ctype: ComplaintType, limits: Limits) -> Ref:
    """The sentence of the rule that decided, with every figure it quotes."""
    return Ref(
        decision.rule,
        {
            "note": ctype.revocation.rule.as_dict(),
            "n": decision.count,
            "monthly": limits.monthly_revocation_requests,
            "daily": limits.daily_appeals,
            "pending": Ref("stage.pending"),
            "manual": Ref("stage.manual_review"),
        },
    )


def withdrawal_now(
    decision: Decision,
    complaint: ComplaintRecord,
    ctype: ComplaintType,
    now: datetime,
    limits: Limits,
) -> Ref:
    """What the person can do about a withdrawal now, exactly as the decision says."""
    why = reason(decision, ctype, limits)
    if decision.channel is Channel.SELF_SERVICE:
        assert decision.until is not None
        assert decision.window_ends is not None
        then = decision.window_ends > decision.until
        return Ref(
            "follow.can.self_service" if then else "follow.can.self_service_last",
            {
                "left": span(decision.until - now),
                "until": at(decision.until),
                "ends": at(decision.window_ends),
                "pending": Ref("stage.pending"),
            },
        )
    if decision.channel is Channel.OPERATOR:
        assert decision.until is not None
        flagged_too = decision.flagged and decision.rule != "policy.rule.risk_review"
        return Ref(
            "follow.can.operator_flagged" if flagged_too else "follow.can.operator",
            {
                "rule": why,
                "until": at(decision.until),
                "n": decision.count,
                "monthly": limits.monthly_revocation_requests,
            },
        )
    if not decision.next_steps:
        return Ref("follow.cannot_only", {"rule": why})
    steps = tuple(
        Ref(key, {"number": complaint.number, "daily": limits.daily_appeals})
        for key in decision.next_steps
    )
    return Ref("follow.cannot", {"rule": why, "next": Lines(steps)})


def withdrawal_now_for(tx: Tx, catalog: Catalog, complaint: ComplaintRecord, now: datetime) -> Ref:
    """`withdrawal_now` for a complaint as it is now (notifications of a stage change)."""
    ctype = catalog.type(complaint.type_id)
    assert ctype is not None, "a stored complaint's type is in the catalog"
    decision = complaints.decision(tx, catalog, complaint, now)
    return withdrawal_now(decision, complaint, ctype, now, catalog.limits)


def user_timeline(complaint: ComplaintRecord) -> Lines:
    """The complaint's history as its author sees it (operator-only entries left out)."""
    entries: tuple[TimelineEntry, ...] = tuple(
        e for e in complaint.timeline if e.kind not in OPERATOR_ONLY
    )
    return Lines(tuple(timeline_line(e) for e in entries))


# Timeline entries whose text is a reason code, rendered by its message.
REASON_CODES = {"review_requested": "review.reason"}


def timeline_line(entry: TimelineEntry, text: str | None = None) -> Ref:
    """One timeline entry as a line (`text`: the entry's text as the viewer may see it)."""
    prefix = REASON_CODES.get(entry.kind)
    if prefix is not None and entry.text:
        reason = Ref(f"{prefix}.{entry.text}")
        return Ref(f"timeline.{entry.kind}_because", {"at": at(entry.at), "reason": reason})
    shown = entry.text if text is None else text
    return Ref(f"timeline.{entry.kind}", {"at": at(entry.at), "text": shown})
