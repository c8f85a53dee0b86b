"""The deadline sweeper: fires what stored due times say is due, idempotently.

Each due item is applied at its own due time (a sweep that runs late still writes the timeline
as it should have happened); notifications go to the outbox in the same transaction, and the
due time is cleared with them, so a reminder is sent once, also across restarts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flows import complaints, explain, lifecycle, privacy
from flows.context import Rules, notification
from flows.policy import Channel
from flows.ports import Tx
from flows.records import ComplaintRecord, Stage
from flows.timefmt import at, span

# Telegram keeps an update for at most 24 h; an id seen longer ago than this cannot come back.
REMEMBER_UPDATES = timedelta(hours=48)


def sweep(tx: Tx, now: datetime, rules: Rules, batch: int = 100) -> datetime | None:
    """Fire everything due by `now`; return when the next thing falls due (None: nothing)."""
    tx.prune_updates(now - REMEMBER_UPDATES)
    privacy.purge(tx, now, rules)
    for complaint in tx.due_complaints(now, batch):
        updated = _auto_review(tx, complaint, now, rules)
        updated = _remind(tx, updated, now, rules)
        if updated is not complaint:
            complaints.save(tx, complaint, updated)
    return tx.next_deadline()


def _auto_review(
    tx: Tx, complaint: ComplaintRecord, now: datetime, rules: Rules
) -> ComplaintRecord:
    due = complaint.review_due_at
    if due is None or due > now:
        return complaint
    moved = lifecycle.apply(complaint, "auto_review", due)
    if moved is None:  # no longer pending: just forget the due time
        return complaint.model_copy(update={"review_due_at": None})
    if moved.stage is Stage.MANUAL_REVIEW:
        can = explain.withdrawal_now_for(tx, rules.catalog, moved, due)
        tx.enqueue(
            notification(
                complaint.user_id, "notify.manual_review", due, number=complaint.number, can=can
            )
        )
    return moved


def _remind(tx: Tx, complaint: ComplaintRecord, now: datetime, rules: Rules) -> ComplaintRecord:
    due = complaint.remind_at
    if due is None or due > now:
        return complaint
    reminded = lifecycle.apply(complaint, "remind", due)
    if reminded is None:
        return complaint.model_copy(update={"remind_at": None})
    if rules.catalog.type(complaint.type_id) is None:
        return reminded
    decision = complaints.decision(tx, rules.catalog, complaint, due)
    closes = decision.window_ends
    if decision.channel is not Channel.REFUSED and closes is not None and closes > now:
        # (a sweep running late, after the window closed, sends no reminder at all)
        tx.enqueue(
            notification(
                complaint.user_id,
                "notify.reminder",
                due,
                number=complaint.number,
                until=at(closes),
                left=span(closes - due),
            )
        )
    return reminded
