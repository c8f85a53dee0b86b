"""What the desk says back, adapter-neutral: message keys and parameters, never literal text.

The Telegram adapter renders these in the user's language (`bot/render.py`); the engine puts
the user's prompt nonce after the update in `Outcome.nonce`, and the adapter stamps it into
the callback data of every conversation button (`flows.callback.encode`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# A parameter value is plain data, or a mapping language -> text (catalog texts).
Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Ref:
    """A parameter that is itself a message, rendered in the same language.

    A tuple of Refs as a parameter renders as a list joined by the `list.separator` message.
    """

    key: str
    params: Params = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Lines:
    """A parameter rendered as one line per item (a timeline, a list of materials)."""

    items: tuple[Ref, ...]


@dataclass(frozen=True, slots=True)
class Button:
    """A button labelled by message `key` that, when tapped, fires `action` with `arg`.

    `scope` "f" buttons belong to the open conversation and carry the prompt nonce (stale
    buttons are refused); every other scope is a feature's stateless buttons (`Feature.scope`:
    guide "g", settings "m", complaints "c", operator "o", broadcast "b").
    """

    key: str
    action: str
    arg: str = ""
    params: Params = field(default_factory=dict)
    scope: str = "f"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file Telegram already holds, sent again by its id: "photo", "video" or "document"."""

    kind: str
    file_id: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: text from `key` with `params`, optional rows of buttons.

    `edit=True` asks the adapter to replace the message whose button was tapped
    (used for in-place navigation); otherwise a new message is sent. With `photo` (a Telegram
    file id) the message is that photo with the text as its caption (a broadcast's preview);
    with `file`, that file, the text its caption. Consecutive replies with the same non-zero
    `album` are sent together as one album (at most 10; photos and videos, or documents).
    """

    key: str
    params: Params = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    photo: str | None = None
    file: Attachment | None = None
    album: int = 0


@dataclass(frozen=True, slots=True)
class Notice:
    """A short pop-up answer to a button tap (Telegram's answerCallbackQuery)."""

    key: str
    params: Params = field(default_factory=dict)
    alert: bool = False


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Something that happened, for observers (console `--json`, logs): `complaint.submitted`."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """Everything one update produced. Sent only after the transaction committed."""

    language: str
    nonce: int = 0  # stamped into the callback data of every conversation button
    replies: list[Reply] = field(default_factory=list)
    notice: Notice | None = None
    events: list[DomainEvent] = field(default_factory=list)
    duplicate: bool = False
    notified: bool = False  # outbox rows were written: the sender should run


ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, an ellipsis marking the cut (labels, names)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def params_to_json(params: Params) -> dict[str, Any]:
    """Parameters as JSON-safe data (for the outbox): Refs and Lines become tagged dicts."""
    return {name: _encode(value) for name, value in params.items()}


def params_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _decode(value) for name, value in data.items()}


def _encode(value: Any) -> Any:
    if isinstance(value, Ref):
        return {"$ref": value.key, "params": params_to_json(value.params)}
    if isinstance(value, Lines):
        return {"$lines": [_encode(item) for item in value.items]}
    if isinstance(value, tuple):
        return {"$list": [_encode(item) for item in value]}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$ref" in value:
        return Ref(value["$ref"], params_from_json(value.get("params", {})))
    if isinstance(value, dict) and "$lines" in value:
        return Lines(tuple(_decode(item) for item in value["$lines"]))
    if isinstance(value, dict) and "$list" in value:
        return tuple(_decode(item) for item in value["$list"])
    return value
