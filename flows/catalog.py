"""The rules catalog: complaint types, evidence and target rules, revocation windows, limits.

All rule *values* are data (`flows/catalog.yaml`, shipped with the package), validated into
frozen pydantic models at start-up. An operator replaces the file with `COMPLAINT_DESK_CATALOG`.
An invalid file raises CatalogError naming the file and the field, e.g.
`my.yaml: types[2].revocation.window_hours: Input should be greater than 0`.

The defaults are modelled on public articles (see `../shared/seeds`), not on any platform's
official policy.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from flows.records import EvidenceKind

DEFAULT_CATALOG = Path(__file__).with_name("catalog.yaml")


class CatalogError(Exception):
    """The catalog file is unreadable or invalid; the message names the file and the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Localized(RootModel[dict[str, Annotated[str, Field(min_length=1)]]]):
    """A text in every language the desk speaks, keyed by language code (`zh-CN: "..."`).

    Parsed as part of a catalog (`parse_catalog`), it must have exactly the catalog's
    `languages`: no language missing, none unknown.
    """

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="after")
    def _every_language(self, info: ValidationInfo) -> Localized:
        languages = (info.context or {}).get("languages")
        if not isinstance(languages, list | tuple):
            return self
        missing = [lang for lang in languages if lang not in self.root]
        unknown = [lang for lang in self.root if lang not in languages]
        if missing:
            raise ValueError(f"no text in {', '.join(missing)}")
        if unknown:
            raise ValueError(f"{', '.join(unknown)} is not in the catalog's languages")
        return self

    def get(self, language: str) -> str:
        return self.root[language]

    def as_dict(self) -> dict[str, str]:
        return dict(self.root)


class TargetKind(StrEnum):
    ACCOUNT = "account"
    MERCHANT = "merchant"
    TRANSACTION = "transaction"
    MINI_PROGRAM = "mini_program"
    CONTENT = "content"
    OTHER = "other"


class TargetRule(_Frozen):
    """What a complaint of this type is against, and how the answer is validated."""

    kind: TargetKind
    pattern: str = Field(description="regular expression the whole (trimmed) answer must match")
    min_length: int = Field(default=1, ge=1)
    max_length: int = Field(default=100, ge=1, le=500)
    prompt: Localized
    invalid: Localized

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.max_length < self.min_length:
            raise ValueError("max_length must be at least min_length")
        return self

    def accepts(self, answer: str) -> bool:
        text = answer.strip()
        return self.min_length <= len(text) <= self.max_length and bool(
            re.fullmatch(self.pattern, text)
        )


class EvidenceRule(_Frozen):
    kinds: tuple[EvidenceKind, ...] = Field(min_length=1)
    min_count: int = Field(ge=0)
    max_count: int = Field(ge=1, le=50)
    hint: Localized

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.max_count < self.min_count:
            raise ValueError("max_count must be at least min_count")
        return self


class Revocation(_Frozen):
    """Whether and how long a complaint of this type can be taken back.

    Exactly one of `window_hours` / `window_working_days` is set when `revocable`.
    Working days follow the mainland-China calendar in Asia/Shanghai.
    """

    revocable: bool
    window_hours: int | None = Field(default=None, gt=0)
    window_working_days: int | None = Field(default=None, gt=0)
    self_service: bool = False
    rule: Localized  # one sentence shown before submission, e.g. "revocable for 24 h"
    # Where a refused revocation points: customer service ("misreported complaint + number"),
    # escalation outside the platform, or (for judicial and police matters) the legal route: a
    # lawyer's letter to the internet court asking for a correction.
    refused_next: Literal["customer_service", "escalate", "legal_route"] = "customer_service"

    @model_validator(mode="after")
    def _window(self) -> Self:
        windows = [w for w in (self.window_hours, self.window_working_days) if w is not None]
        if self.revocable and len(windows) != 1:
            raise ValueError(
                "a revocable type needs exactly one of window_hours or window_working_days"
            )
        if not self.revocable and (windows or self.self_service):
            raise ValueError("a non-revocable type has no window and no self-service")
        return self


class ComplaintType(_Frozen):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,23}$")]
    title: Localized
    short: Localized | None = None  # a word or two for phone-sized buttons (operators' filters)
    summary: Localized
    prepare: Localized  # what to prepare before filing
    rating: float | None = Field(default=None, ge=0, le=5)  # article 002's success rating
    warning: Localized | None = None  # shown prominently before filing (e.g. not revocable)
    target: TargetRule
    evidence: EvidenceRule
    revocation: Revocation


class Limits(_Frozen):
    max_file_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    description_min: int = Field(default=10, ge=1)
    description_max: int = Field(default=2000, ge=1, le=3500)
    text_record_max: int = Field(default=1000, ge=1, le=3500)
    auto_review_hours: int = Field(default=2, gt=0)
    monthly_revocation_requests: int = Field(default=3, ge=0)
    daily_appeals: int = Field(default=2, ge=0)
    reminder_minutes_before: int = Field(default=60, gt=0)
    explanation_min: int = Field(default=5, ge=1)  # a revocation's "other reason", in characters
    explanation_max: int = Field(default=300, ge=1, le=1000)

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.description_max < self.description_min:
            raise ValueError("description_max must be at least description_min")
        if self.explanation_max < self.explanation_min:
            raise ValueError("explanation_max must be at least explanation_min")
        return self


class FileKind(StrEnum):
    """What a revocation material may be sent as (a document is told apart by MIME type and
    file-name extension: `flows.materials.file_kind`)."""

    PHOTO = "photo"
    VIDEO = "video"
    IMAGE_FILE = "image_file"  # a document: image/* (JPEG, PNG...)
    VIDEO_FILE = "video_file"  # a document: video/*
    PDF = "pdf"  # a document: application/pdf named *.pdf


class MaterialOption(_Frozen):
    """One way to provide a material: `count` items, each of one of `kinds`."""

    kinds: tuple[FileKind, ...] = Field(min_length=1)
    count: int = Field(default=1, ge=1, le=10)


class MaterialRule(_Frozen):
    """A revocation material (spec section 6): its options, the first that fits is used (the
    first item sent picks the option; the rest must be of that option's kinds)."""

    options: tuple[MaterialOption, ...] = Field(min_length=1)


def _default_materials() -> dict[str, MaterialRule]:
    image = (FileKind.PHOTO, FileKind.IMAGE_FILE)
    video = (FileKind.VIDEO, FileKind.VIDEO_FILE)
    scan = MaterialRule(options=(MaterialOption(kinds=(*image, FileKind.PDF)),))
    return {
        "identity": MaterialRule(
            options=(MaterialOption(kinds=image, count=2), MaterialOption(kinds=video))
        ),
        "passport": scan,
        "screen_recording": MaterialRule(options=(MaterialOption(kinds=video),)),
        "statement": MaterialRule(options=(MaterialOption(kinds=(FileKind.PDF,)),)),
        "business_licence": scan,
    }


MATERIAL_NAMES = frozenset(_default_materials())
_LANGUAGE_CODE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class Catalog(_Frozen):
    version: int = Field(ge=1)
    # The languages the desk speaks, code -> its name in itself, in the order of the language
    # menu: every text of the catalog has one entry per language, and bot/locales/<code>/
    # holds its message catalogs.
    languages: dict[
        Annotated[str, Field(pattern=_LANGUAGE_CODE)], Annotated[str, Field(min_length=1)]
    ] = Field(min_length=1)
    disclaimer: Localized
    limits: Limits = Limits()
    types: tuple[ComplaintType, ...] = Field(min_length=1)
    # What each revocation material accepts, by name (identity, passport, screen_recording,
    # statement, business_licence); every one must be present.
    materials: dict[str, MaterialRule] = Field(default_factory=_default_materials)

    @field_validator("materials")
    @classmethod
    def _all_materials(cls, materials: dict[str, MaterialRule]) -> dict[str, MaterialRule]:
        if set(materials) != MATERIAL_NAMES:
            raise ValueError(f"materials must name exactly: {', '.join(sorted(MATERIAL_NAMES))}")
        return materials

    @field_validator("types")
    @classmethod
    def _unique_ids(cls, types: tuple[ComplaintType, ...]) -> tuple[ComplaintType, ...]:
        seen: set[str] = set()
        for t in types:
            if t.id in seen:
                raise ValueError(f"duplicate type id {t.id!r}")
            seen.add(t.id)
        return types

    @property
    def codes(self) -> tuple[str, ...]:
        """The language codes, in the order of the language menu."""
        return tuple(self.languages)

    def default_language(self, requested: str = "") -> str:
        """`requested` (DEFAULT_LANGUAGE) if the catalog lists it, the first language if empty."""
        if not requested:
            return self.codes[0]
        if requested not in self.languages:
            raise ValueError(
                f"DEFAULT_LANGUAGE {requested!r} is not one of the catalog's languages "
                f"({', '.join(self.codes)})"
            )
        return requested

    def type(self, type_id: str | None) -> ComplaintType | None:
        return next((t for t in self.types if t.id == type_id), None)


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_catalog(text: str, source: str) -> Catalog:
    """Validate catalog YAML text; errors name `source` and the field path."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{source}: not valid YAML: {exc}") from None
    languages = data.get("languages") if isinstance(data, dict) else None
    if isinstance(languages, dict):
        languages = list(languages)
    try:
        return Catalog.model_validate(data, context={"languages": languages})
    except ValidationError as exc:
        lines = [f"{source}: {_where(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise CatalogError("\n".join(lines)) from None


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate a catalog file (the shipped default when `path` is None)."""
    path = path or DEFAULT_CATALOG
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_catalog(text, str(path))
