"""The broadcast ledger of the in-memory store (the twin of `storage.broadcasts`), mixed into
`storage.memory.MemoryTx`. Same semantics, checked by tests/storage/test_broadcast_ledger.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from flows.records import (
    OPEN_STAGES,
    Broadcast,
    BroadcastStatus,
    ComplaintRecord,
    Delivery,
    DeliveryState,
    Segment,
    SegmentKind,
    UserRecord,
)
from storage.base import require_aware
from storage.broadcasts import IN_FLIGHT_ERROR

_FINISHED = (BroadcastStatus.DONE, BroadcastStatus.CANCELLED)


@dataclass
class LedgerState:
    broadcasts: dict[int, Broadcast] = field(default_factory=dict)
    deliveries: dict[tuple[int, int], Delivery] = field(default_factory=dict)
    last_broadcast_id: int = 0

    def copy(self) -> LedgerState:
        return LedgerState(dict(self.broadcasts), dict(self.deliveries), self.last_broadcast_id)


class _State(Protocol):
    users: dict[int, UserRecord]
    complaints: dict[str, ComplaintRecord]
    ledger: LedgerState


class MemoryLedger:
    """The ledger half of `MemoryTx` (see `flows.ports.Tx` for each method's contract)."""

    _state: _State

    def _check_writable(self, operation: str) -> None:
        raise NotImplementedError  # pragma: no cover - provided by MemoryTx

    def _audience(self, segment: Segment) -> list[int]:
        wanted: set[int] | None = None
        if segment.kind in (SegmentKind.OPEN, SegmentKind.OPEN_TYPE):
            wanted = {
                c.user_id
                for c in self._state.complaints.values()
                if c.stage in OPEN_STAGES
                and (segment.kind is SegmentKind.OPEN or c.type_id == segment.value)
            }
        return sorted(
            u.user_id
            for u in self._state.users.values()
            if not u.blocked_bot
            and (segment.kind is not SegmentKind.LANGUAGE or u.language == segment.value)
            and (wanted is None or u.user_id in wanted)
        )

    def audience_count(self, segment: Segment) -> int:
        return len(self._audience(segment))

    def create_broadcast(self, broadcast: Broadcast) -> Broadcast:
        self._check_writable("create_broadcast")
        require_aware(broadcast.created_at, "created_at")
        ledger = self._state.ledger
        ledger.last_broadcast_id += 1
        broadcast_id = ledger.last_broadcast_id
        recipients = self._audience(broadcast.segment)
        for user_id in recipients:
            ledger.deliveries[(broadcast_id, user_id)] = Delivery(
                broadcast_id=broadcast_id, user_id=user_id, updated_at=broadcast.created_at
            )
        stored = broadcast.model_copy(update={"id": broadcast_id, "total": len(recipients)})
        ledger.broadcasts[broadcast_id] = stored
        return stored

    def get_broadcast(self, broadcast_id: int) -> Broadcast | None:
        return self._state.ledger.broadcasts.get(broadcast_id)

    def list_broadcasts(self, limit: int = 10) -> list[Broadcast]:
        ordered = sorted(self._state.ledger.broadcasts.values(), key=lambda b: -(b.id or 0))
        return ordered[:limit]

    def active_broadcasts(self) -> list[Broadcast]:
        running = [
            b for b in self._state.ledger.broadcasts.values() if b.status is BroadcastStatus.RUNNING
        ]
        return sorted(running, key=lambda b: b.id or 0)

    def set_broadcast_status(
        self,
        broadcast_id: int,
        status: BroadcastStatus,
        now: datetime,
        expected: frozenset[BroadcastStatus] | None = None,
    ) -> bool:
        self._check_writable("set_broadcast_status")
        require_aware(now, "now")
        stored = self._state.ledger.broadcasts.get(broadcast_id)
        if stored is None or (expected is not None and stored.status not in expected):
            return False
        finished = now if status in _FINISHED else None
        self._state.ledger.broadcasts[broadcast_id] = stored.model_copy(
            update={"status": status, "finished_at": finished}
        )
        return True

    def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        self._check_writable("set_progress_message")
        stored = self._state.ledger.broadcasts.get(broadcast_id)
        if stored is not None:
            self._state.ledger.broadcasts[broadcast_id] = stored.model_copy(
                update={"progress_message_id": message_id}
            )

    def _rows(self, broadcast_id: int) -> list[Delivery]:
        rows = [d for (b, _), d in self._state.ledger.deliveries.items() if b == broadcast_id]
        return sorted(rows, key=lambda d: d.user_id)

    def _put(self, row: Delivery, now: datetime, **changes: object) -> None:
        require_aware(now, "now")
        updated = row.model_copy(update={**changes, "updated_at": now})
        self._state.ledger.deliveries[(row.broadcast_id, row.user_id)] = updated

    def claim_deliveries(self, broadcast_id: int, limit: int, now: datetime) -> list[int]:
        self._check_writable("claim_deliveries")
        pending = [d for d in self._rows(broadcast_id) if d.state is DeliveryState.PENDING]
        claimed = pending[: max(limit, 0)]
        for row in claimed:
            self._put(row, now, state=DeliveryState.SENDING, attempts=row.attempts + 1)
        return [row.user_id for row in claimed]

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
        row = self._state.ledger.deliveries.get((broadcast_id, user_id))
        if row is not None:
            self._put(row, now, state=state, message_id=message_id, error=error)

    def release_delivery(self, broadcast_id: int, user_id: int, now: datetime) -> None:
        self._check_writable("release_delivery")
        row = self._state.ledger.deliveries.get((broadcast_id, user_id))
        if row is not None and row.state is DeliveryState.SENDING:
            self._put(row, now, state=DeliveryState.PENDING, attempts=max(row.attempts - 1, 0))

    def recover_in_flight(self, now: datetime) -> int:
        self._check_writable("recover_in_flight")
        in_flight = [
            d for d in self._state.ledger.deliveries.values() if d.state is DeliveryState.SENDING
        ]
        for row in in_flight:
            self._put(row, now, state=DeliveryState.UNKNOWN, error=IN_FLIGHT_ERROR)
        return len(in_flight)

    def delivery_counts(self, broadcast_id: int) -> dict[DeliveryState, int]:
        counts = dict.fromkeys(DeliveryState, 0)
        for row in self._rows(broadcast_id):
            counts[row.state] += 1
        return counts

    def get_delivery(self, broadcast_id: int, user_id: int) -> Delivery | None:
        return self._state.ledger.deliveries.get((broadcast_id, user_id))
