"""Operator broadcasts: compose, preview, confirm; pause, resume, cancel; the reports.

Composing is a task (`Task(flow="broadcast")`) on its own shared machine, like
`flows.revoke`: text (or a photo with a caption) -> audience (everyone / by language / with
an open complaint / with an open complaint of a type) -> preview -> confirm. The preview shows
the message exactly as recipients will see it and the exact number of recipients right now
(`tx.audience_count`). Nothing is sent before the confirmation; confirming writes the
broadcast and its whole delivery ledger (one pending row per recipient) in the same
transaction that ends the task. Sending is `bot.broadcaster`'s job.

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
from enum import Enum
from typing import Any, cast

from transitions import EventData

from flows.catalog import Catalog
from flows.complaints import title
from flows.context import Context
from flows.events import Command, Event, Forward, Media, MediaKind, Tap, Text, Unsupported
from flows.language import SUPPORTED
from flows.records import (
    Broadcast,
    BroadcastStatus,
    DeliveryState,
    Segment,
    SegmentKind,
    Task,
)
from flows.replies import Button, Lines, Ref, Reply
from flows.task import (
    BACK,
    CANCEL,
    TaskFlow,
    TaskModel,
    cancel_with,
    drive,
    invalid_choice,
    submit,
    task_machine,
)
from flows.timefmt import at, span

FLOW = "broadcast"
SCOPE = "b"
MAX_TEXT = 4096
MAX_CAPTION = 1024
LIST_SIZE = 10
SNIPPET = 40  # characters of the text shown in /broadcasts


class B(Enum):
    TEXT = "text"
    AUDIENCE = "audience"
    LANGUAGE = "language"
    TYPE = "type"
    PREVIEW = "preview"


BUTTONS = frozenset({"audience", "language", "type", "back", "confirm", "cancel"})
AUDIENCES = tuple(kind.value for kind in SegmentKind)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class ComposeModel(TaskModel):
    __slots__ = ("catalog",)

    def __init__(self, task: Task, catalog: Catalog) -> None:
        super().__init__(task, B)
        self.catalog = catalog


def _m(ev: EventData) -> ComposeModel:
    return cast(ComposeModel, ev.model)


def content_problem(ev: EventData) -> Reply | None:
    text, photo = ev.kwargs.get("text"), ev.kwargs.get("photo")
    if text is None:
        return Reply("broadcast.text_or_photo")
    limit = MAX_CAPTION if photo else MAX_TEXT
    if not photo and not str(text).strip():
        return Reply("broadcast.text_empty")
    if utf16_len(str(text)) > limit:
        key = "broadcast.caption_too_long" if photo else "broadcast.text_too_long"
        return Reply(key, {"limit": limit, "length": utf16_len(str(text))})
    return None


def content_ok(ev: EventData) -> bool:
    return content_problem(ev) is None


def set_content(ev: EventData) -> None:
    m = _m(ev)
    m.data.update(text=str(ev.kwargs["text"]), photo=ev.kwargs.get("photo"))


def content_rejected(ev: EventData) -> None:
    problem = content_problem(ev)
    assert problem is not None
    _m(ev).replies.append(problem)


def _arg(ev: EventData) -> str:
    return str(ev.kwargs.get("arg", ""))


def is_audience(kind: str) -> Any:
    def guard(ev: EventData) -> bool:
        return _arg(ev) == kind

    guard.__name__ = f"audience_{kind}"  # how the diagram names it
    return guard


def valid_language(ev: EventData) -> bool:
    return _arg(ev) in SUPPORTED


def valid_type(ev: EventData) -> bool:
    return _m(ev).catalog.type(_arg(ev)) is not None


def set_segment(ev: EventData) -> None:
    m, arg = _m(ev), _arg(ev)
    if ev.event.name == "audience":
        m.data.update(segment=arg, value="")
    else:  # language or type: the value of the audience chosen before
        m.data["value"] = arg


cancel = cancel_with("task.broadcast")


TEXT, AUDIENCE, LANGUAGE, TYPE, PREVIEW = B
_ALL, _LANG, _OPEN, _TYPE = (is_audience(k) for k in AUDIENCES)
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "content", "source": TEXT, "dest": AUDIENCE, "conditions": content_ok, "before": set_content},  # noqa: E501
    {"trigger": "content", "source": TEXT, "dest": None, "after": content_rejected},
    {"trigger": "audience", "source": AUDIENCE, "dest": PREVIEW, "conditions": _ALL, "before": set_segment},  # noqa: E501
    {"trigger": "audience", "source": AUDIENCE, "dest": LANGUAGE, "conditions": _LANG, "before": set_segment},  # noqa: E501
    {"trigger": "audience", "source": AUDIENCE, "dest": PREVIEW, "conditions": _OPEN, "before": set_segment},  # noqa: E501
    {"trigger": "audience", "source": AUDIENCE, "dest": TYPE, "conditions": _TYPE, "before": set_segment},  # noqa: E501
    {"trigger": "audience", "source": AUDIENCE, "dest": None, "after": invalid_choice},
    {"trigger": "language", "source": LANGUAGE, "dest": PREVIEW, "conditions": valid_language, "before": set_segment},  # noqa: E501
    {"trigger": "language", "source": LANGUAGE, "dest": None, "after": invalid_choice},
    {"trigger": "type", "source": TYPE, "dest": PREVIEW, "conditions": valid_type, "before": set_segment},  # noqa: E501
    {"trigger": "type", "source": TYPE, "dest": None, "after": invalid_choice},
    {"trigger": "back", "source": AUDIENCE, "dest": TEXT},
    {"trigger": "back", "source": [LANGUAGE, TYPE, PREVIEW], "dest": AUDIENCE},
    {"trigger": "confirm", "source": PREVIEW, "dest": None, "after": submit},
    {"trigger": "cancel", "source": list(B), "dest": None, "after": cancel},
]  # fmt: skip

MACHINE = task_machine(B, TRANSITIONS)


# -- views ---------------------------------------------------------------------------------


def segment_of(data: dict[str, Any]) -> Segment:
    return Segment(kind=SegmentKind(data["segment"]), value=str(data.get("value", "")))


def audience(catalog: Catalog, segment: Segment) -> Ref:
    """Who a segment is, as a message ("everyone", "users writing in English"...)."""
    if segment.kind is SegmentKind.LANGUAGE:
        return Ref(
            "broadcast.audience.language", {"name": Ref(f"broadcast.language.{segment.value}")}
        )
    if segment.kind is SegmentKind.OPEN_TYPE:
        return Ref("broadcast.audience.open_type", {"type": title(catalog, segment.value)})
    return Ref(f"broadcast.audience.{segment.kind.value}")


def body(text: str, photo: str | None) -> Reply:
    """The broadcast exactly as recipients see it (its text escaped, so shown as typed)."""
    return Reply("broadcast.body", {"text": text}, photo=photo)


def question(ctx: Context, task: Task) -> list[Reply]:
    """What the task's current state asks (the preview is three messages)."""
    state = B(task.state)
    if state is B.TEXT:
        return [Reply("broadcast.ask_text", buttons=((CANCEL,),))]
    if state is B.AUDIENCE:
        rows = tuple((Button(f"broadcast.button.{k}", "audience", k),) for k in AUDIENCES)
        return [Reply("broadcast.ask_audience", buttons=(*rows, (BACK, CANCEL)))]
    if state is B.LANGUAGE:
        languages = tuple(
            Button(f"broadcast.language.{lang}", "language", lang) for lang in SUPPORTED
        )
        return [Reply("broadcast.ask_language", buttons=(languages, (BACK, CANCEL)))]
    if state is B.TYPE:
        rows = tuple(
            (Button("broadcast.button.type", "type", t.id, {"type": t.title.as_dict()}),)
            for t in ctx.catalog.types
        )
        return [Reply("broadcast.ask_type", buttons=(*rows, (BACK, CANCEL)))]
    segment = segment_of(task.data)
    count = ctx.tx.audience_count(segment)
    who = audience(ctx.catalog, segment)
    send = (Button("broadcast.button.send", "confirm", params={"count": count}),)
    return [
        Reply("broadcast.preview", {"count": count, "audience": who}),
        body(str(task.data["text"]), task.data.get("photo")),
        Reply(
            "broadcast.confirm" if count else "broadcast.nobody",
            {"count": count, "audience": who},
            buttons=((send,) if count else ()) + ((BACK, CANCEL),),
        ),
    ]


def prompt(ctx: Context) -> None:
    assert ctx.user.task is not None
    for reply in question(ctx, ctx.user.task):
        ctx.reply(reply)


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
    """The operator's status message: progress while running or paused, else the report."""
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
    if b.status in (BroadcastStatus.RUNNING, BroadcastStatus.PAUSED):
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
    if open_task is not None and open_task.flow != FLOW:
        ctx.reply(Reply("broadcast.finish_task_first", {"step": Ref(f"task.{open_task.flow}")}))
        return
    ctx.set_task(Task(flow=FLOW, state=B.TEXT.value))
    if cmd.args.strip():
        on_event(ctx, Text(cmd.args.strip()))
        return
    prompt(ctx)


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


# -- the compose task ------------------------------------------------------------------------


def on_event(ctx: Context, event: Event) -> None:
    """An event while the operator composes a broadcast."""
    if ctx.refuse_non_operator(f"task {FLOW}"):
        ctx.set_task(None)
        return
    drive(ctx, TASK, event)


def _invalid(ctx: Context, event: Event) -> None:
    if isinstance(event, Tap):
        ctx.notice("errors.button_invalid", alert=True)
    else:
        ctx.reply(Reply("broadcast.use_buttons"))
        prompt(ctx)


def _trigger(ctx: Context, event: Event) -> tuple[str | None, dict[str, Any]]:
    if isinstance(event, Command):
        return ("repeat", {}) if event.name == "repeat" else (None, {})
    if isinstance(event, Tap):
        return (event.action, {"arg": event.arg}) if event.action in BUTTONS else (None, {})
    if isinstance(event, Text):
        return "content", {"text": event.text}
    if isinstance(event, Media) and event.kind is MediaKind.PHOTO:
        return "content", {"text": event.caption or "", "photo": event.file_id}
    if isinstance(event, Media | Forward | Unsupported):
        return "content", {}  # refused: only a text or a photo can be broadcast
    return None, {}


TASK = TaskFlow(
    machine=MACHINE,
    states=B,
    trigger=_trigger,
    question=question,
    model=lambda ctx, task: ComposeModel(task, ctx.catalog),
    on_invalid=_invalid,
    on_submit=lambda ctx, task: _confirm(ctx, task),
)


def _confirm(ctx: Context, task: Task) -> None:
    """Write the broadcast and its ledger; the broadcaster picks it up after the commit."""
    segment = segment_of(task.data)
    if ctx.tx.audience_count(segment) == 0:
        ctx.reply(
            Reply("broadcast.nobody", {"count": 0, "audience": audience(ctx.catalog, segment)})
        )
        return
    created = ctx.tx.create_broadcast(
        Broadcast(
            operator_id=ctx.user.user_id,
            text=str(task.data["text"]),
            photo_file_id=task.data.get("photo"),
            segment=segment,
            created_at=ctx.now,
        )
    )
    ctx.set_task(None)
    ctx.audit("broadcast", f"B{created.id}", f"{segment.kind.value}:{segment.value}")
    ctx.event("broadcast.created", id=created.id, total=created.total)
    ctx.reply(Reply("broadcast.started", {"id": created.id, "count": created.total}))


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
