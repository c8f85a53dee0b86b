"""The fake world's media methods: photos, documents, videos, albums, and `getFile`."""

from __future__ import annotations

from typing import Any

from bot.fake.files import MAX_DOWNLOAD
from bot.fake.models import JSON, FakeFile
from bot.fake.params import MAX_CAPTION, bad_request, chat_of, decoded, markup_of, text_param
from bot.fake.state import UploadedFiles, WorldState


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
        raise bad_request(f"there is no {kind} in the request")
    if value.startswith(("http://", "https://")):
        if kind == "photo":
            return world.files.photo_sizes(data=None, size=50_000, file_name=None)
        return [world.files.add(kind, size=50_000, file_name=value.rsplit("/", 1)[-1])]
    stored = world.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
    return world.files.photo_group(value) if kind == "photo" else [stored]


def _send_media(world: WorldState, params: JSON, files: UploadedFiles, kind: str) -> JSON:
    chat_id = chat_of(world, params)
    caption, signature = text_param(
        params, "caption", limit=MAX_CAPTION, too_long="message caption is too long", required=False
    )
    buttons, keyboard = markup_of(params)
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
    chat_id = chat_of(world, params)
    media = decoded(params, "media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("MEDIA_GROUP_INVALID")
    group_id = world.new_media_group_id()
    prepared = []
    for item in media:
        kind = str(item.get("type", ""))
        if kind not in ("photo", "document", "video"):
            raise bad_request("MEDIA_GROUP_INVALID")
        caption, signature = text_param(
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
        raise bad_request("invalid file_id")
    if stored.size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }
