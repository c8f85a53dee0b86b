"""A complaint's life as a state machine over the stored record: stages, guards, timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flows.catalog import load_catalog
from flows.lifecycle import MACHINE, TRANSITIONS, allowed, apply, new_deadlines
from flows.records import ComplaintRecord, Stage

CATALOG = load_catalog()
LIMITS = CATALOG.limits
SUBMITTED = datetime(2026, 11, 23, 1, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
OPERATOR = 9001
USER = 7


def complaint(type_id: str = "friend_report", **fields: Any) -> ComplaintRecord:
    ctype = CATALOG.type(type_id)
    assert ctype is not None
    values: dict[str, Any] = {
        "number": "C-1",
        "user_id": USER,
        "type_id": type_id,
        "target": "wxid_target1",
        "target_key": "wxid_target1",
        "description": "a complaint about something",
        "language": "en",
        "submitted_at": SUBMITTED,
        **new_deadlines(ctype, SUBMITTED, LIMITS),
        **fields,
    }
    return ComplaintRecord(**values)


def at(**delta: float) -> datetime:
    return SUBMITTED + timedelta(**delta)


def step(
    record: ComplaintRecord, trigger: str, now: datetime, actor: int | None = None, text: str = ""
) -> ComplaintRecord:
    moved = apply(record, trigger, now, actor=actor, text=text)
    assert moved is not None, f"{trigger} refused in {record.stage}"
    return moved


def kinds(record: ComplaintRecord) -> list[str]:
    return [entry.kind for entry in record.timeline]


# -- deadlines -------------------------------------------------------------------------------


def test_new_deadlines() -> None:
    """Review at +2 h; the window from the catalog; the reminder one hour before it closes."""
    friend = CATALOG.type("friend_report")
    assert friend is not None
    assert new_deadlines(friend, SUBMITTED, LIMITS) == {
        "review_due_at": at(hours=2),
        "revocable_until": at(hours=24),
        "remind_at": at(hours=23),
    }
    mini = CATALOG.type("mini_program")
    assert mini is not None
    assert new_deadlines(mini, SUBMITTED, LIMITS)["remind_at"] == datetime(
        2026, 11, 26, 15, tzinfo=UTC
    )


def test_no_reminder_without_a_window_or_when_it_would_precede_submission() -> None:
    """Never revocable: no window, no reminder. A window shorter than the reminder lead: none."""
    ip = CATALOG.type("intellectual_property")
    assert ip is not None
    deadlines = new_deadlines(ip, SUBMITTED, LIMITS)
    assert deadlines["revocable_until"] is None
    assert deadlines["remind_at"] is None
    friend = CATALOG.type("friend_report")
    assert friend is not None
    long_lead = LIMITS.model_copy(update={"reminder_minutes_before": 24 * 60})
    assert new_deadlines(friend, SUBMITTED, long_lead)["remind_at"] is None


# -- the happy path --------------------------------------------------------------------------


def test_the_happy_path_with_one_review() -> None:
    """pending -> manual_review (sweeper) -> accepted -> investigating -> result_given ->
    review_requested -> result_given, each step with its timeline entry; the record's version
    is left to the caller."""
    record = complaint("payment")
    record = step(record, "auto_review", at(hours=2))
    assert record.stage is Stage.MANUAL_REVIEW
    assert record.review_due_at is None
    record = step(record, "accept", at(hours=3), OPERATOR)
    assert record.stage is Stage.ACCEPTED
    assert record.operator_id == OPERATOR
    record = step(record, "investigate", at(hours=4), OPERATOR)
    assert record.stage is Stage.INVESTIGATING
    record = step(record, "give_result", at(hours=5), OPERATOR, "  Refunded.  ")
    assert record.stage is Stage.RESULT_GIVEN
    assert record.result_text == "Refunded."
    assert record.remind_at is None
    record = step(record, "request_review", at(hours=6), USER)
    assert record.stage is Stage.REVIEW_REQUESTED
    assert record.reviews_requested == 1
    record = step(record, "give_result", at(hours=7), OPERATOR, "Confirmed after review.")
    assert record.stage is Stage.RESULT_GIVEN
    assert record.result_text == "Confirmed after review."
    assert kinds(record) == [
        "manual_review",
        "accepted",
        "investigating",
        "result_given",
        "review_requested",
        "result_given",
    ]
    first, *_, last = record.timeline
    assert (first.at, first.actor) == (at(hours=2), None)
    assert (last.at, last.actor, last.text) == (at(hours=7), OPERATOR, "Confirmed after review.")
    assert record.version == 0


def test_the_sweeper_waits_for_the_review_deadline() -> None:
    """auto_review before review_due_at is refused; at it, the complaint moves."""
    record = complaint()
    assert apply(record, "auto_review", at(hours=2) - timedelta(seconds=1)) is None
    assert step(record, "auto_review", at(hours=2)).stage is Stage.MANUAL_REVIEW


def test_pick_up_before_two_hours_moves_to_manual_review() -> None:
    """Whichever comes first: an operator picking it up at 30 min moves it to manual review,
    records who, and cancels the sweeper's move."""
    record = step(complaint(), "pick_up", at(minutes=30), OPERATOR)
    assert record.stage is Stage.MANUAL_REVIEW
    assert record.operator_id == OPERATOR
    assert record.review_due_at is None
    assert kinds(record) == ["picked_up"]
    assert record.timeline[0].actor == OPERATOR
    assert apply(record, "auto_review", at(hours=2)) is None


def test_pick_up_needs_an_operator() -> None:
    """Without an actor there is nobody to pick it up."""
    assert apply(complaint(), "pick_up", at(minutes=30)) is None


def test_another_operator_can_take_it_over_in_manual_review() -> None:
    """pick_up in manual review reassigns it."""
    record = step(complaint(), "pick_up", at(minutes=30), OPERATOR)
    record = step(record, "pick_up", at(minutes=40), OPERATOR + 1)
    assert record.operator_id == OPERATOR + 1
    assert kinds(record) == ["picked_up", "picked_up"]


def test_a_result_needs_a_text() -> None:
    """give_result with a blank text is refused."""
    record = complaint(stage=Stage.INVESTIGATING)
    assert apply(record, "give_result", at(hours=5), actor=OPERATOR, text="   ") is None


# -- revocation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stage", [Stage.PENDING, Stage.MANUAL_REVIEW, Stage.ACCEPTED, Stage.INVESTIGATING]
)
def test_revoke_before_a_result(stage: Stage) -> None:
    """From pending (self-service) or later open stages (operator-approved): revoked, with the
    time, the actor, the text, and no deadline left for the sweeper."""
    record = step(complaint(stage=stage), "revoke", at(hours=1), USER, "wrong person")
    assert record.stage is Stage.REVOKED
    assert record.revoked_at == at(hours=1)
    assert (record.review_due_at, record.remind_at, record.revocable_until) == (None, None, None)
    entry = record.timeline[-1]
    assert (entry.kind, entry.actor, entry.text) == ("revoked", USER, "wrong person")


@pytest.mark.parametrize("stage", [Stage.RESULT_GIVEN, Stage.REVIEW_REQUESTED, Stage.REVOKED])
def test_revoke_refused_after_a_result(stage: Stage) -> None:
    """A result is irreversible; a revoked complaint stays revoked."""
    assert apply(complaint(stage=stage), "revoke", at(hours=1), actor=USER) is None


def test_request_review_only_once() -> None:
    """One review per complaint: after the second result no further review."""
    record = complaint(stage=Stage.RESULT_GIVEN, result_text="No.")
    record = step(record, "request_review", at(hours=6), USER)
    record = step(record, "give_result", at(hours=7), OPERATOR, "Still no.")
    assert apply(record, "request_review", at(hours=8), actor=USER) is None
    assert record.reviews_requested == 1


# -- internal events -------------------------------------------------------------------------


def test_remind_only_once_and_only_when_due() -> None:
    """The reminder fires at remind_at, keeps the stage, and clears itself: never twice."""
    record = complaint(stage=Stage.MANUAL_REVIEW)
    assert apply(record, "remind", at(hours=22)) is None
    reminded = step(record, "remind", at(hours=23))
    assert reminded.stage is Stage.MANUAL_REVIEW
    assert reminded.remind_at is None
    assert kinds(reminded) == ["reminder_sent"]
    assert apply(reminded, "remind", at(hours=23, minutes=1)) is None


def test_report_loss_keeps_the_stage_once() -> None:
    """A reported loss is recorded once, without moving the complaint."""
    record = step(complaint(stage=Stage.ACCEPTED), "report_loss", at(hours=3), OPERATOR, "lost 50")
    assert record.stage is Stage.ACCEPTED
    assert record.loss_reported
    assert kinds(record) == ["loss_reported"]
    assert apply(record, "report_loss", at(hours=4), actor=OPERATOR) is None


def test_unknown_triggers_are_refused() -> None:
    """A trigger the table does not know is simply not allowed."""
    assert apply(complaint(), "explode", at(hours=1)) is None


# -- buttons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        (Stage.PENDING, ["pick_up"]),
        (Stage.MANUAL_REVIEW, ["pick_up", "accept"]),
        (Stage.ACCEPTED, ["investigate"]),
        (Stage.INVESTIGATING, ["give_result"]),
        (Stage.RESULT_GIVEN, []),
        (Stage.REVIEW_REQUESTED, ["give_result"]),
        (Stage.REVOKED, []),
    ],
)
def test_allowed_operator_triggers(stage: Stage, expected: list[str]) -> None:
    """The operator's buttons follow the stage."""
    assert allowed(complaint(stage=stage)) == expected


# -- the table -------------------------------------------------------------------------------

# For each trigger: the arguments and the time that satisfy its guards.
_ARGS: dict[str, dict[str, Any]] = {
    "auto_review": {},
    "pick_up": {"actor": OPERATOR},
    "accept": {"actor": OPERATOR},
    "investigate": {"actor": OPERATOR},
    "give_result": {"actor": OPERATOR, "text": "Result."},
    "request_review": {"actor": USER},
    "revoke": {"actor": USER, "text": "mistake"},
    "report_loss": {"actor": OPERATOR},
    "remind": {},
}


def _sources(row: dict[str, Any]) -> list[Stage]:
    source = row["source"]
    return list(source) if isinstance(source, list) else [source]


def test_every_row_of_the_table_is_reachable() -> None:
    """Every (trigger, source) pair of TRANSITIONS fires on a record in that stage and lands in
    the row's destination (or stays, for internal rows), with one timeline entry appended."""
    assert {row["trigger"] for row in TRANSITIONS} == set(_ARGS)
    fired = 0
    for row in TRANSITIONS:
        for source in _sources(row):
            record = complaint(stage=source)
            moved = apply(record, row["trigger"], at(hours=23), **_ARGS[row["trigger"]])
            assert moved is not None, (row["trigger"], source)
            assert moved.stage is (row["dest"] or source)
            assert len(moved.timeline) == len(record.timeline) + 1
            fired += 1
    assert fired == sum(len(_sources(row)) for row in TRANSITIONS)


def test_the_machine_has_every_stage_and_no_auto_transitions() -> None:
    """States are exactly the stored stages; no `to_<state>` triggers exist."""
    assert set(MACHINE.states) == {s.name for s in Stage}
    every = {t for s in Stage for t in MACHINE.get_triggers(s.name)}
    assert every == set(_ARGS)
