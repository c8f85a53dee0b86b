"""The Bot API methods of the fake world, strict where Telegram is strict (media in media.py,
reading parameters in params.py).

Each method takes the world, the decoded parameters and the uploaded files, and returns the
`result` part of Telegram's answer or raises ApiError with Telegram's own description.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.fake.media import get_file, send_document, send_media_group, send_photo, send_video
from bot.fake.models import JSON, FakeMessage
from bot.fake.params import (
    MAX_CAPTION,
    MAX_TEXT,
    NOT_MODIFIED,
    bad_request,
    chat_of,
    decoded,
    int_param,
    markup_of,
    text_param,
)
from bot.fake.state import UploadedFiles, WorldState

Method = Callable[[WorldState, JSON, UploadedFiles], Any]


def _target(world: WorldState, params: JSON, action: str) -> FakeMessage:
    chat_id = chat_of(world, params)
    message_id = int_param(params, "message_id", f"message to {action} not found")
    msg = world.message(chat_id, message_id)
    if msg is None or msg.deleted:
        raise bad_request(f"message to {action} not found")
    if action == "edit" and not msg.from_bot:
        raise bad_request("message can't be edited")
    return msg


def _apply_edit(world: WorldState, msg: FakeMessage) -> JSON:
    msg.edited = True
    msg.edit_date = world.clock.now()
    world.notify("edited", msg)
    return world.message_json(msg)


# ---- messages ---------------------------------------------------------------------------------


def send_message(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    chat_id = chat_of(world, params)
    text, signature = text_param(
        params, "text", limit=MAX_TEXT, too_long="message is too long", required=True
    )
    buttons, keyboard = markup_of(params)
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
        raise bad_request("there is no text in the message to edit")
    text, signature = text_param(
        params, "text", limit=MAX_TEXT, too_long="message is too long", required=True
    )
    buttons, _ = markup_of(params)
    if (text, signature, buttons) == (msg.text, msg.markup_source, msg.buttons):
        raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
    msg.text, msg.markup_source, msg.buttons = text, signature, buttons
    return _apply_edit(world, msg)


def edit_message_caption(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    msg = _target(world, params, "edit")
    if msg.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    caption, signature = text_param(
        params, "caption", limit=MAX_CAPTION, too_long="message caption is too long", required=False
    )
    buttons, _ = markup_of(params)
    if (caption, signature, buttons) == (msg.text, msg.markup_source or "", msg.buttons):
        raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
    msg.text, msg.markup_source, msg.buttons = caption, signature, buttons
    return _apply_edit(world, msg)


def edit_message_reply_markup(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    msg = _target(world, params, "edit")
    buttons, _ = markup_of(params)
    if buttons == msg.buttons:
        raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
    msg.buttons = buttons
    return _apply_edit(world, msg)


def delete_message(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    msg = _target(world, params, "delete")
    if world.clock.now() - msg.date > timedelta(hours=48):
        raise bad_request("message can't be deleted for everyone")
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


# ---- chats, bot and housekeeping --------------------------------------------------------------


def send_chat_action(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    chat_of(world, params)
    return True


def get_chat(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    chat_id = chat_of(world, params, check_blocked=False)
    return world.chat_json(chat_id) | {"accent_color_id": 0, "max_reaction_count": 11}


def get_me(world: WorldState, params: JSON, files: UploadedFiles) -> JSON:
    return world.bot_json() | {
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = decoded(params, "scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def set_my_commands(world: WorldState, params: JSON, files: UploadedFiles) -> bool:
    commands = decoded(params, "commands") or []
    for command in commands:
        name = str(command.get("command", ""))
        if (
            not name
            or len(name) > 32
            or not name.replace("_", "").isalnum()
            or name != name.lower()
        ):
            raise bad_request("BOT_COMMAND_INVALID")
    scope = decoded(params, "scope") or {}
    if scope.get("type") == "chat" and int(scope.get("chat_id", 0)) not in world.users:
        raise bad_request("chat not found")  # nobody by that id has opened the bot
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
            raise bad_request(f"{kind.upper()}_TOO_LONG")
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
