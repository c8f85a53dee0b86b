"""Following a complaint: the list, the detail with its timeline and what can be done now."""

from __future__ import annotations

from flows.catalog import Catalog
from flows.events import Command, Tap
from flows.records import ComplaintRecord, TimelineEntry
from flows.step import Step


def with_deadlines(complaint: ComplaintRecord, catalog: Catalog) -> ComplaintRecord:
    """The complaint as stored at submission: its first timeline entry (deadlines: later)."""
    entry = TimelineEntry(at=complaint.submitted_at, kind="submitted", actor=complaint.user_id)
    return complaint.model_copy(update={"timeline": (entry,)})


def list_command(step: Step, command: Command) -> None:
    step.notice("errors.button_invalid")


def on_tap(step: Step, tap: Tap) -> None:
    step.notice("errors.button_invalid", alert=True)
