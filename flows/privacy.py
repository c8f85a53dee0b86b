"""Privacy: what the desk keeps about a person and for how long (`/privacy`), and erasing it on
request (`/deletemydata`, confirmed with a second tap) or when the retention period is over.

Erasing keeps what operators and statistics need, anonymous: a complaint's number, type,
stage and times stay; its target, description, evidence (texts, file ids, names of forwarded
authors), timeline notes and its withdrawal requests' materials go. A timeline entry says it
happened, so an operator's card shows why a complaint is empty.
"""

from __future__ import annotations

from datetime import datetime

from flows import complaints
from flows.context import Context, Rules
from flows.events import Command, Tap
from flows.ports import Tx
from flows.records import ComplaintRecord, TimelineEntry
from flows.registry import Feature
from flows.replies import Button, Reply

SCOPE = "p"
ERASED = "erased"  # the timeline entry written when a complaint's personal data is erased


def summary(ctx: Context, _: Command) -> None:
    ctx.reply(
        Reply(
            "privacy.summary",
            {
                "n": ctx.rules.retention_days,
                "complaints": len(ctx.tx.complaints_of(ctx.user.user_id)),
            },
            buttons=((Button("privacy.button.erase", "ask", scope=SCOPE),),),
        )
    )


def ask(ctx: Context, _: Command | None = None) -> None:
    ctx.reply(
        Reply(
            "privacy.confirm",
            buttons=(
                (
                    Button("privacy.button.erase_now", "erase", scope=SCOPE),
                    Button("privacy.button.keep", "keep", scope=SCOPE),
                ),
            ),
        )
    )


def erase_complaint(tx: Tx, complaint: ComplaintRecord, now: datetime, actor: int | None) -> None:
    """Erase one complaint's personal data and note it on its timeline."""
    tx.erase_complaint(complaint.number)
    entry = TimelineEntry(at=now, kind=ERASED, actor=actor)
    complaints.save(tx, complaint, complaints.add_to_timeline(complaint, entry))


def erase_user(ctx: Context) -> int:
    """Erase everything personal of the sender; how many complaints were touched."""
    mine = [c for c in ctx.tx.complaints_of(ctx.user.user_id) if not _erased(c)]
    for complaint in mine:
        erase_complaint(ctx.tx, complaint, ctx.now, ctx.user.user_id)
    ctx.tx.erase_sent_notifications(ctx.user.user_id)
    ctx.update(draft=None, state="idle")
    ctx.set_task(None)
    ctx.audit("privacy.erased", detail=str(len(mine)))
    ctx.event("privacy.erased", user_id=ctx.user.user_id, complaints=len(mine))
    return len(mine)


def _erased(complaint: ComplaintRecord) -> bool:
    return any(entry.kind == ERASED for entry in complaint.timeline)


def on_tap(ctx: Context, tap: Tap) -> None:
    if tap.action == "ask":
        ask(ctx)
    elif tap.action == "erase":
        ctx.reply(Reply("privacy.erased", {"count": erase_user(ctx)}, edit=True))
    elif tap.action == "keep":
        ctx.reply(Reply("privacy.kept", edit=True))
    else:
        ctx.notice("errors.button_invalid", alert=True)


def purge(tx: Tx, now: datetime, rules: Rules, batch: int = 50) -> int:
    """The retention sweep: erase complaints closed more than `retention_days` ago."""
    numbers = tx.erasable_complaints(now - rules.retention, batch)
    for number in numbers:
        complaint = tx.get_complaint(number)
        if complaint is not None:
            erase_complaint(tx, complaint, now, None)
    return len(numbers)


FEATURE = Feature(
    commands={"privacy": summary, "deletemydata": ask},
    scope=SCOPE,
    on_tap=on_tap,
)
