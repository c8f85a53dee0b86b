"""The fake world's file store: ids, unique ids, sizes, bytes and download paths."""

from __future__ import annotations

import hashlib
import itertools

from bot.fake.models import FakeFile

MAX_DOWNLOAD = 20 * 1024 * 1024
"""Bots may download files of at most 20 MB with getFile."""

_FOLDERS = {"photo": "photos", "document": "documents", "video": "videos", "sticker": "stickers"}


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, FakeFile] = {}
        self._by_path: dict[str, FakeFile] = {}
        self._counter = itertools.count(1)
        self._photo_groups: dict[str, list[FakeFile]] = {}

    def add(
        self,
        kind: str,
        *,
        data: bytes | None = None,
        size: int | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        file_unique_id: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> FakeFile:
        """Store a new file. Equal bytes (or an equal explicit unique id) share `file_unique_id`,
        as in Telegram; every stored copy still gets its own `file_id`."""
        n = next(self._counter)
        payload = data if data is not None else b""
        if file_unique_id is None:
            if data is not None:
                file_unique_id = "AQAD" + hashlib.sha256(data).hexdigest()[:16]
            else:
                file_unique_id = f"AQAD{n:08d}"
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        elif kind == "photo":
            suffix = ".jpg"
        stored = FakeFile(
            file_id=f"{kind}-{n:06d}-{file_unique_id}",
            file_unique_id=file_unique_id,
            kind=kind,
            size=size if size is not None else len(payload),
            data=payload,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
            file_path=f"{_FOLDERS.get(kind, kind + 's')}/file_{n}{suffix}",
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> FakeFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> FakeFile | None:
        return self._by_path.get(file_path)

    def photo_sizes(
        self,
        *,
        data: bytes | None,
        size: int | None,
        file_name: str | None,
        file_unique_id: str | None = None,
    ) -> list[FakeFile]:
        """Three PhotoSize entries, smallest first; the last carries the real bytes and size."""
        big = self.add(
            "photo",
            data=data,
            size=size,
            file_name=file_name,
            mime_type="image/jpeg",
            file_unique_id=file_unique_id,
            width=1280,
            height=960,
        )
        small = self.add(
            "photo",
            size=max(1, big.size // 40),
            file_name=file_name,
            file_unique_id=big.file_unique_id + "_s",
            width=90,
            height=68,
        )
        medium = self.add(
            "photo",
            size=max(1, big.size // 8),
            file_name=file_name,
            file_unique_id=big.file_unique_id + "_m",
            width=320,
            height=240,
        )
        group = [small, medium, big]
        for member in group:
            self._photo_groups[member.file_id] = group
        return group

    def photo_group(self, file_id: str) -> list[FakeFile]:
        """All PhotoSize entries of the photo that `file_id` belongs to."""
        stored = self._by_id.get(file_id)
        if stored is None:
            return []
        return self._photo_groups.get(file_id, [stored])


def file_to_api(stored: FakeFile) -> dict[str, object]:
    """The Bot API object for a stored file (PhotoSize, Document, Video, Sticker...)."""
    data: dict[str, object] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if stored.width is not None:
        data["width"] = stored.width
    if stored.height is not None:
        data["height"] = stored.height
    if stored.kind in ("document", "video"):
        if stored.file_name:
            data["file_name"] = stored.file_name
        if stored.mime_type:
            data["mime_type"] = stored.mime_type
    if stored.kind == "video":
        data.setdefault("width", 1280)
        data.setdefault("height", 720)
        data["duration"] = 10
    if stored.kind == "sticker":
        data.update(
            {"type": "regular", "width": 512, "height": 512, "is_animated": False}
            | {"is_video": False}
        )
    return data
