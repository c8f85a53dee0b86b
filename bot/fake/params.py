"""Reading a Bot API call's parameters as Telegram does: the chat, texts with their parse mode,
inline keyboards; and Telegram's own error descriptions when they are wrong."""

from __future__ import annotations

import json
from typing import Any

from bot.fake.html import render
from bot.fake.models import JSON, ApiError, FakeButton
from bot.fake.state import WorldState

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def decoded(params: JSON, key: str) -> Any:
    """A complex parameter: PTB passes Python values, an HTTP form passes JSON text."""
    value = params.get(key)
    if isinstance(value, str) and value[:1] in ("{", "["):
        return json.loads(value)
    return value


def int_param(params: JSON, key: str, missing: str) -> int:
    value = params.get(key)
    if value is None or value == "":
        raise bad_request(missing)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(missing) from None


def chat_of(world: WorldState, params: JSON, *, check_blocked: bool = True) -> int:
    if "chat_id" not in params and "inline_message_id" in params:
        raise bad_request("inline messages are not supported by the fake world")
    chat_id = int_param(params, "chat_id", "chat_id is empty")
    user = world.users.get(chat_id)
    if user is None:
        raise bad_request("chat not found")
    if check_blocked and user.blocked_bot:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    return chat_id


def markup_of(params: JSON) -> tuple[list[list[FakeButton]], list[list[str]] | None]:
    """Inline buttons (validated like Telegram) and reply-keyboard labels from `reply_markup`."""
    markup = decoded(params, "reply_markup")
    if not markup:
        return [], None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        return [], [[b if isinstance(b, str) else str(b.get("text", "")) for b in r] for r in rows]
    buttons: list[list[FakeButton]] = []
    for row in markup.get("inline_keyboard", []):
        out: list[FakeButton] = []
        for button in row:
            label = str(button.get("text", ""))
            if not label:
                raise bad_request("BUTTON_TEXT_EMPTY")
            if "callback_data" in button:
                data = str(button["callback_data"])
                if not data or len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
                out.append(FakeButton(label, data))
            elif "url" in button:
                out.append(FakeButton(label, url=str(button["url"])))
            else:
                raise bad_request('can\'t find field "callback_data" or "url" in the button')
        buttons.append(out)
    return buttons, None


def text_param(
    params: JSON, key: str, *, limit: int, too_long: str, required: bool
) -> tuple[str, str]:
    """(visible text, source signature) of a text or caption parameter."""
    raw = params.get(key)
    parse_mode = params.get("parse_mode")
    if raw is None or raw == "":
        if required:
            raise bad_request("message text is empty")
        return "", ""
    visible = render(str(raw), str(parse_mode) if parse_mode else None)
    if required and not visible.strip():
        raise bad_request("message text is empty")
    if len(visible) > limit:
        raise bad_request(too_long)
    signature = f"{str(parse_mode).lower()}:{raw}" if parse_mode else f"plain:{raw}"
    return visible, signature
