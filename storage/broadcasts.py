"""The broadcast ledger: broadcasts and one `deliveries` row per recipient (part of
`storage.sql.SqlTx`). The shape follows the reliability notes (perf-reliability-anchors §5):

- `create_broadcast` writes the broadcast and, with one `INSERT ... SELECT` over `users`, a
  pending row per recipient in the same transaction: PRIMARY KEY (broadcast_id, user_id), so
  nobody is on a broadcast's ledger twice;
- the sender claims rows in small batches (pending -> sending), records each outcome, and
  puts a row back to pending after a 429;
- rows left `sending` by an owner whose lease expired (it died) become `unknown` (never
  resent); several instances claim disjoint rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
"""

from __future__ import annotations

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
from storage.rows import BROADCASTS, DELIVERIES, marks
from storage.sqlbase import DELIVERY_LEASE, SqlBase

_OPEN_STAGES = tuple(sorted(stage.value for stage in OPEN_STAGES))
_FINISHED = (BroadcastStatus.DONE, BroadcastStatus.CANCELLED)
IN_FLIGHT_ERROR = "in flight when the sender stopped: not resent"


def audience_condition(segment: Segment) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause over `users AS u` that picks a segment's recipients, and its values."""
    where, values = "u.blocked_bot = ?", (False,)
    if segment.kind is SegmentKind.ALL:
        return where, values
    if segment.kind is SegmentKind.LANGUAGE:
        return f"{where} AND u.language = ?", (*values, segment.value)
    complaint = (
        "SELECT 1 FROM complaints AS c WHERE c.user_id = u.user_id "
        f"AND c.stage IN ({marks(len(_OPEN_STAGES))})"
    )
    if segment.kind is SegmentKind.OPEN:
        return f"{where} AND EXISTS ({complaint})", (*values, *_OPEN_STAGES)
    return (
        f"{where} AND EXISTS ({complaint} AND c.type_id = ?)",
        (*values, *_OPEN_STAGES, segment.value),
    )


def _broadcast(row: Any) -> Broadcast:
    segment = Segment(kind=SegmentKind(row["segment_kind"]), value=row["segment_value"])
    return BROADCASTS.record(row, segment=segment)


class LedgerSql(SqlBase):
    """See `flows.ports.Ledger` for each method's contract."""

    def audience_count(self, segment: Segment) -> int:
        where, values = audience_condition(segment)
        row = self._run(f"SELECT COUNT(*) AS n FROM users AS u WHERE {where}", values).fetchone()
        return int(row["n"])

    def create_broadcast(self, broadcast: Broadcast) -> Broadcast:
        self._check_writable("create_broadcast")
        columns = BROADCASTS.but("id")
        segment = broadcast.segment
        broadcast_id = int(
            self._run(
                f"{BROADCASTS.insert(columns)} RETURNING id",
                BROADCASTS.values(
                    broadcast,
                    columns,
                    segment_kind=segment.kind.value,
                    segment_value=segment.value,
                    total=0,
                ),
            ).fetchone()["id"]
        )
        where, values = audience_condition(segment)
        total = self._run(
            f"INSERT INTO deliveries ({DELIVERIES.select()}) "
            "SELECT ?, u.user_id, 'pending', 0, NULL, '', ? FROM users AS u "
            f"WHERE {where} ORDER BY u.user_id",
            (broadcast_id, broadcast.created_at, *values),
        ).rowcount
        self._run("UPDATE broadcasts SET total = ? WHERE id = ?", (total, broadcast_id))
        return broadcast.model_copy(update={"id": broadcast_id, "total": total})

    def _broadcasts(self, where: str, *values: object) -> list[Broadcast]:
        rows = self._run(f"SELECT {BROADCASTS.select()} FROM broadcasts {where}", values)
        return [_broadcast(row) for row in rows]

    def get_broadcast(self, broadcast_id: int) -> Broadcast | None:
        found = self._broadcasts("WHERE id = ?", broadcast_id)
        return found[0] if found else None

    def list_broadcasts(self, limit: int = 10) -> list[Broadcast]:
        return self._broadcasts("ORDER BY id DESC LIMIT ?", limit)

    def active_broadcasts(self) -> list[Broadcast]:
        return self._broadcasts("WHERE status = 'running' ORDER BY id")

    def set_broadcast_status(
        self,
        broadcast_id: int,
        status: BroadcastStatus,
        now: datetime,
        expected: frozenset[BroadcastStatus] | None = None,
    ) -> bool:
        self._check_writable("set_broadcast_status")
        finished = now if status in _FINISHED else None
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
        ids = [
            int(row["user_id"])
            for row in self._run(
                "SELECT user_id FROM deliveries WHERE broadcast_id = ? AND state = 'pending' "
                f"ORDER BY user_id LIMIT ?{self.SKIP_LOCKED}",
                (broadcast_id, limit),
            )
        ]
        if ids:
            self._run(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, "
                "owner = ?, lease_until = ?, updated_at = ? "
                f"WHERE broadcast_id = ? AND user_id IN ({marks(len(ids))})",
                (self._owner, now + DELIVERY_LEASE, now, broadcast_id, *ids),
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
            (state.value, message_id, error, now, broadcast_id, user_id),
        )

    def release_delivery(self, broadcast_id: int, user_id: int, now: datetime) -> None:
        self._check_writable("release_delivery")
        self._run(
            "UPDATE deliveries SET state = 'pending', owner = NULL, lease_until = NULL, "
            "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, "
            "updated_at = ? WHERE broadcast_id = ? AND user_id = ? AND state = 'sending'",
            (now, broadcast_id, user_id),
        )

    def recover_in_flight(self, now: datetime) -> int:
        self._check_writable("recover_in_flight")
        cursor = self._run(
            "UPDATE deliveries SET state = 'unknown', error = ?, updated_at = ? "
            "WHERE state = 'sending' AND (lease_until IS NULL OR lease_until <= ?)",
            (IN_FLIGHT_ERROR, now, now),
        )
        return cursor.rowcount

    def delivery_counts(self, broadcast_id: int) -> dict[DeliveryState, int]:
        counts = dict.fromkeys(DeliveryState, 0)
        for row in self._run(
            "SELECT state, COUNT(*) AS n FROM deliveries WHERE broadcast_id = ? GROUP BY state",
            (broadcast_id,),
        ):
            counts[DeliveryState(row["state"])] = int(row["n"])
        return counts

    def get_delivery(self, broadcast_id: int, user_id: int) -> Delivery | None:
        row = self._run(
            f"SELECT {DELIVERIES.select()} FROM deliveries WHERE broadcast_id = ? AND user_id = ?",
            (broadcast_id, user_id),
        ).fetchone()
        return None if row is None else DELIVERIES.record(row)
