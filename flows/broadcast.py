"""Operator broadcasts: /broadcast starts composing (`flows.broadcast_compose`: text, audience,
preview, confirm); pause, resume, cancel; the reports.

The text is the operator's own, sent to every recipient as it was typed, in plain text (no
parse mode: nothing in it is taken as markup, and formatting the operator applied in their
Telegram client is not carried over). It is not translated. Limits: 4096 characters for a
text, 1024 for a photo's caption (Telegram's, counted in UTF-16 units as Telegram does).

Pause, resume and cancel are stateless buttons (scope "b", `b:pause:<id>`) on the operator's
status message: each tap asks again whether the sender is an operator and what the broadcast's
status is now. /broadcasts lists the recent broadcasts with their reports. Everything here is
operator-only (`ctx.refuse_non_operator`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flows import conversation, task
from flows.broadcast_compose import FLOW, audience
from flows.catalog import Catalog
from flows.context import Context
from flows.events import Command, Tap, Text
from flows.records import Broadcast, BroadcastStatus, DeliveryState
from flows.registry import Feature
from flows.replies import Button, Lines, Ref, Reply
from flows.timefmt import at, span

SCOPE = "b"
LIST_SIZE = 10
SNIPPET = 40  # characters of the text shown in /broadcasts


def _status_buttons(b: Broadcast) -> tuple[tuple[Button, ...], ...]:
    ident = str(b.id)
    if b.status is BroadcastStatus.RUNNING:
        first = Button("broadcast.button.pause", "pause", ident, scope=SCOPE)
    elif b.status is BroadcastStatus.PAUSED:
        first = Button("broadcast.button.resume", "resume", ident, scope=SCOPE)
    else:
        return ()
    return ((first, Button("broadcast.button.stop", "cancel", ident, scope=SCOPE)),)


def duration(seconds: float) -> Ref:
    """A duration for the status message: seconds under a minute, else minutes and up."""
    if seconds < 60:
        return Ref("broadcast.seconds", {"s": max(int(seconds), 0)})
    return span(timedelta(seconds=seconds))


def status_view(
    catalog: Catalog,
    b: Broadcast,
    counts: dict[DeliveryState, int],
    *,
    rate: float | None = None,
    edit: bool = False,
) -> Reply:
    """The operator's status message: progress while running or paused, else the report.

    A cancelled broadcast whose last batch is still out shows progress (no buttons): the
    broadcaster writes the report once that batch is recorded, so its first numbers are
    final."""
    done = sum(counts[s] for s in (DeliveryState.SENT, DeliveryState.BLOCKED, DeliveryState.FAILED))
    done += counts[DeliveryState.UNKNOWN]
    params: dict[str, Any] = {
        "id": b.id,
        "audience": audience(catalog, b.segment),
        "status": Ref(f"broadcast.status.{b.status.value}"),
        "total": b.total,
        "done": done,
        "sent": counts[DeliveryState.SENT],
        "blocked": counts[DeliveryState.BLOCKED],
        "failed": counts[DeliveryState.FAILED],
        "unknown": counts[DeliveryState.UNKNOWN],
        "unsent": counts[DeliveryState.PENDING] + counts[DeliveryState.SENDING],
    }
    in_flight = counts[DeliveryState.SENDING] > 0  # a batch out: its outcomes still to come
    if b.status in (BroadcastStatus.RUNNING, BroadcastStatus.PAUSED) or in_flight:
        left = b.total - done
        if rate and b.status is BroadcastStatus.RUNNING:
            params.update(rate=f"{rate:.1f}", left=duration(left / rate))
        else:
            params.update(rate="0.0", left=Ref("broadcast.left_unknown"))
        return Reply("broadcast.progress", params, _status_buttons(b), edit=edit)
    finished = b.finished_at or b.created_at
    params["took"] = duration((finished - b.created_at).total_seconds())
    return Reply("broadcast.report", params, edit=edit)


# -- commands --------------------------------------------------------------------------------


def command(ctx: Context, cmd: Command) -> None:
    """/broadcast [text]: start composing (the text may come with the command)."""
    if ctx.refuse_non_operator("/broadcast"):
        return
    open_task = ctx.user.task
    if open_task is not None and open_task.flow != FLOW.name:
        ctx.reply(Reply("broadcast.finish_task_first", {"step": Ref(f"task.{open_task.flow}")}))
        return
    text = cmd.args.strip()
    task.start(ctx, FLOW, {}, asking=not text)
    if text:
        conversation.drive(ctx, FLOW, Text(text))


def list_command(ctx: Context, cmd: Command) -> None:
    """/broadcasts: the most recent broadcasts, each with its report."""
    if ctx.refuse_non_operator("/broadcasts"):
        return
    recent = ctx.tx.list_broadcasts(LIST_SIZE)
    if not recent:
        ctx.reply(Reply("broadcast.list_empty"))
        return
    items = tuple(_list_item(ctx, b) for b in recent)
    ctx.reply(Reply("broadcast.list", {"count": len(items), "items": Lines(items)}))


def _list_item(ctx: Context, b: Broadcast) -> Ref:
    counts = ctx.tx.delivery_counts(b.id or 0)
    text = b.text.replace("\n", " ")
    snippet = text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"
    return Ref(
        "broadcast.list_item",
        {
            "id": b.id,
            "at": at(b.created_at),
            "status": Ref(f"broadcast.status.{b.status.value}"),
            "audience": audience(ctx.catalog, b.segment),
            "photo": Ref("broadcast.with_photo") if b.photo_file_id else "",
            "text": snippet,
            "total": b.total,
            "sent": counts[DeliveryState.SENT],
            "blocked": counts[DeliveryState.BLOCKED],
            "failed": counts[DeliveryState.FAILED],
            "unknown": counts[DeliveryState.UNKNOWN],
            "unsent": counts[DeliveryState.PENDING] + counts[DeliveryState.SENDING],
        },
    )


# -- pause, resume, cancel -------------------------------------------------------------------

_MOVES: dict[str, tuple[BroadcastStatus, frozenset[BroadcastStatus]]] = {
    "pause": (BroadcastStatus.PAUSED, frozenset({BroadcastStatus.RUNNING})),
    "resume": (BroadcastStatus.RUNNING, frozenset({BroadcastStatus.PAUSED})),
    "cancel": (
        BroadcastStatus.CANCELLED,
        frozenset({BroadcastStatus.RUNNING, BroadcastStatus.PAUSED}),
    ),
}


def on_tap(ctx: Context, tap: Tap) -> None:
    """Every "b:" button. A non-operator is refused before anything is looked up."""
    if ctx.refuse_non_operator(tap.raw or f"{SCOPE}:{tap.action}:{tap.arg}"):
        return
    move = _MOVES.get(tap.action)
    b = ctx.tx.get_broadcast(int(tap.arg)) if tap.arg.isdigit() else None
    if move is None or b is None or b.id is None:
        ctx.notice("errors.button_invalid", alert=True)
        return
    status, allowed = move
    if not ctx.tx.set_broadcast_status(b.id, status, ctx.now, allowed):
        ctx.notice("broadcast.cannot", alert=True, status=Ref(f"broadcast.status.{b.status}"))
    else:
        b = ctx.tx.get_broadcast(b.id) or b
        ctx.notice(f"broadcast.done_{tap.action}")
        ctx.audit(f"broadcast_{tap.action}", f"B{b.id}")
        ctx.event(f"broadcast.{status.value}", id=b.id)
    ctx.reply(status_view(ctx.catalog, b, ctx.tx.delivery_counts(b.id or 0), edit=True))


FEATURE = Feature(
    commands={"broadcast": command, "broadcasts": list_command},
    scope=SCOPE,
    on_tap=on_tap,
    flows=(FLOW,),
)
