"""A complaint's life (spec section 5) as one transitions machine over the stored complaint.

    pending --auto_review (2 h) / pick_up (operator)--> manual_review --accept--> accepted
    --investigate--> investigating --give_result--> result_given --request_review (once)-->
    review_requested --give_result--> result_given;  revoke: any stage before a result -> revoked

Like the filing flow: ONE module-level `Machine` (`MACHINE`), never bound to a model; `apply`
builds a throwaway `LifeModel` from a `ComplaintRecord`, fires one trigger and builds the new
record from it, with one timeline entry appended. Guards are plain predicates of the event;
callbacks only record changes. `apply` does not bump `version`: the caller (storage's
compare-and-swap) does. Whether a revocation is *allowed* is `flows.policy`'s question; this
machine only knows in which stages a complaint can still be revoked at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from transitions import EventData

from flows.catalog import ComplaintType, Limits
from flows.machines import shared_machine
from flows.policy import revocation_window_end
from flows.records import ComplaintRecord, Stage, TimelineEntry


class LifeModel:
    """The throwaway machine model for one trigger."""

    __slots__ = ("changes", "complaint", "entry", "now", "state")

    def __init__(self, complaint: ComplaintRecord, now: datetime) -> None:
        self.complaint = complaint
        self.state = complaint.stage
        self.now = now
        self.changes: dict[str, Any] = {}
        self.entry: TimelineEntry | None = None

    def record(self, kind: str, ev: EventData, text: str = "") -> None:
        self.entry = TimelineEntry(at=self.now, kind=kind, actor=ev.kwargs.get("actor"), text=text)


def _m(ev: EventData) -> LifeModel:
    return cast(LifeModel, ev.model)


# -- guards ------------------------------------------------------------------------------------


def review_due(ev: EventData) -> bool:
    """The automatic review period is over (a record without the deadline moves at once)."""
    m = _m(ev)
    due = m.complaint.review_due_at
    return due is None or m.now >= due


def has_actor(ev: EventData) -> bool:
    return ev.kwargs.get("actor") is not None


def has_text(ev: EventData) -> bool:
    return bool(str(ev.kwargs.get("text", "")).strip())


def not_reviewed_yet(ev: EventData) -> bool:
    """One review per complaint."""
    return _m(ev).complaint.reviews_requested == 0


def loss_not_reported(ev: EventData) -> bool:
    return not _m(ev).complaint.loss_reported


def reminder_due(ev: EventData) -> bool:
    """The one reminder is still to be sent and its time has come."""
    m = _m(ev)
    at = m.complaint.remind_at
    return at is not None and m.now >= at


# -- callbacks ---------------------------------------------------------------------------------


def to_manual_review(ev: EventData) -> None:
    m = _m(ev)
    m.changes["review_due_at"] = None
    m.record("manual_review", ev)


def picked_up(ev: EventData) -> None:
    m = _m(ev)
    m.changes.update(operator_id=ev.kwargs["actor"], review_due_at=None)
    m.record("picked_up", ev)


def _operator_step(kind: str) -> Any:
    def callback(ev: EventData) -> None:
        m = _m(ev)
        actor = ev.kwargs.get("actor")
        if m.complaint.operator_id is None and actor is not None:
            m.changes["operator_id"] = actor
        m.record(kind, ev)

    callback.__name__ = kind
    return callback


accepted = _operator_step("accepted")
investigating = _operator_step("investigating")


def result_given(ev: EventData) -> None:
    m = _m(ev)
    text = str(ev.kwargs["text"]).strip()
    m.changes.update(result_text=text, remind_at=None)
    m.record("result_given", ev, text)


def review_requested(ev: EventData) -> None:
    m = _m(ev)
    m.changes["reviews_requested"] = m.complaint.reviews_requested + 1
    m.record("review_requested", ev, str(ev.kwargs.get("text", "")))


def revoked(ev: EventData) -> None:
    m = _m(ev)
    m.changes.update(revoked_at=m.now, review_due_at=None, revocable_until=None, remind_at=None)
    m.record("revoked", ev, str(ev.kwargs.get("text", "")))


def loss_reported(ev: EventData) -> None:
    m = _m(ev)
    m.changes["loss_reported"] = True
    m.record("loss_reported", ev, str(ev.kwargs.get("text", "")))


def reminder_sent(ev: EventData) -> None:
    m = _m(ev)
    m.changes["remind_at"] = None
    m.record("reminder_sent", ev)


# -- the table ---------------------------------------------------------------------------------

PENDING, MANUAL, ACCEPTED, INVESTIGATING, RESULT, REVIEW, REVOKED = Stage
REVOCABLE_STAGES = [PENDING, MANUAL, ACCEPTED, INVESTIGATING]  # before any result
NOT_REVOKED = [s for s in Stage if s is not REVOKED]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "auto_review", "source": PENDING, "dest": MANUAL, "conditions": review_due, "before": to_manual_review},
    {"trigger": "pick_up", "source": [PENDING, MANUAL], "dest": MANUAL, "conditions": has_actor, "before": picked_up},
    {"trigger": "accept", "source": MANUAL, "dest": ACCEPTED, "before": accepted},
    {"trigger": "investigate", "source": ACCEPTED, "dest": INVESTIGATING, "before": investigating},
    {"trigger": "give_result", "source": [INVESTIGATING, REVIEW], "dest": RESULT, "conditions": has_text, "before": result_given},
    {"trigger": "request_review", "source": RESULT, "dest": REVIEW, "conditions": not_reviewed_yet, "before": review_requested},
    {"trigger": "revoke", "source": REVOCABLE_STAGES, "dest": REVOKED, "before": revoked},
    {"trigger": "report_loss", "source": NOT_REVOKED, "dest": None, "conditions": loss_not_reported, "after": loss_reported},
    {"trigger": "remind", "source": REVOCABLE_STAGES, "dest": None, "conditions": reminder_due, "after": reminder_sent},
]  # fmt: skip

MACHINE = shared_machine(Stage, TRANSITIONS)

# The triggers an operator moves a complaint with (buttons), in the order they are shown.
OPERATOR_TRIGGERS = ("pick_up", "accept", "investigate", "give_result")


def apply(
    complaint: ComplaintRecord,
    trigger: str,
    now: datetime,
    *,
    actor: int | None = None,
    text: str = "",
) -> ComplaintRecord | None:
    """Fire `trigger` on `complaint` at `now`; the new record, or None when the trigger is not
    allowed in the complaint's stage or a guard says no.

    `actor`: the operator or user doing it (None: the desk itself, e.g. the sweeper);
    `text`: a result text or a note. The new record has the stage, the changed fields and one
    timeline entry appended; `version` is left for the caller to bump.
    """
    if trigger not in MACHINE.get_triggers(complaint.stage.name):
        return None
    model = LifeModel(complaint, now)
    if not MACHINE.events[trigger].trigger(model, actor=actor, text=text):
        return None
    assert model.entry is not None, f"every row of {trigger!r} records a timeline entry"
    return complaint.model_copy(
        update={
            **model.changes,
            "stage": Stage(model.state),
            "timeline": (*complaint.timeline, model.entry),
        }
    )


def allowed(complaint: ComplaintRecord) -> list[str]:
    """The triggers an operator may fire in the complaint's stage (for buttons), in order.

    By stage only: `give_result` still needs a text, `pick_up` an operator id.
    """
    available = set(MACHINE.get_triggers(complaint.stage.name))
    return [t for t in OPERATOR_TRIGGERS if t in available]


def new_deadlines(
    ctype: ComplaintType, submitted_at: datetime, limits: Limits
) -> dict[str, datetime | None]:
    """The deadlines stored on a complaint at submission (the engine's sweeper fires them).

    `review_due_at`: the end of the automatic review (`limits.auto_review_hours`);
    `revocable_until`: the revocation window's end (None: never revocable);
    `remind_at`: `limits.reminder_minutes_before` before the window closes, or None when that
    would not be after submission (or there is no window).
    """
    until = revocation_window_end(ctype, submitted_at)
    remind = None if until is None else until - timedelta(minutes=limits.reminder_minutes_before)
    return {
        "review_due_at": submitted_at + timedelta(hours=limits.auto_review_hours),
        "revocable_until": until,
        "remind_at": remind if remind is not None and remind > submitted_at else None,
    }
