"""Composing a broadcast: a task (`Task(flow="broadcast")`) on its own shared machine: text (or a
photo with a caption) -> audience (everyone / by language / with an open complaint / with an
open complaint of a type) -> preview -> confirm.

The preview shows the message exactly as recipients will see it and the exact number of
recipients right now (`tx.audience_count`). Nothing is sent before the confirmation;
confirming writes the broadcast and its whole delivery ledger (one pending row per recipient)
in the same transaction that ends the task. Sending is `bot.broadcaster`'s job.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

from transitions import EventData

from flows.catalog import Catalog
from flows.complaints import title
from flows.context import Context
from flows.conversation import FlowModel, Trigger, ask
from flows.events import Event, Forward, Media, MediaKind, Text, Unsupported
from flows.machines import shared_machine, validator
from flows.records import Broadcast, Segment, SegmentKind
from flows.replies import Button, Ref, Reply
from flows.task import (
    BACK,
    CANCEL,
    TaskData,
    every_task_takes,
    invalid_choice,
    submit,
    task_flow,
)

NAME = "broadcast"
MAX_TEXT = 4096
MAX_CAPTION = 1024
AUDIENCES = tuple(kind.value for kind in SegmentKind)


class ComposeState(Enum):
    TEXT = "text"
    AUDIENCE = "audience"
    LANGUAGE = "language"
    TYPE = "type"
    PREVIEW = "preview"


class ComposeData(TaskData):
    """The broadcast being composed: its text or caption, photo, and audience so far."""

    text: str = ""
    photo: str | None = None  # a Telegram file id
    segment: SegmentKind | None = None
    value: str = ""  # the segment's language or complaint type

    def audience(self) -> Segment:
        assert self.segment is not None
        return Segment(kind=self.segment, value=self.value)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _m(ev: EventData) -> FlowModel:
    return cast(FlowModel, ev.model)


def _data(model: FlowModel) -> ComposeData:
    return cast(ComposeData, model.data)


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


content_ok, content_rejected = validator(content_problem)


def set_content(ev: EventData) -> None:
    data = _data(_m(ev))
    data.text, data.photo = str(ev.kwargs["text"]), ev.kwargs.get("photo")


def _arg(ev: EventData) -> str:
    return str(ev.kwargs.get("arg", ""))


def is_audience(kind: str) -> Any:
    def guard(ev: EventData) -> bool:
        return _arg(ev) == kind

    guard.__name__ = f"audience_{kind}"  # how the diagram names it
    return guard


def valid_language(ev: EventData) -> bool:
    return _arg(ev) in _m(ev).catalog.languages


def valid_type(ev: EventData) -> bool:
    return _m(ev).catalog.type(_arg(ev)) is not None


def set_segment(ev: EventData) -> None:
    data, arg = _data(_m(ev)), _arg(ev)
    if ev.event.name == "audience":
        data.segment, data.value = SegmentKind(arg), ""
    else:  # language or type: the value of the audience chosen before
        data.value = arg


TEXT, AUDIENCE, LANGUAGE, TYPE, PREVIEW = ComposeState
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
    *every_task_takes(ComposeState),
]  # fmt: skip

MACHINE = shared_machine(ComposeState, TRANSITIONS)


def audience(catalog: Catalog, segment: Segment) -> Ref:
    """Who a segment is, as a message ("everyone", "users writing in English"...)."""
    if segment.kind is SegmentKind.LANGUAGE:
        name = catalog.languages.get(segment.value, segment.value)
        return Ref("broadcast.audience.language", {"name": name})
    if segment.kind is SegmentKind.OPEN_TYPE:
        return Ref("broadcast.audience.open_type", {"type": title(catalog, segment.value)})
    return Ref(f"broadcast.audience.{segment.kind.value}")


def body(text: str, photo: str | None) -> Reply:
    """The broadcast exactly as recipients see it (its text escaped, so shown as typed)."""
    return Reply("broadcast.body", {"text": text}, photo=photo)


def question(ctx: Context, model: FlowModel) -> list[Reply]:
    """What the task's current state asks (the preview is three messages)."""
    state = model.state
    if state is ComposeState.TEXT:
        return [Reply("broadcast.ask_text", buttons=((CANCEL,),))]
    if state is ComposeState.AUDIENCE:
        rows = tuple((Button(f"broadcast.button.{k}", "audience", k),) for k in AUDIENCES)
        return [Reply("broadcast.ask_audience", buttons=(*rows, (BACK, CANCEL)))]
    if state is ComposeState.LANGUAGE:
        languages = tuple(
            Button("language.name", "language", code, {"name": name})
            for code, name in ctx.catalog.languages.items()
        )
        return [Reply("broadcast.ask_language", buttons=(languages, (BACK, CANCEL)))]
    if state is ComposeState.TYPE:
        rows = tuple(
            (Button("broadcast.button.type", "type", t.id, {"type": t.title.as_dict()}),)
            for t in ctx.catalog.types
        )
        return [Reply("broadcast.ask_type", buttons=(*rows, (BACK, CANCEL)))]
    data = _data(model)
    segment = data.audience()
    count = ctx.tx.audience_count(segment)
    who = audience(ctx.catalog, segment)
    send = (Button("broadcast.button.send", "confirm", params={"count": count}),)
    return [
        Reply("broadcast.preview", {"count": count, "audience": who}),
        body(data.text, data.photo),
        Reply(
            "broadcast.confirm" if count else "broadcast.nobody",
            {"count": count, "audience": who},
            buttons=((send,) if count else ()) + ((BACK, CANCEL),),
        ),
    ]


def _trigger(ctx: Context, model: FlowModel, event: Event) -> Trigger:
    if isinstance(event, Text):
        return "content", {"text": event.text}
    if isinstance(event, Media) and event.kind is MediaKind.PHOTO:
        return "content", {"text": event.caption or "", "photo": event.file_id}
    if isinstance(event, Media | Forward | Unsupported):
        return "content", {}  # refused: only a text or a photo can be broadcast
    return None, {}


def _not_taken(ctx: Context, model: FlowModel, event: Event) -> None:
    ctx.reply(Reply("broadcast.use_buttons"))
    ask(ctx, FLOW, model)


def _confirm(ctx: Context, model: FlowModel) -> None:
    """Write the broadcast and its ledger; the broadcaster picks it up after the commit."""
    data = _data(model)
    segment = data.audience()
    if ctx.tx.audience_count(segment) == 0:
        ctx.reply(
            Reply("broadcast.nobody", {"count": 0, "audience": audience(ctx.catalog, segment)})
        )
        return
    created = ctx.tx.create_broadcast(
        Broadcast(
            operator_id=ctx.user.user_id,
            text=data.text,
            photo_file_id=data.photo,
            segment=segment,
            created_at=ctx.now,
        )
    )
    ctx.set_task(None)
    ctx.audit("broadcast", f"B{created.id}", f"{segment.kind.value}:{segment.value}")
    ctx.event("broadcast.created", id=created.id, total=created.total)
    ctx.reply(Reply("broadcast.started", {"id": created.id, "count": created.total}))


FLOW = task_flow(
    name=NAME,
    machine=MACHINE,
    states=ComposeState,
    data=ComposeData,
    buttons=frozenset({"audience", "language", "type", "back", "confirm"}),
    trigger=_trigger,
    question=question,
    not_taken=_not_taken,
    on_submit=_confirm,
    admit=lambda ctx: not ctx.refuse_non_operator(f"task {NAME}"),
)
