"""Translate in: a Telegram update becomes a domain `Inbound`, or None when it is not for us.

Every text that comes in (messages, captions, names, file names) is cleaned here, at the edge:
a lone surrogate (half of a UTF-16 pair, which a client can send and JSON can carry but UTF-8
cannot encode) becomes U+FFFD, so nothing behind this point meets an unencodable string.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ChatType, MessageEntityType, MessageOriginType

from flows import callback
from flows.events import (
    Command,
    Event,
    Forward,
    Inbound,
    Media,
    MediaKind,
    Tap,
    Text,
    Unsupported,
    UserRef,
)

FORGED = Tap(scope="f", action="forged")


def clean(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (valid text is returned as is)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _clean(text: str | None) -> str | None:
    return None if text is None else clean(text)


def to_inbound(update: Update) -> Inbound | None:
    """The domain event for this update; None for updates the desk ignores (groups, edits...)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return None
    event: Event | None = None
    if update.callback_query is not None:
        event = callback.decode(update.callback_query.data or "") or FORGED
    elif update.message is not None:
        event = message_event(update.message)
    if event is None:
        return None
    return Inbound(
        update_id=update.update_id,
        user=UserRef(
            id=user.id, first_name=clean(user.first_name), language_code=_clean(user.language_code)
        ),
        event=event,
    )


def message_event(message: Message) -> Event:
    media = _media(message)
    if message.forward_origin is not None:
        return Forward(
            sender=clean(_origin_name(message)),
            text=clean(message.text or message.caption or ""),
            media=media,
        )
    if media is not None:
        return media
    if message.text is not None:
        entity = message.entities[0] if message.entities else None
        if entity and entity.type == MessageEntityType.BOT_COMMAND and entity.offset == 0:
            name = message.text[1 : entity.length].split("@", 1)[0].lower()
            return Command(name=clean(name), args=clean(message.text[entity.length :].strip()))
        return Text(clean(message.text))
    return Unsupported(kind=_kind(message))


def _media(message: Message) -> Media | None:
    common = {"media_group_id": message.media_group_id, "caption": _clean(message.caption)}
    if message.photo:
        best = message.photo[-1]
        return Media(MediaKind.PHOTO, best.file_id, best.file_unique_id, best.file_size, **common)
    if message.video is not None:
        v = message.video
        return Media(
            MediaKind.VIDEO, v.file_id, v.file_unique_id, v.file_size, _clean(v.mime_type),
            _clean(v.file_name),
            **common,
        )  # fmt: skip
    if message.document is not None:
        d = message.document
        return Media(
            MediaKind.DOCUMENT, d.file_id, d.file_unique_id, d.file_size, _clean(d.mime_type),
            _clean(d.file_name),
            **common,
        )  # fmt: skip
    return None


def _origin_name(message: Message) -> str:
    origin = message.forward_origin
    if origin is None:
        return ""
    if origin.type == MessageOriginType.USER:
        sender = getattr(origin, "sender_user", None)
        return str(sender.full_name) if sender is not None else ""
    if origin.type == MessageOriginType.HIDDEN_USER:
        return str(getattr(origin, "sender_user_name", ""))
    chat = getattr(origin, "chat", None) or getattr(origin, "sender_chat", None)
    return str(getattr(chat, "title", "") or "")


def _kind(message: Message) -> str:
    for kind in ("sticker", "location", "contact", "voice", "audio", "animation", "poll",
                 "venue", "dice", "video_note", "game"):  # fmt: skip
        if getattr(message, kind, None):
            return kind
    return "other"
