"""The broadcast ledger in SQLite: broadcasts and one `deliveries` row per recipient.

Mixed into `storage.sqlite.SqliteTx` (it uses that class's `_run` and `_check_writable`), so the
ledger's SQL lives here and the rest of the store stays as it is. The shape follows the
reliability notes (docs: perf-reliability-anchors section 5):

- `create_broadcast` writes the broadcast and, with one `INSERT ... SELECT` over `users`, a
  pending row per recipient in the same transaction: PRIMARY KEY (broadcast_id, user_id), so
  nobody is on a broadcast's ledger twice;
- the sender claims rows in small batches (pending -> sending), records each outcome, and
  puts a row back to pending after a 429;
- at start-up, rows a dead process left `sending` become `unknown` (never resent).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flows.records import (
    OPEN_STAGES,
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryState,
    Segment,
    SegmentKind,
)
from storage.rows import from_utc_text as _from_text
from storage.rows import marks, optional_from_utc_text, optional_utc_text, utc_text

_OPEN_STAGES = tuple(sorted(stage.value for stage in OPEN_STAGES))
_BROADCAST_COLUMNS = (
    "id, operator_id, text, photo_file_id, segment_kind, segment_value, status, total, "
    "created_at, finished_at, progress_message_id"
)
_DELIVERY_COLUMNS = "broadcast_id, user_id, state, attempts, message_id, error, updated_at"
_FINISHED = (BroadcastStatus.DONE, BroadcastStatus.CANCELLED)
IN_FLIGHT_ERROR = "in flight when the sender stopped: not resent"


def audience_condition(segment: Segment) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause over `users AS u` that picks a segment's recipients, and its values."""
    where = "u.blocked_bot = 0"
    if segment.kind is SegmentKind.ALL:
        return where, ()
    if segment.kind is SegmentKind.LANGUAGE:
        return f"{where} AND u.language = ?", (segment.value,)
    complaint = (
        "SELECT 1 FROM complaints AS c WHERE c.user_id = u.user_id "
        f"AND c.stage IN ({marks(len(_OPEN_STAGES))})"
    )
    if segment.kind is SegmentKind.OPEN:
        return f"{where} AND EXISTS ({complaint})", _OPEN_STAGES
    return f"{where} AND EXISTS ({complaint} AND c.type_id = ?)", (*_OPEN_STAGES, segment.value)


def broadcast_record(row: sqlite3.Row) -> Broadcast:
    return Broadcast(
        id=row["id"],
        operator_id=row["operator_id"],
        text=row["text"],
        photo_file_id=row["photo_file_id"],
        segment=Segment(kind=SegmentKind(row["segment_kind"]), value=row["segment_value"]),
        status=BroadcastStatus(row["status"]),
        total=row["total"],
        created_at=_from_text(row["created_at"]),
        finished_at=optional_from_utc_text(row["finished_at"]),
        progress_message_id=row["progress_message_id"],
    )


def delivery_record(row: sqlite3.Row) -> Delivery:
    return Delivery(
        broadcast_id=row["broadcast_id"],
        user_id=row["user_id"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        message_id=row["message_id"],
        error=row["error"],
        updated_at=_from_text(row["updated_at"]),
    )


class BroadcastLedger:
    """The ledger half of `SqliteTx` (see `flows.ports.Tx` for each method's contract)."""

    def _run(self, sql: str, parameters: Iterable[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError  # pragma: no cover - provided by SqliteTx

    def _check_writable(self, operation: str) -> None:
        raise NotImplementedError  # pragma: no cover - provided by SqliteTx

    def audience_count(self, segment: Segment) -> int:
        where, values = audience_condition(segment)
        row = self._run(f"SELECT COUNT(*) FROM users AS u WHERE {where}", values).fetchone()
        return int(row[0])

    def create_broadcast(self, broadcast: Broadcast) -> Broadcast:
        self._check_writable("create_broadcast")
        created = utc_text(broadcast.created_at, "created_at")
        cursor = self._run(
            "INSERT INTO broadcasts (operator_id, text, photo_file_id, segment_kind, "
            "segment_value, status, total, created_at, finished_at, progress_message_id) "
            f"VALUES ({marks(10)})",
            (
                broadcast.operator_id,
                broadcast.text,
                broadcast.photo_file_id,
                broadcast.segment.kind.value,
                broadcast.segment.value,
                broadcast.status.value,
                0,
                created,
                optional_utc_text(broadcast.finished_at, "finished_at"),
                broadcast.progress_message_id,
            ),
        )
        broadcast_id = cursor.lastrowid
        assert broadcast_id is not None
        where, values = audience_condition(broadcast.segment)
        total = self._run(
            f"INSERT INTO deliveries ({_DELIVERY_COLUMNS}) "
            "SELECT ?, u.user_id, 'pending', 0, NULL, '', ? FROM users AS u "
            f"WHERE {where} ORDER BY u.user_id",
            (broadcast_id, created, *values),
        ).rowcount
        self._run("UPDATE broadcasts SET total = ? WHERE id = ?", (total, broadcast_id))
        return broadcast.model_copy(update={"id": broadcast_id, "total": total})

    def get_broadcast(self, broadcast_id: int) -> Broadcast | None:
        row = self._run(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)
        ).fetchone()
        return None if row is None else broadcast_record(row)

    def list_broadcasts(self, limit: int = 10) -> list[Broadcast]:
        rows = self._run(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [broadcast_record(row) for row in rows]

    def active_broadcasts(self) -> list[Broadcast]:
        rows = self._run(
            f"SELECT {_BROADCAST_COLUMNS} FROM broadcasts WHERE status = 'running' ORDER BY id"
        )
        return [broadcast_record(row) for row in rows]

    def set_broadcast_status(
        self,
        broadcast_id: int,
        status: BroadcastStatus,
        now: datetime,
        expected: frozenset[BroadcastStatus] | None = None,
    ) -> bool:
        self._check_writable("set_broadcast_status")
        finished = utc_text(now, "now") if status in _FINISHED else None
        condition, values = "", tuple[str, ...]()
        if expected is not None:
            wanted = sorted(s.value for s in expected)
            condition, values = f" AND status IN ({marks(len(wanted))})", tuple(wanted)
        cursor = self._run(
            f"UPDATE broadcasts SET status = ?, finished_at = ? WHERE id = ?{condition}",
            (status.value, finished, broadcast_id, *values),
        )
        return cursor.rowcount == 1

    def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        self._check_writable("set_progress_message")
        self._run(
            "UPDATE broadcasts SET progress_message_id = ? WHERE id = ?",
            (message_id, broadcast_id),
        )

    def claim_deliveries(self, broadcast_id: int, limit: int, now: datetime) -> list[int]:
        self._check_writable("claim_deliveries")
        at = utc_text(now, "now")
        ids = [
            int(row[0])
            for row in self._run(
                "SELECT user_id FROM deliveries WHERE broadcast_id = ? AND state = 'pending' "
                "ORDER BY user_id LIMIT ?",
                (broadcast_id, limit),
            )
        ]
        if ids:
            self._run(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, "
                f"updated_at = ? WHERE broadcast_id = ? AND user_id IN ({marks(len(ids))})",
                (at, broadcast_id, *ids),
            )
        return ids

    def finish_delivery(
        self,
        broadcast_id: int,
        user_id: int,
        state: DeliveryState,
        now: datetime,
        message_id: int | None = None,
        error: str = "",
    ) -> None:
        self._check_writable("finish_delivery")
        self._run(
            "UPDATE deliveries SET state = ?, message_id = ?, error = ?, updated_at = ? "
            "WHERE broadcast_id = ? AND user_id = ?",
            (state.value, message_id, error, utc_text(now, "now"), broadcast_id, user_id),
        )

    def release_delivery(self, broadcast_id: int, user_id: int, now: datetime) -> None:
        self._check_writable("release_delivery")
        self._run(
            "UPDATE deliveries SET state = 'pending', attempts = MAX(attempts - 1, 0), "
            "updated_at = ? WHERE broadcast_id = ? AND user_id = ? AND state = 'sending'",
            (utc_text(now, "now"), broadcast_id, user_id),
        )

    def recover_in_flight(self, now: datetime) -> int:
        self._check_writable("recover_in_flight")
        cursor = self._run(
            "UPDATE deliveries SET state = 'unknown', error = ?, updated_at = ? "
            "WHERE state = 'sending'",
            (IN_FLIGHT_ERROR, utc_text(now, "now")),
        )
        return cursor.rowcount

    def delivery_counts(self, broadcast_id: int) -> dict[DeliveryState, int]:
        counts = dict.fromkeys(DeliveryState, 0)
        for row in self._run(
            "SELECT state, COUNT(*) FROM deliveries WHERE broadcast_id = ? GROUP BY state",
            (broadcast_id,),
        ):
            counts[DeliveryState(row[0])] = int(row[1])
        return counts

    def get_delivery(self, broadcast_id: int, user_id: int) -> Delivery | None:
        row = self._run(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE broadcast_id = ? AND user_id = ?",
            (broadcast_id, user_id),
        ).fetchone()
        return None if row is None else delivery_record(row)
