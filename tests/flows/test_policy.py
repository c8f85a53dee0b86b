"""The revocation policy (spec sections 5-7) on the shipped catalog: windows, channels, limits,
materials and appeals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.calendar import month_bounds
from flows.catalog import ComplaintType, load_catalog
from flows.lifecycle import new_deadlines
from flows.policy import (
    Channel,
    Decision,
    History,
    can_appeal,
    decide,
    required_materials,
    revocation_window_end,
)
from flows.records import (
    AccountKind,
    ComplaintRecord,
    EvidenceItem,
    EvidenceKind,
    RevocationReason,
    Stage,
)

CATALOG = load_catalog()
LIMITS = CATALOG.limits
REVOCABLE = [t for t in CATALOG.types if t.revocation.revocable]
SUBMITTED = datetime(2026, 11, 23, 1, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
SECOND = timedelta(seconds=1)
NO_HISTORY = History(revocations_this_month=0, open_request=None)


def ctype(type_id: str) -> ComplaintType:
    found = CATALOG.type(type_id)
    assert found is not None
    return found


def photo(at: datetime = SUBMITTED) -> EvidenceItem:
    return EvidenceItem(kind=EvidenceKind.PHOTO, file_id="f1", file_unique_id="u1", received_at=at)


def text_record(at: datetime = SUBMITTED) -> EvidenceItem:
    return EvidenceItem(kind=EvidenceKind.TEXT, text="he said so", received_at=at)


def complaint(
    type_id: str,
    stage: Stage = Stage.PENDING,
    submitted_at: datetime = SUBMITTED,
    **fields: Any,
) -> ComplaintRecord:
    """A complaint as the engine stores it: deadlines computed from the catalog at submission."""
    deadlines = new_deadlines(ctype(type_id), submitted_at, LIMITS)
    values: dict[str, Any] = {
        "number": "C-1",
        "user_id": 7,
        "type_id": type_id,
        "target": "wxid_target1",
        "target_key": "wxid_target1",
        "description": "a mistaken complaint",
        "evidence": (photo(submitted_at),),
        "language": "en",
        "stage": stage,
        "submitted_at": submitted_at,
        **deadlines,
    }
    if stage is Stage.REVOKED:
        values["revoked_at"] = submitted_at + timedelta(minutes=1)
    values.update(fields)
    return ComplaintRecord(**values)


def decide_at(record: ComplaintRecord, after: timedelta, history: History = NO_HISTORY) -> Decision:
    return decide(ctype(record.type_id), record, record.submitted_at + after, history, LIMITS)


# -- windows ---------------------------------------------------------------------------------


def test_window_ends_of_the_shipped_types() -> None:
    """24 h and 72 h windows end exactly then; 3 working days from Monday 09:00 Shanghai ends
    Thursday 24:00 Shanghai; IP and judicial complaints have no window."""
    ends = {t.id: revocation_window_end(t, SUBMITTED) for t in CATALOG.types}
    assert ends["friend_report"] == SUBMITTED + timedelta(hours=24)
    assert ends["payment"] == SUBMITTED + timedelta(hours=72)
    assert ends["mini_program"] == datetime(2026, 11, 26, 16, tzinfo=UTC)
    assert ends["intellectual_property"] is None
    assert ends["judicial"] is None


@pytest.mark.parametrize("ctype_", REVOCABLE, ids=lambda t: t.id)
@pytest.mark.parametrize("stage", [Stage.MANUAL_REVIEW, Stage.INVESTIGATING])
def test_every_window_closes_on_the_second(ctype_: ComplaintType, stage: Stage) -> None:
    """One second before a type's window ends the request goes to an operator; at the end and
    one second after, it is refused because the window passed (next: customer service)."""
    record = complaint(ctype_.id, stage)
    end = revocation_window_end(ctype_, SUBMITTED)
    assert end is not None
    before = decide(ctype_, record, end - SECOND, NO_HISTORY, LIMITS)
    assert before.channel is Channel.OPERATOR
    assert before.until == before.window_ends == end
    for now in (end, end + SECOND):
        after = decide(ctype_, record, now, NO_HISTORY, LIMITS)
        assert after.channel is Channel.REFUSED
        assert after.rule == "policy.rule.window_passed"
        assert after.next_steps == ("policy.next.customer_service",)
        assert after.until is None
        assert after.window_ends == end


def test_the_stored_window_wins_over_a_changed_catalog() -> None:
    """The window stored at submission decides: a later catalog change does not move it."""
    record = complaint("friend_report", Stage.MANUAL_REVIEW)
    record = record.model_copy(update={"revocable_until": SUBMITTED + timedelta(hours=5)})
    assert decide_at(record, timedelta(hours=5) - SECOND).channel is Channel.OPERATOR
    assert decide_at(record, timedelta(hours=5)).rule == "policy.rule.window_passed"


def test_a_record_without_a_stored_window_uses_the_catalog() -> None:
    """A record built before deadlines were stored falls back to the type's rule."""
    record = complaint("friend_report", Stage.MANUAL_REVIEW, revocable_until=None)
    assert decide_at(record, timedelta(hours=24) - SECOND).channel is Channel.OPERATOR
    assert decide_at(record, timedelta(hours=24)).rule == "policy.rule.window_passed"


# -- channels --------------------------------------------------------------------------------


def test_friend_report_is_self_service_for_the_first_two_hours() -> None:
    """Pending: self-service at 1:59:59 (until the end of the pending stage); at 2:00:00, even
    before the sweeper moved the stage, an operator decides."""
    record = complaint("friend_report")
    early = decide_at(record, timedelta(hours=2) - SECOND)
    assert early.channel is Channel.SELF_SERVICE
    assert early.rule == "policy.rule.self_service"
    assert early.until == SUBMITTED + timedelta(hours=2)
    assert early.window_ends == SUBMITTED + timedelta(hours=24)
    assert not early.flagged
    late = decide_at(record, timedelta(hours=2))
    assert late.channel is Channel.OPERATOR
    assert late.rule == "policy.rule.manual_review"
    assert late.until == SUBMITTED + timedelta(hours=24)


def test_picked_up_early_is_no_longer_self_service() -> None:
    """An operator picked it up at 10 minutes: manual review, so an operator decides."""
    record = complaint("friend_report", Stage.MANUAL_REVIEW)
    decision = decide_at(record, timedelta(minutes=15))
    assert (decision.channel, decision.rule) == (Channel.OPERATOR, "policy.rule.manual_review")


def test_self_service_until_is_the_window_end_when_it_comes_first() -> None:
    """A window shorter than the pending stage bounds self-service."""
    record = complaint("friend_report", revocable_until=SUBMITTED + timedelta(hours=1))
    assert decide_at(record, timedelta(minutes=5)).until == SUBMITTED + timedelta(hours=1)


@pytest.mark.parametrize("after", [timedelta(minutes=1), timedelta(hours=1, minutes=59)])
def test_payment_is_never_self_service(after: timedelta) -> None:
    """Funds are involved: even at minute 1 a payment revocation goes to an operator (AML)."""
    decision = decide_at(complaint("payment"), after)
    assert decision.channel is Channel.OPERATOR
    assert decision.rule == "policy.rule.type_operator"
    assert decision.until == SUBMITTED + timedelta(hours=72)


def test_payment_at_30_hours_without_a_result_goes_to_an_operator() -> None:
    """The spec's example: a payment dispute can still be revoked through an operator at 30 h."""
    for stage in (Stage.MANUAL_REVIEW, Stage.ACCEPTED, Stage.INVESTIGATING):
        decision = decide_at(complaint("payment", stage), timedelta(hours=30))
        assert decision.channel is Channel.OPERATOR
        assert decision.rule == "policy.rule.type_operator"


def test_a_reported_loss_is_never_self_service() -> None:
    """The other party suffered a loss: an operator decides even while pending."""
    decision = decide_at(complaint("friend_report", loss_reported=True), timedelta(minutes=5))
    assert (decision.channel, decision.rule) == (Channel.OPERATOR, "policy.rule.loss_operator")


@pytest.mark.parametrize("type_id", ["intellectual_property", "judicial"])
@pytest.mark.parametrize("after", [timedelta(0), timedelta(minutes=1), timedelta(days=5)])
def test_ip_and_judicial_are_never_revocable(type_id: str, after: timedelta) -> None:
    """Refused at any time and stage; judicial points to the legal route, IP to escalation."""
    for stage in (Stage.PENDING, Stage.INVESTIGATING):
        decision = decide_at(complaint(type_id, stage), after)
        assert decision.channel is Channel.REFUSED
        assert decision.rule == "policy.rule.not_revocable"
        assert decision.window_ends is None
        expected = (
            "policy.next.legal_route" if type_id == "judicial" else "policy.next.customer_service"
        )
        assert decision.next_steps == (expected,)


def test_a_result_is_irreversible_and_offers_a_review() -> None:
    """After a result: refused; the user may request a review (once), then customer service."""
    given_ = decide_at(complaint("payment", Stage.RESULT_GIVEN), timedelta(hours=3))
    assert (given_.channel, given_.rule) == (Channel.REFUSED, "policy.rule.has_result")
    assert given_.next_steps == ("policy.next.request_review",)
    reviewed = complaint("payment", Stage.RESULT_GIVEN, reviews_requested=1)
    assert decide_at(reviewed, timedelta(hours=3)).next_steps == ("policy.next.customer_service",)
    under_review = complaint("payment", Stage.REVIEW_REQUESTED, reviews_requested=1)
    decision = decide_at(under_review, timedelta(hours=3))
    assert decision.rule == "policy.rule.has_result"
    assert decision.next_steps == ("policy.next.customer_service",)


def test_already_revoked() -> None:
    """A revoked complaint cannot be revoked again."""
    decision = decide_at(complaint("friend_report", Stage.REVOKED), timedelta(minutes=5))
    assert (decision.channel, decision.rule) == (Channel.REFUSED, "policy.rule.already_revoked")


def test_an_open_request_is_refused_and_shown() -> None:
    """One open request per complaint: asking again points to following the open one."""
    history = History(revocations_this_month=1, open_request="R-1")
    decision = decide_at(
        complaint("friend_report", Stage.MANUAL_REVIEW), timedelta(hours=3), history
    )
    assert (decision.channel, decision.rule) == (Channel.REFUSED, "policy.rule.request_open")
    assert decision.next_steps == ("policy.next.follow_request",)


def test_the_fourth_revocation_in_a_month_is_flagged() -> None:
    """Three this month: the next is flagged for risk review and never self-service; with two,
    self-service still works."""
    record = complaint("friend_report")
    third = decide_at(record, timedelta(minutes=5), History(2, None))
    assert (third.channel, third.flagged) == (Channel.SELF_SERVICE, False)
    fourth = decide_at(record, timedelta(minutes=5), History(3, None))
    assert fourth.channel is Channel.OPERATOR
    assert fourth.rule == "policy.rule.risk_review"
    assert fourth.flagged
    assert fourth.until == SUBMITTED + timedelta(hours=24)
    payment = decide_at(complaint("payment"), timedelta(minutes=5), History(5, None))
    assert (payment.rule, payment.flagged) == ("policy.rule.type_operator", True)


def _history(revocations: list[datetime], now: datetime) -> History:
    """Count the account's revocations the way the engine does: in the Shanghai month of now."""
    start, end = month_bounds(now)
    return History(sum(start <= at < end for at in revocations), None)


def test_the_monthly_limit_counts_the_shanghai_month() -> None:
    """2026-11-30T17:30Z is Dec 1 01:30 in Shanghai: that revocation counts in December, so with
    two more in December the next one is the 4th and flagged; one at 2026-11-30T15:30Z
    (Nov 30 23:30 Shanghai) counts in November and does not."""
    december = [
        datetime(2026, 11, 30, 17, 30, tzinfo=UTC),
        datetime(2026, 12, 3, tzinfo=UTC),
        datetime(2026, 12, 4, tzinfo=UTC),
    ]
    submitted = datetime(2026, 12, 7, 1, tzinfo=UTC)
    now = submitted + timedelta(minutes=5)
    record = complaint("friend_report", submitted_at=submitted)
    history = _history(december, now)
    assert history.revocations_this_month == 3
    flagged = decide(ctype("friend_report"), record, now, history, LIMITS)
    assert (flagged.channel, flagged.flagged) == (Channel.OPERATOR, True)

    november = [datetime(2026, 11, 30, 15, 30, tzinfo=UTC), *december[1:]]
    history = _history(november, now)
    assert history.revocations_this_month == 2
    assert decide(ctype("friend_report"), record, now, history, LIMITS).channel is (
        Channel.SELF_SERVICE
    )


# -- properties ------------------------------------------------------------------------------

RESULTS = (Stage.RESULT_GIVEN, Stage.REVIEW_REQUESTED, Stage.REVOKED)


@settings(max_examples=400, deadline=None, database=None)
@given(
    ctype_=st.sampled_from(CATALOG.types),
    stage=st.sampled_from(list(Stage)),
    submitted=st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=datetime(2027, 12, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    offset=st.integers(min_value=-3600, max_value=10 * 86400),
    revocations=st.integers(min_value=0, max_value=6),
    open_request=st.sampled_from([None, "R-1"]),
    loss=st.booleans(),
    reviews=st.integers(min_value=0, max_value=1),
)
def test_decision_invariants(
    ctype_: ComplaintType,
    stage: Stage,
    submitted: datetime,
    offset: int,
    revocations: int,
    open_request: str | None,
    loss: bool,
    reviews: int,
) -> None:
    """For every type, stage, time (-1 h .. +10 days) and history: self-service only for a
    self-service type, pending, in the first 2 h and not flagged; nothing but a refusal at or
    after the window end, and `until` never after it; non-revocable types, results and revoked
    complaints always refused; a rule key always; `until` None exactly when refused."""
    record = complaint(ctype_.id, stage, submitted, loss_reported=loss, reviews_requested=reviews)
    now = submitted + timedelta(seconds=offset)
    history = History(revocations, open_request)
    decision = decide(ctype_, record, now, history, LIMITS)
    end = revocation_window_end(ctype_, submitted)

    assert decision.rule.startswith("policy.rule.")
    assert (decision.until is None) == (decision.channel is Channel.REFUSED)
    if decision.channel is Channel.SELF_SERVICE:
        assert ctype_.revocation.self_service
        assert stage is Stage.PENDING
        assert now < submitted + timedelta(hours=LIMITS.auto_review_hours)
        assert not decision.flagged
        assert not loss
        assert revocations < LIMITS.monthly_revocation_requests
    if decision.channel is not Channel.REFUSED:
        assert end is not None
        assert now < end
        assert decision.until is not None
        assert decision.until <= end
        assert open_request is None
        assert decision.flagged == (revocations >= LIMITS.monthly_revocation_requests)
    if not ctype_.revocation.revocable or stage in RESULTS:
        assert decision.channel is Channel.REFUSED
    else:
        assert decision.window_ends == end


# -- materials -------------------------------------------------------------------------------

R = RevocationReason
K = AccountKind


@pytest.mark.parametrize(
    ("reason", "kind", "evidence", "expected"),
    [
        (R.WRONG_TARGET, K.PERSONAL, "files", ("material.identity",)),
        (R.MISOPERATION, K.PERSONAL, "files", ("material.identity", "material.screen_recording")),
        (R.SETTLED, K.PERSONAL, "text", ("material.identity", "material.statement")),
        (R.OTHER, K.PERSONAL, "none", ("material.identity", "material.statement")),
        (R.WRONG_TARGET, K.HK_MACAU, "files", ("material.passport",)),
        (
            R.MISOPERATION,
            K.HK_MACAU,
            "text",
            ("material.passport", "material.screen_recording", "material.statement"),
        ),
        (R.OTHER, K.ENTERPRISE, "files", ("material.identity", "material.business_licence")),
        (
            R.MISOPERATION,
            K.ENTERPRISE,
            "mixed",
            (
                "material.identity",
                "material.screen_recording",
                "material.statement",
                "material.business_licence",
            ),
        ),
    ],
)
def test_required_materials(
    reason: RevocationReason, kind: AccountKind, evidence: str, expected: tuple[str, ...]
) -> None:
    """Identity always (a passport page for Hong Kong / Macau); a screen recording for a
    misoperation; a written statement for a text complaint (some evidence is a text record, or
    none at all); a business licence for an enterprise."""
    items = {
        "files": (photo(),),
        "text": (text_record(),),
        "none": (),
        "mixed": (photo(), text_record()),
    }[evidence]
    record = complaint("friend_report", evidence=items)
    assert required_materials(reason, kind, record) == expected


def test_a_forwarded_text_message_makes_a_text_complaint() -> None:
    """A forwarded message without a file is a text record; a forwarded photo is not."""
    text_forward = EvidenceItem(kind=EvidenceKind.FORWARD, text="hi", received_at=SUBMITTED)
    file_forward = EvidenceItem(kind=EvidenceKind.FORWARD, file_id="f2", received_at=SUBMITTED)
    with_text = complaint("friend_report", evidence=(text_forward,))
    with_file = complaint("friend_report", evidence=(file_forward,))
    assert "material.statement" in (required_materials(R.OTHER, K.PERSONAL, with_text) or ())
    assert required_materials(R.OTHER, K.PERSONAL, with_file) == ("material.identity",)


@pytest.mark.parametrize("reason", list(RevocationReason))
def test_a_minor_takes_no_request(reason: RevocationReason) -> None:
    """A minor's guardian must go in person: no materials, no request."""
    assert required_materials(reason, K.MINOR, complaint("friend_report")) is None


# -- appeals ---------------------------------------------------------------------------------


def test_can_appeal_after_a_result() -> None:
    """A result given and no review yet: the user may appeal, up to the daily limit."""
    record = complaint("payment", Stage.RESULT_GIVEN)
    assert can_appeal(record, 0, LIMITS) is None
    assert can_appeal(record, LIMITS.daily_appeals - 1, LIMITS) is None
    assert can_appeal(record, LIMITS.daily_appeals, LIMITS) == "policy.appeal.daily_limit"


@pytest.mark.parametrize(
    "stage",
    [Stage.PENDING, Stage.MANUAL_REVIEW, Stage.ACCEPTED, Stage.INVESTIGATING, Stage.REVOKED],
)
def test_no_appeal_without_a_result(stage: Stage) -> None:
    """Nothing to appeal before a result (or after a revocation)."""
    assert can_appeal(complaint("payment", stage), 0, LIMITS) == "policy.appeal.no_result"


def test_one_review_per_complaint() -> None:
    """Under review, or a second result after the review: no further appeal."""
    under_review = complaint("payment", Stage.REVIEW_REQUESTED, reviews_requested=1)
    second_result = complaint("payment", Stage.RESULT_GIVEN, reviews_requested=1)
    for record in (under_review, second_result):
        assert can_appeal(record, 0, LIMITS) == "policy.appeal.already_reviewed"
