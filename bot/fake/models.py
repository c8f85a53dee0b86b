"""The plain records the fake Telegram world is made of (users, messages, buttons, files, calls)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    """A Bot API failure: becomes Telegram's `{"ok": false, ...}` envelope."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


class SimulatedTimeout(Exception):
    """Raised by the world for a `timeout=True` fault; the request layer turns it into TimedOut."""


@dataclass(slots=True)
class FakeUser:
    id: int
    first_name: str = ""
    language_code: str | None = None
    blocked_bot: bool = False
    username: str | None = None

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        if self.username:
            data["username"] = self.username
        return data


@dataclass(frozen=True, slots=True)
class FakeButton:
    """One inline button: its label and callback data (or url for link buttons)."""

    label: str
    data: str | None = None
    url: str | None = None


@dataclass(slots=True)
class FakeFile:
    """A stored file. `size` is what Telegram reports; `data` may be empty for faked big files."""

    file_id: str
    file_unique_id: str
    kind: str
    size: int
    data: bytes = b""
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    file_path: str = ""


@dataclass(slots=True)
class FakeMessage:
    """One message in a chat, sent by the user or by the bot."""

    chat_id: int
    message_id: int
    from_bot: bool
    kind: str
    date: datetime
    text: str = ""
    sender_id: int = 0
    buttons: list[list[FakeButton]] = field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    markup_source: str | None = None
    edited: bool = False
    edit_date: datetime | None = None
    deleted: bool = False
    file: FakeFile | None = None
    photo_sizes: list[FakeFile] = field(default_factory=list)
    media_group_id: str | None = None
    forward_sender: str | None = None
    entities: list[JSON] = field(default_factory=list)
    extra: JSON = field(default_factory=dict)
    seq: int = 0

    @property
    def caption(self) -> str:
        return self.text if self.kind != "text" else ""

    @property
    def labels(self) -> list[str]:
        return [b.label for row in self.buttons for b in row]

    @property
    def callback_data(self) -> list[str]:
        return [b.data for row in self.buttons for b in row if b.data is not None]

    def find_button(self, *, label: str | None = None, data: str | None = None) -> FakeButton:
        for row in self.buttons:
            for button in row:
                if (label is None or button.label == label) and (
                    data is None or button.data == data
                ):
                    return button
        available = ", ".join(f"[{b.label}] data={b.data!r}" for row in self.buttons for b in row)
        raise LookupError(
            f"no button with label={label!r} data={data!r} on message {self.message_id}; "
            f"available: {available or '(none)'}"
        )


@dataclass(frozen=True, slots=True)
class FakeTap:
    """A user pressing an inline button (a callback query), kept in the chat's timeline."""

    chat_id: int
    user_id: int
    message_id: int
    query_id: str
    data: str
    label: str | None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API call as the world saw it."""

    seq: int
    method: str
    params: JSON
    ok: bool
    error_code: int | None
    description: str | None
    at: datetime


@dataclass(slots=True)
class Fault:
    """A failure injected for the next `times` calls of `method` (optionally only for one chat)."""

    method: str
    code: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | None
    timeout: bool
    delivered: bool
