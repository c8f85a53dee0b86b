"""A complaint's shared logic, used by every feature: create it with its deadlines, save it with
its version check, ask the policy what its author may do now, draw fresh numbers, name its type.

Feature modules import this; this imports no feature.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flows import lifecycle, policy
from flows.calendar import month_bounds
from flows.catalog import Catalog, ComplaintType
from flows.context import Context
from flows.policy import Decision, History
from flows.ports import Tx
from flows.records import ComplaintRecord, TimelineEntry


def target_key(target: str) -> str:
    """The key duplicates are compared by: case, spaces and a leading @ do not matter."""
    return "".join(target.split()).casefold().lstrip("@")


def with_deadlines(complaint: ComplaintRecord, catalog: Catalog) -> ComplaintRecord:
    """The complaint as stored at submission: its deadlines and first timeline entry."""
    ctype = catalog.type(complaint.type_id)
    assert ctype is not None
    entry = TimelineEntry(at=complaint.submitted_at, kind="submitted", actor=complaint.user_id)
    deadlines = lifecycle.new_deadlines(ctype, complaint.submitted_at, catalog.limits)
    return complaint.model_copy(update={**deadlines, "timeline": (entry,)})


def save(tx: Tx, before: ComplaintRecord, after: ComplaintRecord) -> None:
    """Store `after` with the version check (a concurrent change rolls the whole update back)."""
    tx.update_complaint(after.model_copy(update={"version": before.version + 1}), before.version)


def add_to_timeline(complaint: ComplaintRecord, entry: TimelineEntry) -> ComplaintRecord:
    return complaint.model_copy(update={"timeline": (*complaint.timeline, entry)})


def complaint_type(catalog: Catalog, complaint: ComplaintRecord) -> ComplaintType:
    ctype = catalog.type(complaint.type_id)
    assert ctype is not None, "a stored complaint's type is in the catalog"
    return ctype


def decision(tx: Tx, catalog: Catalog, complaint: ComplaintRecord, now: datetime) -> Decision:
    """What the policy allows the complaint's author now (their month's revocations counted)."""
    start, end = month_bounds(now)
    request = tx.open_request_for(complaint.number)
    history = History(
        revocations_this_month=tx.revocations_in(complaint.user_id, start, end),
        open_request=request.number if request else None,
    )
    ctype = complaint_type(catalog, complaint)
    return policy.decide(ctype, complaint, now, history, catalog.limits)


def fresh_number(ctx: Context, unused: Callable[[str], bool] | None = None) -> str:
    """A random number not used yet (by a complaint, unless `unused` says otherwise)."""
    is_unused = unused or (lambda n: ctx.tx.get_complaint(n) is None)
    for _ in range(8):
        number = ctx.rules.new_number(ctx.now)
        if is_unused(number):
            return number
    raise RuntimeError("could not draw an unused number")  # pragma: no cover


def title(catalog: Catalog, type_id: str) -> dict[str, str]:
    """A complaint type's title in every language (its id where the catalog no longer knows it)."""
    ctype = catalog.type(type_id)
    return ctype.title.as_dict() if ctype else dict.fromkeys(catalog.languages, type_id)
