"""Evidence and materials: turning a message into an item, and how items are described.

Shared by filing (a complaint's evidence), the revocation request (its materials) and the
operator's card; pure, no feature imported.
"""

from __future__ import annotations

from datetime import datetime

from flows.events import Forward, Media, MediaKind
from flows.records import EvidenceItem, EvidenceKind
from flows.replies import Ref


def evidence_item(event: Media | Forward | str, now: datetime) -> EvidenceItem:
    """Turn a message into an evidence item (validated later by the flow's guards)."""
    if isinstance(event, str):
        return EvidenceItem(kind=EvidenceKind.TEXT, text=event, received_at=now)
    if isinstance(event, Forward):
        media = event.media
        return EvidenceItem(
            kind=EvidenceKind.FORWARD,
            text=event.text,
            sender=event.sender,
            file_id=media.file_id if media else None,
            file_unique_id=media.file_unique_id if media else None,
            size=media.size if media else None,
            mime_type=_forwarded_mime(media),
            file_name=media.file_name if media else None,
            received_at=now,
        )
    return EvidenceItem(
        kind=EvidenceKind(event.kind.value),
        file_id=event.file_id,
        file_unique_id=event.file_unique_id,
        size=event.size,
        mime_type=event.mime_type,
        file_name=event.file_name,
        media_group_id=event.media_group_id,
        text=event.caption or "",
        received_at=now,
    )


def _forwarded_mime(media: Media | None) -> str | None:
    """A forwarded file keeps its MIME type, so it can be sent again as what it is (Telegram
    photos are always JPEG and carry none)."""
    if media is None:
        return None
    return media.mime_type or ("image/jpeg" if media.kind is MediaKind.PHOTO else None)


def kinds_list(kinds: tuple[EvidenceKind, ...]) -> tuple[Ref, ...]:
    """The kinds a step takes, as a list message ("photo, document")."""
    return tuple(Ref(f"evidence.kind.{k.value}") for k in kinds)


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def too_big(size: int | None, limit: int) -> Ref | None:
    """The refusal of a file over `limit` bytes, or None."""
    if size is None or size <= limit:
        return None
    return Ref("filing.evidence_too_big", {"size": megabytes(size), "limit": megabytes(limit)})


def counts(items: tuple[EvidenceItem, ...]) -> tuple[Ref, ...]:
    """How many items of each kind, in the order the kinds first arrived ("2 photos, 1 file")."""
    found: dict[EvidenceKind, int] = {}
    for item in items:
        found[item.kind] = found.get(item.kind, 0) + 1
    listed = tuple(Ref(f"evidence.count.{k.value}", {"n": n}) for k, n in found.items())
    return listed or (Ref("evidence.none"),)
