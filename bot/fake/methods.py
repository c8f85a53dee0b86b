"""The Bot API methods of the fake world, strict where Telegram is strict.

Each method takes the world, the decoded parameters and the uploaded files, and returns the
`result` part of Telegram's answer or raises ApiError with Telegram's own description.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.fake.files import MAX_DOWNLOAD
from bot.fake.html import render
from bot.fake.models import JSON, ApiError, FakeButton, FakeFile, FakeMessage
from bot.fake.state import UploadedFiles, WorldState

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
Method = Callable[[WorldState, JSON, UploadedFiles], Any]


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _decoded(params: JSON, key: str) -> Any:
    """A complex parameter: PTB passes Python values, an HTTP form passes JSON text."""
    value = params.get(key)
    if isinstance(value, str) and value[:1] in ("{", "["):
        return json.loads(value)
    return value


def _int(params: JSON, key: str, missing: str) -> int:
    value = params.get(key)
    if value is None or value == "":
        raise _bad(missing)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(missing) from None


def _chat(world: WorldState, params: JSON, *, check_blocked: bool = True) -> int:
    if "chat_id" not in params and "inline_message_id" in params:
        raise _bad("inline messages are not supported by the fake world")
    chat_id = _int(params, "chat_id", "chat_id is empty")
    user = world.users.get(chat_id)
    if user is None:
        raise _bad("chat not found")
    if check_blocked and user.blocked_bot:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    return chat_id


def _markup(params: JSON) -> tuple[list[list[FakeButton]], list[list[str]] | None]:
    """Inline buttons (validated like Telegram) and reply-keyboard labels from `reply_markup`."""
    markup = _decoded(params, "reply_markup")
    if not markup:
        return [], None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        return [], [[b if isinstance(b, str) else str(b.get("text", "")) for b in r] for r in rows]
    buttons: list[list[FakeButton]] = []
    for row in markup.get("inline_keyboard", []):
        out: list[FakeButton] = []
        for button in row:
            label = str(button.get("text", ""))
            if not label:
                raise _bad("BUTTON_TEXT_EMPTY")
            if "callback_data" in button:
                data = str(button["callback_data"])
                if not data or len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
                    raise _bad("BUTTON_DATA_INVALID")
                out.append(FakeButton(label, data))
            elif "url" in button:
                out.append(FakeButton(label, url=str(button["url"])))
            else:
                raise _bad('can\'t find field "callback_data" or "url" in the button')
        buttons.append(out)
    return buttons, None


def _text(params: JSON, key: str, *, limit: int, too_long: str, required: bool) -> tuple[str, str]:
    """(visible text, source signature) of a text or caption parameter."""
    raw = params.get(key)
    parse_mode = params.get("parse_mode")
    if raw is None or raw == "":
        if required:
            raise _bad("message text is empty")
        return "", ""
    visible = render(str(raw), str(parse_mode) if parse_mode else None)
    if required and not visible.strip():
        raise _bad("message text is empty")
    if len(visible) > limit:
        raise _bad(too_long)
    signature = f"{str(parse_mode).lower()}:{raw}" if parse_mode else f"plain:{raw}"
    return visible, signature


def _target(world: WorldState, params: JSON, action: str) -> FakeMessage:
    chat_id = _chat(world, params)
    message_id = _int(params, "message_id", f"message to {action} not found")
    msg = world.message(chat_id, message_id)
    if msg is None or msg.deleted:
        raise _bad(f"message to {action} not found")
    if action == "edit" and not msg.from_bot:
        raise _bad("message can't be edited")
    return msg


def _apply_edit(world: WorldState, msg: FakeMessage) -> JSON:
    msg.edited = True
    msg.edit_date = world.clock.now()
    world.notify("edited", msg)
    return world.message_json(msg)


# ---- messages ---------------------------------------------------------------------------------


def send_message(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    chat_id = _chat(world, params)
    text, signature = _text(
        params, "text", limit=MAX_TEXT, too_long="message is too long", required=True
    )
    buttons, keyboard = _markup(params)
    msg = world.new_message(
        chat_id,
        from_bot=True,
        kind="text",
        text=text,
        markup_source=signature,
        buttons=buttons,
        reply_keyboard=keyboard,
    )
    return world.message_json(msg)


def edit_message_text(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    msg = _target(world, params, "edit")
    if msg.kind != "text":
        raise _bad("there is no text in the message to edit")
    text, signature = _text(
        params, "text", limit=MAX_TEXT, too_long="message is too long", required=True
    )
    buttons, _ = _markup(params)
    if (text, signature, buttons) == (msg.text, msg.markup_source, msg.buttons):
        raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
    msg.text, msg.markup_source, msg.buttons = text, signature, buttons
    return _apply_edit(world, msg)


def edit_message_caption(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    msg = _target(world, params, "edit")
    if msg.kind == "text":
        raise _bad("there is no caption in the message to edit")
    caption, signature = _text(
        params, "caption", limit=MAX_CAPTION, too_long="message caption is too long", required=False
    )
    buttons, _ = _markup(params)
    if (caption, signature, buttons) == (msg.text, msg.markup_source or "", msg.buttons):
        raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
    msg.text, msg.markup_source, msg.buttons = caption, signature, buttons
    return _apply_edit(world, msg)


def edit_message_reply_markup(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    msg = _target(world, params, "edit")
    buttons, _ = _markup(params)
    if buttons == msg.buttons:
        raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
    msg.buttons = buttons
    return _apply_edit(world, msg)


def delete_message(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    msg = _target(world, params, "delete")
    if world.clock.now() - msg.date > timedelta(hours=48):
        raise _bad("message can't be deleted for everyone")
    msg.deleted = True
    if msg.from_bot:
        world.notify("deleted", msg)
    return True


def answer_callback_query(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    text = params.get("text")
    world.answer_callback(
        str(params.get("callback_query_id", "")),
        None if text is None else str(text),
        bool(params.get("show_alert", False)),
    )
    return True


# ---- media ------------------------------------------------------------------------------------


def _media_file(
    world: WorldState, kind: str, value: Any, files: UploadedFiles, field: str
) -> list[FakeFile]:
    """Resolve a media parameter: an upload, `attach://name`, a known file_id, or a URL."""
    name = field
    if isinstance(value, str) and value.startswith("attach://"):
        name = value.removeprefix("attach://")
    if name in files:
        file_name, data, mime = files[name]
        if kind == "photo":
            return world.files.photo_sizes(data=data, size=None, file_name=file_name)
        return [world.files.add(kind, data=data, file_name=file_name, mime_type=mime)]
    if not isinstance(value, str) or not value:
        raise _bad(f"there is no {kind} in the request")
    if value.startswith(("http://", "https://")):
        if kind == "photo":
            return world.files.photo_sizes(data=None, size=50_000, file_name=None)
        return [world.files.add(kind, size=50_000, file_name=value.rsplit("/", 1)[-1])]
    stored = world.files.get(value)
    if stored is None:
        raise _bad("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise _bad(f"can't use file of type {stored.kind.title()} as {kind.title()}")
    return world.files.photo_group(value) if kind == "photo" else [stored]


def _send_media(world: WorldState, params: JSON, files: UploadedFiles, kind: str) -> JSON:
    chat_id = _chat(world, params)
    caption, signature = _text(
        params, "caption", limit=MAX_CAPTION, too_long="message caption is too long", required=False
    )
    buttons, keyboard = _markup(params)
    stored = _media_file(world, kind, params.get(kind), files, kind)
    msg = world.new_message(
        chat_id,
        from_bot=True,
        kind=kind,
        text=caption,
        markup_source=signature,
        buttons=buttons,
        reply_keyboard=keyboard,
        file=stored[-1],
        photo_sizes=stored if kind == "photo" else [],
    )
    return world.message_json(msg)


def send_photo(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    return _send_media(world, params, files, "photo")


def send_document(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    return _send_media(world, params, files, "document")


def send_video(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    return _send_media(world, params, files, "video")


def send_media_group(world: WorldState, params: JSON, files: UploadedFiles) -> list[JSON]:
    chat_id = _chat(world, params)
    media = _decoded(params, "media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise _bad("MEDIA_GROUP_INVALID")
    group_id = world.new_media_group_id()
    prepared = []
    for item in media:
        kind = str(item.get("type", ""))
        if kind not in ("photo", "document", "video"):
            raise _bad("MEDIA_GROUP_INVALID")
        caption, signature = _text(
            item,
            "caption",
            limit=MAX_CAPTION,
            too_long="message caption is too long",
            required=False,
        )
        prepared.append(
            (kind, caption, signature, _media_file(world, kind, item.get("media"), files, ""))
        )
    sent = []
    for kind, caption, signature, stored in prepared:
        msg = world.new_message(
            chat_id,
            from_bot=True,
            kind=kind,
            text=caption,
            markup_source=signature,
            file=stored[-1],
            photo_sizes=stored if kind == "photo" else [],
            media_group_id=group_id,
        )
        sent.append(world.message_json(msg))
    return sent


def get_file(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    stored = world.files.get(str(params.get("file_id", "")))
    if stored is None:
        raise _bad("invalid file_id")
    if stored.size > MAX_DOWNLOAD:
        raise _bad("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


# ---- chats, bot and housekeeping --------------------------------------------------------------


def send_chat_action(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    _chat(world, params)
    return True


def get_chat(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    chat_id = _chat(world, params, check_blocked=False)
    return world.chat_json(chat_id) | {"accent_color_id": 0, "max_reaction_count": 11}


def get_me(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    return world.bot_json() | {
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = _decoded(params, "scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def set_my_commands(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    commands = _decoded(params, "commands") or []
    for command in commands:
        name = str(command.get("command", ""))
        if (
            not name
            or len(name) > 32
            or not name.replace("_", "").isalnum()
            or name != name.lower()
        ):
            raise _bad("BOT_COMMAND_INVALID")
    world.commands[_commands_key(params)] = list(commands)
    return True


def get_my_commands(world: WorldState, params: JSON, files: UploadedFiles) -> list[JSON]:
    return list(world.commands.get(_commands_key(params), []))


def delete_my_commands(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    world.commands.pop(_commands_key(params), None)
    return True


def set_webhook(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    world.webhook_url = str(params.get("url", ""))
    return True


def delete_webhook(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    world.webhook_url = ""
    return True


def get_webhook_info(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    return {"url": world.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}


def get_updates(world: WorldState, params: JSON, files: UploadedFiles) -> list[JSON]:
    return []  # updates are delivered directly by the front-ends


def _set_description(kind: str, limit: int) -> Method:
    """setMyDescription (up to 512 characters) / setMyShortDescription (up to 120)."""

    def method(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
        text = str(params.get(kind) or "")
        if len(text) > limit:
            raise _bad(f"{kind.upper()}_TOO_LONG")
        world.descriptions[(kind, str(params.get("language_code") or ""))] = text
        return True

    return method


def ok(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    return True


METHODS: dict[str, Method] = {
    "getme": get_me,
    "deletewebhook": delete_webhook,
    "setwebhook": set_webhook,
    "getwebhookinfo": get_webhook_info,
    "getupdates": get_updates,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "setmydescription": _set_description("description", 512),
    "setmyshortdescription": _set_description("short_description", 120),
    "sendmessage": send_message,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "editmessagecaption": edit_message_caption,
    "deletemessage": delete_message,
    "answercallbackquery": answer_callback_query,
    "sendphoto": send_photo,
    "senddocument": send_document,
    "sendvideo": send_video,
    "sendmediagroup": send_media_group,
    "sendchataction": send_chat_action,
    "getfile": get_file,
    "getchat": get_chat,
    "close": ok,
    "logout": ok,
}
"""Lower-cased method name -> implementation (Telegram's method names are case-insensitive)."""
