"""Rows <-> records: one column list per table, and the mapping derived from it.

A `Table` names its columns once. Its SQL fragments (column lists, placeholders, `SET`
clauses) and the mapping both ways come from that list and the record's field types:

- writing, each column's value is the record's attribute of that name (or an explicit extra,
  e.g. a foreign key), with enums as their values and nested records (a draft, a task,
  request materials, notification params) as JSON; instants stay `datetime` here and the
  store's dialect encodes them (SQLite: fixed-width ISO-8601 UTC text; PostgreSQL:
  `timestamptz`);
- reading, the columns that are fields of the record are decoded by the field's type
  (JSON text -> nested record, instant text -> aware datetime in UTC) and validated by it.

SQL here uses `?` placeholders; the PostgreSQL store translates them.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Generic, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

from flows.records import (
    AuditEntry,
    Broadcast,
    ComplaintRecord,
    Delivery,
    EvidenceItem,
    Notification,
    RevocationRequest,
    TimelineEntry,
    UserRecord,
)
from storage.base import require_aware

Values = tuple[Any, ...]
M = TypeVar("M", bound=BaseModel)


def utc_text(value: datetime, what: str = "datetime") -> str:
    """An aware datetime as fixed-width ISO-8601 UTC text (so text order is time order)."""
    return require_aware(value, what).astimezone(UTC).isoformat(timespec="microseconds")


def marks(count: int) -> str:
    """`?, ?, ...` for `count` values."""
    return ", ".join("?" * count)


def _enum(value: Enum) -> Any:
    return value.value


def _model_json(value: BaseModel) -> str:
    return value.model_dump_json()


def _params_json(value: dict[str, Any]) -> str:
    """Notification params as JSON (a value JSON can't hold is refused when enqueued)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _records_json(value: tuple[BaseModel, ...]) -> str:
    return json.dumps([item.model_dump(mode="json") for item in value], ensure_ascii=False)


def _kinds(annotation: Any) -> set[type]:
    """The classes an annotation admits (`X | None` -> {X, NoneType}; `tuple[...]` -> tuple)."""
    if get_origin(annotation) in (Union, types.UnionType):
        return {kind for arg in get_args(annotation) for kind in _kinds(arg)}
    origin = get_origin(annotation)
    return {origin if isinstance(origin, type) else annotation}


def instant(value: Any) -> Any:
    """A stored instant (SQLite text, PostgreSQL timestamptz) as an aware UTC datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _json_of(model: type[BaseModel]) -> Callable[[Any], Any]:
    """A nested record's JSON text parsed straight into it (pydantic's JSON parser)."""

    def decode(value: Any) -> Any:
        return model.model_validate_json(value) if isinstance(value, str | bytes) else value

    return decode


@dataclass(frozen=True)
class Table(Generic[M]):
    """A table: its name, its columns (the one list) and the record its rows map to."""

    name: str
    model: type[M]
    columns: tuple[str, ...]
    decoders: dict[str, Any] = field(init=False, repr=False, compare=False)
    encoders: dict[str, Any] = field(init=False, repr=False, compare=False)
    fragments: dict[tuple[Any, ...], Any] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        """Per column, from the record field's type: how its value is written (None: as
        it is) and read back (None: as it is)."""
        decoders: dict[str, Any] = {}
        encoders: dict[str, Any] = {}
        for column in self.columns:
            info = self.model.model_fields.get(column)
            if info is None:  # not a field of the record (a key given as an extra)
                continue
            kinds = _kinds(info.annotation)
            classes = [kind for kind in kinds if isinstance(kind, type)]
            decoders[column] = encoders[column] = None
            if datetime in kinds:  # the dialect writes instants (SqliteTx, PgTx)
                decoders[column] = instant
            elif dict in kinds:
                encoders[column], decoders[column] = _params_json, _as_json
            elif tuple in kinds:
                encoders[column], decoders[column] = _records_json, _as_json
            elif models := [kind for kind in classes if issubclass(kind, BaseModel)]:
                encoders[column], decoders[column] = _model_json, _json_of(models[0])
            elif any(issubclass(kind, Enum) for kind in classes):
                encoders[column] = _enum
        object.__setattr__(self, "decoders", decoders)
        object.__setattr__(self, "encoders", encoders)

    def _memo(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """The SQL fragments are built once per table and argument, then reused."""
        found = self.fragments.get(key)
        if found is None:
            found = self.fragments[key] = build()
        return found

    def but(self, *left_out: str) -> tuple[str, ...]:
        """The columns without `left_out` (e.g. an id the database assigns)."""
        return self._memo(  # type: ignore[no-any-return]
            ("but", left_out), lambda: tuple(c for c in self.columns if c not in left_out)
        )

    def select(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return self._memo(  # type: ignore[no-any-return]
            ("select", alias), lambda: ", ".join(prefix + column for column in self.columns)
        )

    def insert(self, columns: Sequence[str] | None = None) -> str:
        """`INSERT INTO name (columns) VALUES (?, ...)` (all columns unless given)."""
        names = self.columns if columns is None else tuple(columns)
        return self._memo(  # type: ignore[no-any-return]
            ("insert", names),
            lambda: f"INSERT INTO {self.name} ({', '.join(names)}) VALUES ({marks(len(names))})",
        )

    def assign(self, columns: Sequence[str]) -> str:
        """`a = ?, b = ?` for an UPDATE's SET clause."""
        names = tuple(columns)
        return self._memo(  # type: ignore[no-any-return]
            ("assign", names), lambda: ", ".join(f"{column} = ?" for column in names)
        )

    def values(
        self, record: BaseModel, columns: Sequence[str] | None = None, **extra: Any
    ) -> Values:
        """The values for `columns` (all unless given), in order: `extra` first, else the
        record's attribute of that name."""
        columns = self.columns if columns is None else columns
        encoders = self.encoders
        values = []
        for column in columns:
            if column in extra:
                values.append(extra[column])
                continue
            value = getattr(record, column)
            encode = encoders[column]
            values.append(value if encode is None or value is None else encode(value))
        return tuple(values)

    def record(self, row: Mapping[str, Any], **extra: Any) -> M:
        """The record of a row selected with `select()`; `extra` supplies other fields."""
        data: dict[str, Any] = {}
        for column, decode in self.decoders.items():
            value = row[column]
            data[column] = value if decode is None or value is None else decode(value)
        data.update(extra)
        return self.model.model_validate(data)


def _columns(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(","))


# Complaints: what is set once at filing, then what changes over a complaint's life
# (update_complaint writes the life columns).
COMPLAINT_FILING = _columns(
    "number, user_id, type_id, target, target_key, description, language, submitted_at"
)
COMPLAINT_LIFE = _columns(
    "stage, review_due_at, revocable_until, remind_at, operator_id, result_text, "
    "reviews_requested, loss_reported, revoked_at, version"
)
# What may change once a revocation request is made (its decision).
REQUEST_DECISION = _columns("flagged, status, decided_at, decided_by, decision_text")

USERS = Table(
    "users",
    UserRecord,
    _columns(
        "user_id, language, language_chosen, confirm_twice, state, draft, task, blocked_bot, "
        "nonce, version, created_at, updated_at"
    ),
)
COMPLAINTS = Table("complaints", ComplaintRecord, (*COMPLAINT_FILING, *COMPLAINT_LIFE))
EVIDENCE = Table(
    "evidence",
    EvidenceItem,
    _columns(
        "complaint_number, position, kind, file_id, file_unique_id, size, mime_type, "
        "file_name, media_group_id, text, sender, received_at"
    ),
)
EVENTS = Table(
    "complaint_events",
    TimelineEntry,
    _columns("complaint_number, position, at, kind, actor, text"),
)
REQUESTS = Table(
    "revocation_requests",
    RevocationRequest,
    _columns(
        "number, complaint_number, user_id, reason, account_kind, materials, flagged, status, "
        "created_at, decided_at, decided_by, decision_text"
    ),
)
OUTBOX = Table("outbox", Notification, _columns("id, user_id, key, params, created_at"))
AUDIT = Table("audit", AuditEntry, _columns("at, actor, action, subject, detail, count"))
BROADCASTS = Table(
    "broadcasts",
    Broadcast,
    _columns(
        "id, operator_id, text, photo_file_id, segment_kind, segment_value, status, total, "
        "created_at, finished_at, progress_message_id"
    ),
)
DELIVERIES = Table(
    "deliveries",
    Delivery,
    _columns("broadcast_id, user_id, state, attempts, message_id, error, updated_at"),
)
