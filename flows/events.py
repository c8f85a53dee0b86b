"""What a person can do, in domain terms: the adapter turns each update into one of these."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MediaKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class UserRef:
    """Who sent the update, as Telegram describes them."""

    id: int
    first_name: str = ""
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command such as `/start` (name without the slash) and its argument text."""

    name: str
    args: str = ""


@dataclass(frozen=True, slots=True)
class Tap:
    """A button press, parsed from callback data `<scope>:<nonce>:<action>[:<arg>]`.

    `nonce` is the prompt counter the button was drawn for (None for stateless buttons);
    `raw` keeps the original data so forged input can be logged.
    """

    scope: str
    action: str
    arg: str = ""
    nonce: int | None = None
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Media:
    """A photo, document or video. `size` is in bytes when Telegram tells it."""

    kind: MediaKind
    file_id: str
    file_unique_id: str
    size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None
    media_group_id: str | None = None
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class Forward:
    """A forwarded message (a chat record): who wrote it originally, its text, and any media."""

    sender: str
    text: str = ""
    media: Media | None = None


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Anything the desk cannot take: stickers, locations, contacts, voice notes, polls..."""

    kind: str


Event = Command | Tap | Text | Media | Forward | Unsupported


@dataclass(frozen=True, slots=True)
class Inbound:
    """One update, ready for the engine: its Telegram id (for de-duplication), who, and what."""

    update_id: int
    user: UserRef
    event: Event
