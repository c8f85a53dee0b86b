"""The revocation policy: may this complaint be taken back now, and through which channel?

One pure function, `decide`, applies the rules of spec sections 5-7 in order; the first rule
that speaks decides, and the decision names it by a message key (`policy.rule.*`) together
with what the user can do instead or next (`policy.next.*`):

1. already revoked                         -> refused  `policy.rule.already_revoked`
2. the type is not revocable               -> refused  `policy.rule.not_revocable`
3. a final result exists (irreversible)    -> refused  `policy.rule.has_result`
4. the revocation window has passed        -> refused  `policy.rule.window_passed`
5. a request for this complaint is open    -> refused  `policy.rule.request_open`
6. self-service: a self-service type, still pending (stage and time), no loss reported, not
   flagged for risk review                 -> self-service  `policy.rule.self_service`
7. otherwise an operator decides, with the most specific reason:
   `policy.rule.type_operator` (the type is never self-service: its catalog note says why),
   `policy.rule.loss_operator` (the other party suffered a loss), `policy.rule.risk_review`
   (more than `limits.monthly_revocation_requests` this month: flagged),
   `policy.rule.manual_review` (past the pending stage).

The window end is the one stored on the complaint at submission (`revocable_until`), so a
later catalog change does not move it; a record without one (built before deadlines were
stored) falls back to the catalog's rule. Time is an argument (aware datetimes, UTC).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from flows.calendar import working_days_deadline
from flows.catalog import ComplaintType, Limits
from flows.records import AccountKind, ComplaintRecord, RevocationReason, Stage
from flows.replies import Ref

RESULT_STAGES = frozenset({Stage.RESULT_GIVEN, Stage.REVIEW_REQUESTED})

# Where a refusal points (article 002, sections 3, 5 and 8): the post-result appeal (this
# desk's one review), customer service with "misreported complaint + number", customer service
# when the other party's account was already affected, the legal route, or the open request.
NEXT_REQUEST_REVIEW = "policy.next.request_review"
NEXT_CUSTOMER_SERVICE = "policy.next.customer_service"
NEXT_AFFECTED_PARTY = "policy.next.affected_party"
NEXT_ESCALATE = "policy.next.escalate"
NEXT_LEGAL_ROUTE = "policy.next.legal_route"
NEXT_FOLLOW_REQUEST = "policy.next.follow_request"
REFUSED_NEXT = MappingProxyType(
    {
        "legal_route": NEXT_LEGAL_ROUTE,
        "customer_service": NEXT_CUSTOMER_SERVICE,
        "escalate": NEXT_ESCALATE,
    }
)


class Channel(StrEnum):
    SELF_SERVICE = "self_service"  # the user withdraws it themselves, at once
    OPERATOR = "operator"  # a revocation request an operator decides
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class History:
    """What the engine looked up about the account and the complaint before deciding.

    `revocations_this_month`: the account's revocation attempts (self-service withdrawals and
    requests to an operator, whatever their outcome) in the current Asia/Shanghai calendar
    month, counted in `[start, end)` of `calendar.month_bounds(now)`;
    `open_request`: the number of the open revocation request for THIS complaint, if any.
    """

    revocations_this_month: int = 0
    open_request: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: the channel, the rule (message key) that decided it, and what comes next.

    `until`: when this channel stops being available (self-service: the earlier of the window
    end and the end of the pending stage; operator: the window end); None when refused.
    `window_ends`: the complaint's revocation window end (None: never revocable).
    `flagged`: the request goes to an operator with a risk-review flag.
    `next_steps`: message keys of what the user can do instead or next.
    `count`: the account's withdrawals this calendar month (the figure a risk review quotes).
    """

    channel: Channel
    rule: str
    until: datetime | None
    window_ends: datetime | None
    flagged: bool = False
    next_steps: tuple[str, ...] = ()
    count: int = 0


def revocation_window_end(ctype: ComplaintType, submitted_at: datetime) -> datetime | None:
    """When a complaint of this type submitted at `submitted_at` stops being revocable.

    None: never revocable. An hour window ends exactly that many hours after submission; a
    working-day window ends at 24:00 Asia/Shanghai of the N-th working day after the day of
    submission (`calendar.working_days_deadline`).
    """
    rule = ctype.revocation
    if not rule.revocable:
        return None
    if rule.window_hours is not None:
        return submitted_at + timedelta(hours=rule.window_hours)
    assert rule.window_working_days is not None, "a revocable type has a window (catalog)"
    return working_days_deadline(submitted_at, rule.window_working_days)


@dataclass(frozen=True, slots=True)
class _Case:
    ctype: ComplaintType
    complaint: ComplaintRecord
    now: datetime
    history: History
    limits: Limits

    @property
    def window_end(self) -> datetime | None:
        stored = self.complaint.revocable_until
        if stored is not None:
            return stored
        return revocation_window_end(self.ctype, self.complaint.submitted_at)

    @property
    def pending_until(self) -> datetime:
        """The end of the pending (automatic review) period."""
        return self.complaint.submitted_at + timedelta(hours=self.limits.auto_review_hours)

    @property
    def flagged(self) -> bool:
        """The request after `monthly_revocation_requests` in a month goes to risk review."""
        return self.history.revocations_this_month >= self.limits.monthly_revocation_requests

    def refuse(self, rule: str, *next_steps: str) -> Decision:
        return Decision(
            Channel.REFUSED, f"policy.rule.{rule}", None, self.window_end, False, next_steps
        )


Rule = Callable[[_Case], Decision | None]


# -- the refusals, in order ------------------------------------------------------------------


def already_revoked(case: _Case) -> Decision | None:
    c = case.complaint
    if c.stage is Stage.REVOKED or c.revoked_at is not None:
        return case.refuse("already_revoked")
    return None


def not_revocable(case: _Case) -> Decision | None:
    if case.ctype.revocation.revocable:
        return None
    # Where it points is catalog data (`revocation.refused_next`): judicial matters are
    # corrected only through the courts (article 002), the others through customer service.
    return case.refuse("not_revocable", REFUSED_NEXT[case.ctype.revocation.refused_next])


def _after_the_window(case: _Case) -> tuple[str, ...]:
    """The source's route once a withdrawal is no longer possible: customer service, which
    hears first that the other party's account was already affected, when a loss is known."""
    return (NEXT_AFFECTED_PARTY if case.complaint.loss_reported else NEXT_CUSTOMER_SERVICE,)


def has_result(case: _Case) -> Decision | None:
    c = case.complaint
    if c.stage not in RESULT_STAGES:
        return None
    review = c.stage is Stage.RESULT_GIVEN and c.reviews_requested == 0
    if review:  # the post-result appeal, once; plus customer service if a loss is known
        loss = (NEXT_AFFECTED_PARTY,) if c.loss_reported else ()
        return case.refuse("has_result", NEXT_REQUEST_REVIEW, *loss)
    return case.refuse("has_result", *_after_the_window(case))


def window_passed(case: _Case) -> Decision | None:
    end = case.window_end
    if end is not None and case.now < end:
        return None
    return case.refuse("window_passed", *_after_the_window(case))


def request_open(case: _Case) -> Decision | None:
    if case.history.open_request is None:
        return None
    return case.refuse("request_open", NEXT_FOLLOW_REQUEST)


REFUSALS: tuple[Rule, ...] = (
    already_revoked,
    not_revocable,
    has_result,
    window_passed,
    request_open,
)


# -- the channels ----------------------------------------------------------------------------


def self_service(case: _Case) -> Decision | None:
    c = case.complaint
    if (
        case.ctype.revocation.self_service
        and c.stage is Stage.PENDING
        and case.now < case.pending_until
        and not c.loss_reported
        and not case.flagged
    ):
        end = case.window_end
        assert end is not None, "window_passed refused a complaint without a window"
        return Decision(
            Channel.SELF_SERVICE, "policy.rule.self_service", min(end, case.pending_until), end
        )
    return None


def operator(case: _Case) -> Decision:
    if not case.ctype.revocation.self_service:
        rule = "type_operator"
    elif case.complaint.loss_reported:
        rule = "loss_operator"
    elif case.flagged:
        rule = "risk_review"
    else:
        rule = "manual_review"
    end = case.window_end
    count = case.history.revocations_this_month
    return Decision(Channel.OPERATOR, f"policy.rule.{rule}", end, end, case.flagged, (), count)


def decide(
    ctype: ComplaintType,
    complaint: ComplaintRecord,
    now: datetime,
    history: History,
    limits: Limits,
) -> Decision:
    """How `complaint` (of type `ctype`) can be revoked at `now`; see the module docstring."""
    case = _Case(ctype, complaint, now, history, limits)
    for refusal in REFUSALS:
        decision = refusal(case)
        if decision is not None:
            return decision
    return self_service(case) or operator(case)


# -- materials for a revocation request (spec section 6) -------------------------------------

MATERIAL_IDENTITY = "material.identity"
MATERIAL_PASSPORT = "material.passport"
MATERIAL_SCREEN_RECORDING = "material.screen_recording"
MATERIAL_STATEMENT = "material.statement"
MATERIAL_BUSINESS_LICENCE = "material.business_licence"


def is_text_complaint(complaint: ComplaintRecord) -> bool:
    """A "text complaint" (article 002's 文字误诉): one that rests, at least in part, on words
    rather than files: some of its evidence is a text record (typed text, or a forwarded
    message without a file), or it has no evidence at all."""
    return not complaint.evidence or any(item.file_id is None for item in complaint.evidence)


def required_materials(
    reason: RevocationReason, kind: AccountKind, complaint: ComplaintRecord
) -> tuple[str, ...] | None:
    """Message keys of the materials a revocation request must carry, in the order asked.

    - identity, always: ID card (both sides) or a video holding it; a Hong Kong / Macau
      number gives a passport page instead;
    - a screen recording of the whole process, when the reason is misoperation;
    - a signed, fingerprinted written statement (PDF), for a text complaint
      (`is_text_complaint`);
    - a business-licence scan, for an enterprise account.

    None for a minor: a guardian must go in person, so no request is taken.
    """
    if kind is AccountKind.MINOR:
        return None
    materials = [MATERIAL_PASSPORT if kind is AccountKind.HK_MACAU else MATERIAL_IDENTITY]
    if reason is RevocationReason.MISOPERATION:
        materials.append(MATERIAL_SCREEN_RECORDING)
    if is_text_complaint(complaint):
        materials.append(MATERIAL_STATEMENT)
    if kind is AccountKind.ENTERPRISE:
        materials.append(MATERIAL_BUSINESS_LICENCE)
    return tuple(materials)


# -- appeals after a result ------------------------------------------------------------------


def can_appeal(complaint: ComplaintRecord, appeals_today: int, limits: Limits) -> str | None:
    """None if the user may request a review of the result now, else the rule key that says no.

    `appeals_today`: the account's review requests in the current Asia/Shanghai day
    (`calendar.day_bounds(now)`). One review per complaint; `limits.daily_appeals` a day.
    """
    if complaint.stage not in RESULT_STAGES:
        return "policy.appeal.no_result"
    if complaint.stage is Stage.REVIEW_REQUESTED or complaint.reviews_requested > 0:
        return "policy.appeal.already_reviewed"
    if appeals_today >= limits.daily_appeals:
        return "policy.appeal.daily_limit"
    return None


def explain(key: str, limits: Limits) -> Ref:
    """A rule key as a message, with the limits its text may quote (from the catalog)."""
    return Ref(
        key,
        {"monthly": limits.monthly_revocation_requests, "daily": limits.daily_appeals},
    )
