"""What the desk says back, adapter-neutral: message keys and parameters, never literal text.

The Telegram adapter renders these in the user's language (`bot/render.py`); buttons get the
user's current prompt nonce stamped into their callback data by the engine.
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

    `scope` "f" buttons belong to the conversation and carry the prompt nonce (stale
    buttons are refused); scope "g" (guide) and "m" (menu-less) buttons are stateless.
    """

    key: str
    action: str
    arg: str = ""
    params: Params = field(default_factory=dict)
    scope: str = "f"


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: text from `key` with `params`, optional rows of buttons.

    `edit=True` asks the adapter to replace the message whose button was tapped
    (used for in-place navigation); otherwise a new message is sent.
    """

    key: str
    params: Params = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False


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
