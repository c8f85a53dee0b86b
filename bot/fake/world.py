"""FakeTelegram: an in-memory, stateful and strict Bot API world.

Users act on it (`user_text`, `user_photo`, `user_tap`...), which records their messages and
returns the update as Bot API JSON; the bot reaches it through `handle(method, params, files)`
(see `bot.fake.request.FakeRequest`), which answers with Telegram's own envelopes, errors included.
"""

from __future__ import annotations

import contextlib
from typing import Any

from bot.fake.limits import FloodLimits
from bot.fake.methods import METHODS
from bot.fake.models import (
    JSON,
    ApiError,
    Call,
    FakeFile,
    FakeMessage,
    FakeTap,
    Fault,
    SimulatedTimeout,
)
from bot.fake.state import Listener, UploadedFiles, WorldState

__all__ = ["FakeTelegram", "Listener", "UploadedFiles"]

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram(WorldState):
    """The world the bot talks to. One instance is shared by every front-end and every restart."""

    limits: FloodLimits | None = None  # Telegram's flood limits; off unless enforce_limits()

    def enforce_limits(self, limits: FloodLimits | None = None) -> FloodLimits:
        """Answer 429 beyond Telegram's flood limits from now on (see bot.fake.limits)."""
        self.limits = limits or FloodLimits()
        return self.limits

    # ---- faults ------------------------------------------------------------------------------

    def fault(
        self,
        method: str,
        *,
        code: int = 0,
        description: str = "",
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        timeout: bool = False,
        delivered: bool = False,
    ) -> None:
        """Make the next `times` calls of `method` (for `chat_id`, if given) fail.

        `code=429` answers "Too Many Requests" with `retry_after`; `timeout=True` makes the
        request time out instead. With `delivered=True` the call takes effect first and then
        the error (or the time-out) is answered, as when Telegram did the work but the answer
        was lost or replaced on the way (a dropped connection, a proxy's 502).
        """
        if not timeout and not code:
            raise ValueError("a fault needs a code or timeout=True")
        if code == 429 and retry_after is None:
            retry_after = 1
        if not description:
            if code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(code, f"Error {code}")
        self._faults.append(
            Fault(method, code, description, retry_after, times, chat_id, timeout, delivered)
        )

    def _take_fault(self, method: str, params: JSON) -> Fault | None:
        for fault in self._faults:
            if fault.method.lower() != method.lower() or fault.times <= 0:
                continue
            if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return fault
        return None

    # ---- the Bot API -------------------------------------------------------------------------

    def handle(
        self, method: str, params: JSON, files: UploadedFiles | None = None
    ) -> tuple[int, JSON]:
        """Run one Bot API call; returns (HTTP status, Telegram's JSON envelope)."""
        files = files or {}
        logged = {k: v for k, v in params.items()} | {
            k: f"<upload {v[0]}>" for k, v in files.items()
        }
        impl = METHODS.get(method.lower())
        fault = self._take_fault(method, params)
        if fault is not None and fault.timeout:
            if fault.delivered and impl is not None:
                with contextlib.suppress(ApiError):
                    impl(self, params, files)
            self._log(method, logged, None, "timed out")
            raise SimulatedTimeout(method)
        try:
            if fault is not None:
                if fault.delivered and impl is not None:
                    with contextlib.suppress(ApiError):
                        impl(self, params, files)
                raise ApiError(fault.code, fault.description, fault.retry_after)
            if impl is None:
                self._unknown.append(method)
                raise ApiError(404, f"Not Found: method {method}")
            if self.limits is not None:
                wait = self.limits.check(method, params, self.clock.now())
                if wait is not None:
                    raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
            result = impl(self, params, files)
        except ApiError as error:
            self._log(method, logged, error.code, error.description)
            body: JSON = {"ok": False, "error_code": error.code, "description": error.description}
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            return error.code, body
        self._log(method, logged, None, None)
        return 200, {"ok": True, "result": result}

    def download(self, file_path: str) -> bytes | None:
        """The bytes behind a `getFile` path (None if there is no such file)."""
        stored = self.files.by_path(file_path)
        return None if stored is None else stored.data

    def _log(self, method: str, params: JSON, code: int | None, description: str | None) -> None:
        ok = code is None and description is None
        self._calls.append(
            Call(len(self._calls) + 1, method, params, ok, code, description, self.clock.now())
        )

    # ---- what users do -----------------------------------------------------------------------

    def _update(self, user_id: int, kind: str, **fields: Any) -> JSON:
        self._user(user_id)
        if self.limits is not None:
            self.limits.user_acted(user_id, self.clock.now())
        msg = self.new_message(user_id, from_bot=False, kind=kind, **fields)
        return {"update_id": next(self._update_ids), "message": self.message_json(msg)}

    def user_text(self, user_id: int, text: str) -> JSON:
        """The user sends text; a leading `/command` gets its `bot_command` entity."""
        entities: list[JSON] = []
        if text.startswith("/") and len(text) > 1:
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command)})
        return self._update(user_id, "text", text=text, entities=entities)

    def user_photo(
        self,
        user_id: int,
        *,
        data: bytes | None = None,
        file_name: str | None = None,
        size: int | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        file_unique_id: str | None = None,
    ) -> JSON:
        """The user sends a photo (three PhotoSize entries, biggest last)."""
        sizes = self.files.photo_sizes(
            data=data, size=size, file_name=file_name, file_unique_id=file_unique_id
        )
        return self._update(
            user_id,
            "photo",
            text=caption or "",
            file=sizes[-1],
            photo_sizes=sizes,
            media_group_id=media_group_id,
        )

    def _user_file(
        self,
        user_id: int,
        kind: str,
        *,
        data: bytes | None,
        file_name: str | None,
        mime_type: str | None,
        size: int | None,
        caption: str | None,
        media_group_id: str | None,
        file_unique_id: str | None,
    ) -> JSON:
        stored = self.files.add(
            kind,
            data=data,
            size=size,
            file_name=file_name,
            mime_type=mime_type,
            file_unique_id=file_unique_id,
        )
        return self._update(
            user_id, kind, text=caption or "", file=stored, media_group_id=media_group_id
        )

    def user_document(
        self,
        user_id: int,
        *,
        data: bytes | None = None,
        file_name: str | None = "file.pdf",
        mime_type: str | None = "application/pdf",
        size: int | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        file_unique_id: str | None = None,
    ) -> JSON:
        return self._user_file(
            user_id,
            "document",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            size=size,
            caption=caption,
            media_group_id=media_group_id,
            file_unique_id=file_unique_id,
        )

    def user_video(
        self,
        user_id: int,
        *,
        data: bytes | None = None,
        file_name: str | None = "video.mp4",
        mime_type: str | None = "video/mp4",
        size: int | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        file_unique_id: str | None = None,
    ) -> JSON:
        return self._user_file(
            user_id,
            "video",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            size=size,
            caption=caption,
            media_group_id=media_group_id,
            file_unique_id=file_unique_id,
        )

    def user_forward(self, user_id: int, sender_name: str, text: str) -> JSON:
        """The user forwards a text written by someone who hides their account."""
        return self._update(user_id, "text", text=text, forward_sender=sender_name)

    def user_sticker(self, user_id: int) -> JSON:
        sticker: FakeFile = self.files.add("sticker", data=b"sticker", file_name="sticker.webp")
        return self._update(user_id, "sticker", file=sticker)

    def user_location(
        self, user_id: int, latitude: float = 31.23, longitude: float = 121.47
    ) -> JSON:
        location = {"latitude": latitude, "longitude": longitude}
        return self._update(user_id, "location", extra={"location": location})

    def user_tap(
        self,
        user_id: int,
        *,
        data: str | None = None,
        label: str | None = None,
        message_id: int | None = None,
    ) -> JSON:
        """The user presses a button: on `message_id`, or on the newest bot message with buttons."""
        if message_id is None:
            with_buttons = [m for m in self.bot_messages(user_id) if m.buttons]
            if not with_buttons:
                raise LookupError(f"no bot message with buttons in chat {user_id}")
            msg = with_buttons[-1]
        else:
            found = self.message(user_id, message_id)
            if found is None or found.deleted or not found.from_bot:
                raise LookupError(f"no bot message {message_id} in chat {user_id}")
            msg = found
        button = msg.find_button(label=label, data=data)
        if button.data is None:
            raise LookupError(f"button [{button.label}] is a link button, not a callback")
        return self._tap(user_id, msg, button.data, button.label)

    def user_tap_raw(self, user_id: int, message_id: int, data: str) -> JSON:
        """A callback query with any data (forged or stale) on a stored bot message."""
        msg = self.message(user_id, message_id)
        if msg is None or not msg.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {user_id}")
        return self._tap(user_id, msg, data, None)

    def _tap(self, user_id: int, msg: FakeMessage, data: str, label: str | None) -> JSON:
        query_id = f"{next(self._query_ids)}{user_id}"
        if self.limits is not None:
            self.limits.user_acted(user_id, self.clock.now())
        self._callbacks[query_id] = None
        tap = FakeTap(user_id, user_id, msg.message_id, query_id, data, label, next(self._seq))
        self._timeline.setdefault(user_id, []).append(tap)
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": query_id,
                "from": self._user(user_id).to_api(),
                "message": self.message_json(msg),
                "chat_instance": f"ci{user_id}",
                "data": data,
            },
        }
