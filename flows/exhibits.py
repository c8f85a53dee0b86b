"""What an operator judges, opened: a complaint's evidence and a request's materials.

Files are sent again by their Telegram file id, photos and videos together and documents
together in albums of at most 10 (Telegram's limit), each captioned with which item it is
(number, kind, name, size, time received; for a request, which material). Text records are
quoted in full, forwarded records with their original author. A last message says how many
items there were and leads back to the card. Every Bot API call goes through the pacer.
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.records import EvidenceItem, EvidenceKind
from flows.replies import Attachment, Button, Ref, Reply
from flows.timefmt import at

ALBUM_MAX = 10
NAME_MAX = 60  # file names in captions and on the card are cut to this many characters
CAPTION_TEXT = 600  # a forwarded file's text in its caption (Telegram allows 1024 in all)


def size_text(size: int | None) -> str:
    """ "12 KB", "3.4 MB", "-" when Telegram did not say."""
    if size is None:
        return "-"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size // 1024} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def file_of(item: EvidenceItem) -> Attachment | None:
    """The file to send again; a forwarded file is sent as the kind its MIME type says."""
    if item.file_id is None:
        return None
    if item.kind in (EvidenceKind.PHOTO, EvidenceKind.VIDEO, EvidenceKind.DOCUMENT):
        return Attachment(item.kind.value, item.file_id)
    mime = item.mime_type or ""
    if item.file_name is None and mime in ("", "image/jpeg"):
        return Attachment("photo", item.file_id)
    return Attachment("video" if mime.startswith("video/") else "document", item.file_id)


def line(item: EvidenceItem, index: int) -> Ref:
    """One item on a card: "#2 · photo · evidence.png · 12 KB · 23 Nov 09:14"."""
    name = item.file_name or short(item.text, NAME_MAX) or "-"
    if item.kind is EvidenceKind.FORWARD:
        name = f"{item.sender or '?'}: {name}"
    return Ref(
        "exhibit.line",
        {
            "i": index,
            "kind": Ref(f"evidence.count.{item.kind.value}", {"n": 1}),
            "name": short(name, NAME_MAX),
            "size": size_text(item.size) if item.file_id else "-",
            "at": at(item.received_at),
        },
    )


def _caption(item: EvidenceItem, index: int, total: int, material: Ref | None) -> Ref:
    params = {
        "i": index,
        "total": total,
        "kind": Ref(f"evidence.count.{item.kind.value}", {"n": 1}),
        "name": short(item.file_name or "-", NAME_MAX),
        "size": size_text(item.size),
        "at": at(item.received_at),
        "sender": item.sender or "?",
        "text": short(item.text, CAPTION_TEXT) if item.file_id else item.text,
        "material": material or "",
    }
    if item.kind is EvidenceKind.FORWARD:
        key = "exhibit.forward_file" if item.file_id else "exhibit.forward"
    elif item.file_id is None:
        key = "exhibit.text"
    else:
        key = "exhibit.file"
    if material is not None:
        key += "_of"
    return Ref(key, params)


def _album_kind(attachment: Attachment) -> str:
    return "document" if attachment.kind == "document" else "visual"


def show(
    items: Sequence[tuple[EvidenceItem, Ref | None]], heading: Reply, back: Button
) -> list[Reply]:
    """The heading, then every item in order (files in albums, texts quoted), then the end."""
    replies = [heading]
    total = len(items)
    album, open_kind, in_album = 0, "", 0
    for index, (item, material) in enumerate(items, start=1):
        caption = _caption(item, index, total, material)
        attachment = file_of(item)
        if attachment is None:
            replies.append(Reply(caption.key, caption.params))
            open_kind = ""
            continue
        kind = _album_kind(attachment)
        if kind != open_kind or in_album >= ALBUM_MAX or item.kind is EvidenceKind.FORWARD:
            album, open_kind, in_album = album + 1, kind, 0
        in_album += 1
        replies.append(Reply(caption.key, caption.params, file=attachment, album=album))
        if item.kind is EvidenceKind.FORWARD:
            open_kind = ""  # a forward with its text stands on its own
    replies.append(Reply("exhibit.end", {"count": total}, ((back,),)))
    return replies


def evidence(number: str, items: Sequence[EvidenceItem], back: Button) -> list[Reply]:
    heading = Reply("exhibit.evidence", {"number": number, "count": len(items)})
    return show([(item, None) for item in items], heading, back)
