"""The state of the fake Telegram world: users, chats, messages, callbacks, calls, listeners."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from bot.clock import Clock
from bot.fake.files import FileStore, file_to_api
from bot.fake.models import (
    JSON,
    ApiError,
    Call,
    CallbackAnswer,
    FakeMessage,
    FakeTap,
    FakeUser,
    Fault,
)

Listener = Callable[[str, int, FakeMessage], None]
UploadedFiles = dict[str, tuple[str, bytes, str]]
"""Multipart uploads: part name -> (file name, bytes, mime type)."""


class WorldState:
    """What the world remembers; `FakeTelegram` adds the Bot API, faults and user actions."""

    def __init__(
        self,
        clock: Clock,
        bot_id: int = 777000,
        bot_username: str = "complaint_desk_bot",
    ) -> None:
        self.clock = clock
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = "Complaint Desk"
        self.users: dict[int, FakeUser] = {}
        self.files = FileStore()
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        # (kind "description" | "short_description", language_code) -> text
        self.descriptions: dict[tuple[str, str], str] = {}
        self.webhook_url = ""
        self._messages: dict[int, list[FakeMessage]] = {}
        self._timeline: dict[int, list[FakeMessage | FakeTap]] = {}
        self._events: list[tuple[str, int, int]] = []
        self._callbacks: dict[str, CallbackAnswer | None] = {}
        self._calls: list[Call] = []
        self._unknown: list[str] = []
        self._faults: list[Fault] = []
        self._listeners: list[Listener] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._group_ids = itertools.count(1)
        self._seq = itertools.count(1)

    # ---- users and chats -------------------------------------------------------------------

    def add_user(
        self, user_id: int, first_name: str = "", language_code: str | None = None
    ) -> FakeUser:
        """Add (or update) a user; their private chat has the same id."""
        user = self.users.get(user_id)
        if user is None:
            user = FakeUser(user_id, first_name or f"user{user_id}", language_code)
            self.users[user_id] = user
            self._messages[user_id] = []
            self._timeline[user_id] = []
        else:
            user.first_name = first_name or user.first_name
            user.language_code = language_code or user.language_code
        return user

    def block(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot: sends to them fail with 403."""
        self._user(user_id).blocked_bot = blocked

    def _user(self, user_id: int) -> FakeUser:
        return self.users.get(user_id) or self.add_user(user_id)

    def chat_json(self, chat_id: int) -> JSON:
        user = self.users[chat_id]
        return {"id": chat_id, "type": "private", "first_name": user.first_name}

    def bot_json(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    # ---- reading the world -------------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = True) -> list[FakeMessage]:
        return [m for m in self._messages.get(chat_id, []) if include_deleted or not m.deleted]

    def bot_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[FakeMessage]:
        return [m for m in self.messages(chat_id, include_deleted=include_deleted) if m.from_bot]

    def last_bot_message(self, chat_id: int) -> FakeMessage | None:
        found = self.bot_messages(chat_id)
        return found[-1] if found else None

    def message(self, chat_id: int, message_id: int) -> FakeMessage | None:
        for m in self._messages.get(chat_id, []):
            if m.message_id == message_id:
                return m
        return None

    def timeline(self, chat_id: int) -> list[FakeMessage | FakeTap]:
        """Messages and button taps of a chat, in the order they happened."""
        return list(self._timeline.get(chat_id, []))

    def continue_update_ids(self, after: int) -> None:
        """Number the next updates past `after`. Telegram never reuses update ids; a world that
        meets a database from an earlier session (the console) continues past the ids it
        recorded, or the bot would take its updates for redeliveries and drop them."""
        self._update_ids = itertools.count(after + 1)

    def new_media_group_id(self) -> str:
        return f"album{next(self._group_ids)}"

    def mark(self) -> int:
        """A position in the world's event log, for `events_since`."""
        return len(self._events)

    def events_since(self, mark: int, chat_id: int | None = None) -> list[tuple[str, int, int]]:
        """(event, chat_id, message_id) for bot messages sent, edited or deleted after `mark`."""
        return [e for e in self._events[mark:] if chat_id is None or e[1] == chat_id]

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self._calls if method is None or c.method == method]

    def unknown_methods(self) -> list[str]:
        """Methods the bot called that this world does not implement (a test should fail)."""
        return list(self._unknown)

    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        return self._callbacks.get(query_id)

    def unanswered_callbacks(self) -> list[str]:
        return [qid for qid, answer in self._callbacks.items() if answer is None]

    def subscribe(self, listener: Listener) -> None:
        """`listener(event, chat_id, message)` for every bot message "sent", "edited", "deleted"."""
        self._listeners.append(listener)

    # ---- recording messages ------------------------------------------------------------------

    def new_message(self, chat_id: int, *, from_bot: bool, kind: str, **fields: Any) -> FakeMessage:
        """Append a message to a chat with the next message id (user and bot share the counter)."""
        chat = self._messages.setdefault(chat_id, [])
        message_id = chat[-1].message_id + 1 if chat else 1
        msg = FakeMessage(
            chat_id=chat_id,
            message_id=message_id,
            from_bot=from_bot,
            kind=kind,
            date=self.clock.now(),
            sender_id=self.bot_id if from_bot else chat_id,
            seq=next(self._seq),
            **fields,
        )
        chat.append(msg)
        self._timeline.setdefault(chat_id, []).append(msg)
        if from_bot:
            self.notify("sent", msg)
        return msg

    def notify(self, event: str, msg: FakeMessage) -> None:
        self._events.append((event, msg.chat_id, msg.message_id))
        for listener in list(self._listeners):
            listener(event, msg.chat_id, msg)

    def message_json(self, msg: FakeMessage) -> JSON:
        """The Bot API `Message` object for a stored message."""
        sender = self.bot_json() if msg.from_bot else self._user(msg.sender_id).to_api()
        data: JSON = {
            "message_id": msg.message_id,
            "from": sender,
            "chat": self.chat_json(msg.chat_id),
            "date": int(msg.date.timestamp()),
        }
        if msg.edit_date is not None:
            data["edit_date"] = int(msg.edit_date.timestamp())
        text_key = "text" if msg.kind == "text" else "caption"
        if msg.text:
            data[text_key] = msg.text
        if msg.entities:
            data["entities" if msg.kind == "text" else "caption_entities"] = msg.entities
        if msg.kind == "photo":
            data["photo"] = [file_to_api(p) for p in msg.photo_sizes]
        elif msg.file is not None:
            data[msg.kind] = file_to_api(msg.file)
        data.update(msg.extra)
        if msg.media_group_id:
            data["media_group_id"] = msg.media_group_id
        if msg.forward_sender is not None:
            data["forward_origin"] = {
                "type": "hidden_user",
                "sender_user_name": msg.forward_sender,
                "date": int(msg.date.timestamp()),
            }
        if msg.buttons:
            data["reply_markup"] = {
                "inline_keyboard": [
                    [
                        {"text": b.label, "callback_data": b.data}
                        if b.data is not None
                        else {"text": b.label, "url": b.url}
                        for b in row
                    ]
                    for row in msg.buttons
                ]
            }
        return data

    def answer_callback(self, query_id: str, text: str | None, show_alert: bool) -> None:
        if query_id not in self._callbacks or self._callbacks[query_id] is not None:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._callbacks[query_id] = CallbackAnswer(text, show_alert)
