"""Revocation materials as the rules state them (spec section 6, article 002 section 4).

Each material is a catalog rule (`Catalog.materials`): options of `count` items of some file
kinds (identity: two photos or image files of both sides, or one video holding the card). A
file's kind is told from what Telegram says about it: a photo, a video, or a document whose
MIME type (and, for a PDF, its extension) says what it is (`file_kind`). The first item of a
material picks the option; the others must be of its kinds; the material is complete when the
option's count is reached. Which item belongs to which material is never stored: it follows
from the order the items came in (`groups`), for the person sending and for the operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flows.catalog import Catalog, FileKind, MaterialOption, MaterialRule
from flows.evidence import too_big
from flows.records import EvidenceItem, EvidenceKind
from flows.replies import Lines, Ref

PDF_MIME = "application/pdf"


def file_kind(item: EvidenceItem) -> FileKind | None:
    """What a file is, for the material rules; None for text or an unknown kind of document."""
    if item.file_id is None:
        return None
    if item.kind is EvidenceKind.PHOTO:
        return FileKind.PHOTO
    if item.kind is EvidenceKind.VIDEO:
        return FileKind.VIDEO
    mime = (item.mime_type or "").lower()
    name = (item.file_name or "").lower()
    if mime == PDF_MIME and name.endswith(".pdf"):
        return FileKind.PDF
    if mime.startswith("image/"):
        return FileKind.IMAGE_FILE
    if mime.startswith("video/"):
        return FileKind.VIDEO_FILE
    return None


def rule(catalog: Catalog, key: str) -> MaterialRule:
    """The rule of a material, by its message key ("material.identity")."""
    return catalog.materials[key.removeprefix("material.")]


def _option(material: MaterialRule, kind: FileKind | None) -> MaterialOption | None:
    return next((o for o in material.options if kind in o.kinds), None)


@dataclass(frozen=True)
class Group:
    """The items given for one material (`complete` once its option's count is reached)."""

    key: str
    items: tuple[EvidenceItem, ...]
    option: MaterialOption | None
    complete: bool


def groups(catalog: Catalog, needed: Sequence[str], items: Sequence[EvidenceItem]) -> list[Group]:
    """The items in the order they came, split by material; items past the last material
    (never accepted by the request task) form groups of their own under "extra"."""
    out: list[Group] = []
    current: list[EvidenceItem] = []
    option: MaterialOption | None = None
    for item in items:
        if item.file_id is None:
            continue  # the "other reason" explanation: shown on its own
        index = len(out)
        key = needed[index] if index < len(needed) else "operator.material_extra"
        if option is None and index < len(needed):
            option = _option(rule(catalog, key), file_kind(item))
        current.append(item)
        if option is None or len(current) >= option.count:
            out.append(Group(key, tuple(current), option, option is not None))
            current, option = [], None
    if current:
        key = needed[len(out)] if len(out) < len(needed) else "operator.material_extra"
        out.append(Group(key, tuple(current), option, False))
    return out


def position(
    catalog: Catalog, needed: Sequence[str], items: Sequence[EvidenceItem]
) -> tuple[int, Group | None]:
    """Which material is being collected (its index; len(needed) when all are in) and the
    items it already has (None when none yet)."""
    found = groups(catalog, needed, items)
    if found and not found[-1].complete:
        return len(found) - 1, found[-1]
    return len(found), None


def problem(
    catalog: Catalog, needed: Sequence[str], items: Sequence[EvidenceItem], item: EvidenceItem
) -> Ref | None:
    """Why `item` cannot be the next material item (a refusal naming what is needed)."""
    index, started = position(catalog, needed, items)
    key = needed[index]
    material = rule(catalog, key)
    kind = file_kind(item)
    picked = started.option if started else None
    if kind not in (picked.kinds if picked else _all_kinds(material)):
        accepts = option_ref(picked) if picked else accepts_ref(material)
        return Ref("revoke.material_refused", {"material": Ref(key), "accepts": accepts})
    return too_big(item.size, catalog.limits.max_file_bytes)


def all_in(catalog: Catalog, needed: Sequence[str], items: Sequence[EvidenceItem]) -> bool:
    return position(catalog, needed, items)[0] >= len(needed)


def _all_kinds(material: MaterialRule) -> tuple[FileKind, ...]:
    return tuple(k for o in material.options for k in o.kinds)


def option_ref(option: MaterialOption) -> Ref:
    """ "2 × photo, image file (JPG, PNG…)"."""
    kinds = tuple(Ref(f"material.kind.{k.value}") for k in option.kinds)
    return Ref("material.option", {"count": option.count, "kinds": kinds})


def accepts_ref(material: MaterialRule) -> Lines:
    """Every option of a material, one per line."""
    return Lines(tuple(option_ref(o) for o in material.options))
