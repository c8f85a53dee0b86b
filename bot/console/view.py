"""What the console shows: the chat as text for a person, or one JSON object a line for a program.

Text: the bot's messages to the current user are `bot: ...` followed by numbered buttons
(`  [1] File a complaint  [2] Guide`), edits are marked `(edited)`, messages to other users
are prefixed with the recipient (`→ 1002: ...`), pop-up answers to taps read `(pop-up: ...)`,
console errors `error: ...`. At a terminal it prompts `you> `; piped, it prints no prompt and
echoes the typed messages as `you: ...`.

JSON, one object per line and nothing else on stdout:

    {"type": "message", "chat_id", "message_id", "text", "media", "buttons": [[label, ...]],
     "edited"}
        every message the bot sends or edits, in any chat; "media" is null or
        {"kind": "photo" | "video" | "document", "file_name", "size", "album": group id}
    {"type": "event", "name", "data"}    every domain event (e.g. `complaint.submitted`)
    {"type": "time", "now"}              the answer to `:time`
    {"type": "error", "message"}         a console error (bad input, a stuck or crashed bot)
    {"type": "idle"}                     after every input line, once it is fully handled

Console notes (help, acknowledgements) go to stderr in JSON mode.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from bot.fake.models import FakeMessage
from bot.fake.transcript import media_label
from flows.replies import DomainEvent


class View:
    """The text view; `JsonView` overrides what differs. `user_id` is whose chat reads `bot:`."""

    def __init__(self, stdout: TextIO, *, user_id: int, interactive: bool) -> None:
        self.stdout = stdout
        self.user_id = user_id
        self.interactive = interactive
        self._shown: dict[tuple[int, int], str] = {}  # the text last shown per message

    def write(self, line: str) -> None:
        self.stdout.write(line + "\n")
        self.stdout.flush()

    def note(self, text: str) -> None:
        """A console remark (help, acknowledgements)."""
        self.write(text)

    def error(self, message: str) -> None:
        self.write(f"error: {message}")

    def prompt(self) -> None:
        if self.interactive:
            self.stdout.write("you> ")
            self.stdout.flush()

    def idle(self) -> None:
        """An input line is fully handled."""

    def end(self) -> None:
        """The input ended."""
        if self.interactive:
            self.write("")

    def said(self, text: str) -> None:
        """The user sent a text message (echoed when piped: the typed line is not on screen)."""
        if not self.interactive:
            self.write(f"you: {text}")

    def did(self, action: str) -> None:
        """The user did something other than typing a text (`you: [photo a.png, 3 bytes]`)."""
        self.write(f"you: {action}")

    def did_tap(self, label: str) -> None:
        self.write(f"you tap [{label}]")

    def popup(self, text: str) -> None:
        """How the bot answered the tap, when it said something."""
        self.write(f"(pop-up: {text})")

    def time(self, now: str) -> None:
        self.write(f"time: {now}")

    def event(self, event: DomainEvent) -> None:
        """A domain-event sink (registered on every Application the console builds)."""

    def message(self, kind: str, chat_id: int, msg: FakeMessage) -> None:
        """The world's listener: the bot sent, edited or deleted a message."""
        who = "bot" if chat_id == self.user_id else f"→ {chat_id}"
        key = (chat_id, msg.message_id)
        before, self._shown[key] = self._shown.get(key), msg.text
        if kind == "deleted":
            self.write(f"{who}: (deleted: {_headline(msg.text)})")
            return
        if kind == "edited" and before == msg.text:
            what = "new buttons on" if msg.buttons else "buttons removed from"
            self.write(f"{who} (edited): ({what} {_headline(msg.text)})")
        else:
            head = f"{who} (edited): " if kind == "edited" else f"{who}: "
            body = " ".join(p for p in (_media(msg), msg.text) if p)
            first, *rest = body.split("\n")
            self.write(head + first)
            for line in rest:
                self.write(" " * len(head) + line if line.strip() else "")
        number = 0
        for row in msg.buttons:
            labels = []
            for button in row:
                number += 1
                link = f" <{button.url}>" if button.data is None and button.url else ""
                labels.append(f"[{number}] {button.label}{link}")
            self.write("  " + "  ".join(labels))


class JsonView(View):
    """One JSON object a line on stdout; remarks for people go to stderr."""

    def _emit(self, obj: dict[str, Any]) -> None:
        self.write(json.dumps(obj, ensure_ascii=False, default=str))

    def note(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def error(self, message: str) -> None:
        self._emit({"type": "error", "message": message})

    def prompt(self) -> None:
        pass

    def idle(self) -> None:
        self._emit({"type": "idle"})

    def end(self) -> None:
        pass

    def said(self, text: str) -> None:
        pass

    def did(self, action: str) -> None:
        pass

    def did_tap(self, label: str) -> None:
        pass

    def popup(self, text: str) -> None:
        pass

    def time(self, now: str) -> None:
        self._emit({"type": "time", "now": now})

    def event(self, event: DomainEvent) -> None:
        self._emit({"type": "event", "name": event.name, "data": dict(event.data)})

    def message(self, kind: str, chat_id: int, msg: FakeMessage) -> None:
        if kind in ("sent", "edited"):
            self._emit(
                {
                    "type": "message",
                    "chat_id": chat_id,
                    "message_id": msg.message_id,
                    "text": msg.text,
                    "media": _media_json(msg),
                    "buttons": [[b.label for b in row] for row in msg.buttons],
                    "edited": kind == "edited",
                }
            )


def _media(msg: FakeMessage) -> str:
    """What a message carries: `[photo evidence.png 12.0 KB]`, a forward's author."""
    forwarded = f"(forwarded from {msg.forward_sender})" if msg.forward_sender else ""
    return " ".join(p for p in (media_label(msg), forwarded) if p)


def _media_json(msg: FakeMessage) -> dict[str, Any] | None:
    if msg.kind not in ("photo", "video", "document") or msg.file is None:
        return None
    return {
        "kind": msg.kind,
        "file_name": msg.file.file_name,
        "size": msg.file.size,
        "album": msg.media_group_id,
    }


def _headline(text: str, width: int = 40) -> str:
    """The start of a message's first line, quoted, to say which message changed."""
    line = text.strip().split("\n", 1)[0]
    return f"“{line if len(line) <= width else line[: width - 1] + '…'}”"
