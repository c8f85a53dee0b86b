"""An in-memory twin of the SQLite store, for tests: same `Store` and `Tx` semantics, dicts.

A unit of work runs over a working copy of the state (the dicts are copied, the records are
frozen so they are shared) and the copy replaces the state only if the work returns: an
exception rolls everything back. Units of work run whole, one at a time, as on the SQLite
store's single thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flows.ports import NumberTaken, Tx, VersionConflict
from flows.records import OPEN_STAGES, ComplaintRecord, UserRecord
from storage.base import ReadOnlyTransaction, T, require_aware


@dataclass
class _State:
    users: dict[int, UserRecord] = field(default_factory=dict)
    updates: dict[int, datetime] = field(default_factory=dict)
    complaints: dict[str, ComplaintRecord] = field(default_factory=dict)  # insertion order

    def copy(self) -> _State:
        return _State(dict(self.users), dict(self.updates), dict(self.complaints))


class MemoryTx:
    """Implements `flows.ports.Tx` (plus `prune_updates`) over a working copy of the state."""

    def __init__(self, state: _State, *, writable: bool) -> None:
        self._state = state
        self._writable = writable

    def _check_writable(self, operation: str) -> None:
        if not self._writable:
            raise ReadOnlyTransaction(f"{operation} inside a read-only unit of work")

    def claim_update(self, update_id: int, now: datetime) -> bool:
        self._check_writable("claim_update")
        require_aware(now, "now")
        if update_id in self._state.updates:
            return False
        self._state.updates[update_id] = now
        return True

    def prune_updates(self, before: datetime) -> int:
        self._check_writable("prune_updates")
        require_aware(before, "before")
        old = [uid for uid, seen in self._state.updates.items() if seen < before]
        for uid in old:
            del self._state.updates[uid]
        return len(old)

    def load_user(self, user_id: int) -> UserRecord | None:
        return self._state.users.get(user_id)

    def save_user(self, user: UserRecord, expected_version: int) -> None:
        self._check_writable("save_user")
        require_aware(user.created_at, "created_at")
        require_aware(user.updated_at, "updated_at")
        stored = self._state.users.get(user.user_id)
        if expected_version == 0:
            if stored is not None:
                raise VersionConflict(f"user {user.user_id} already exists")
        elif stored is None or stored.version != expected_version:
            raise VersionConflict(
                f"user {user.user_id} is not at version {expected_version} (or is absent)"
            )
        self._state.users[user.user_id] = user

    def _newest_first(self) -> list[ComplaintRecord]:
        ordered = list(enumerate(self._state.complaints.values()))
        ordered.sort(key=lambda pair: (pair[1].submitted_at, pair[0]), reverse=True)
        return [complaint for _, complaint in ordered]

    def find_open_complaint(self, user_id: int, type_id: str, target_key: str) -> str | None:
        for c in self._newest_first():
            if (c.user_id, c.type_id, c.target_key) == (user_id, type_id, target_key) and (
                c.stage in OPEN_STAGES
            ):
                return c.number
        return None

    def insert_complaint(self, complaint: ComplaintRecord) -> None:
        self._check_writable("insert_complaint")
        require_aware(complaint.submitted_at, "submitted_at")
        for item in complaint.evidence:
            require_aware(item.received_at, "received_at")
        if complaint.number in self._state.complaints:
            raise NumberTaken(complaint.number)
        self._state.complaints[complaint.number] = complaint

    def get_complaint(self, number: str) -> ComplaintRecord | None:
        return self._state.complaints.get(number)

    def complaints_of(self, user_id: int) -> list[ComplaintRecord]:
        return [c for c in self._newest_first() if c.user_id == user_id]


class MemoryStore:
    """`storage.base.Store` in memory. Counts one round trip per `transact` / `read`."""

    def __init__(self) -> None:
        self._state = _State()
        self._round_trips = 0
        self._closed = False

    @property
    def round_trips(self) -> int:
        return self._round_trips

    async def _hop(self) -> None:
        if self._closed:
            raise RuntimeError("the store is closed")
        self._round_trips += 1
        await asyncio.sleep(0)  # yield like a real hop would; the work itself runs whole
        if self._closed:
            raise RuntimeError("the store is closed")

    async def transact(self, work: Callable[[Tx], T]) -> T:
        await self._hop()
        working = self._state.copy()
        result = work(MemoryTx(working, writable=True))
        self._state = working  # reached only if work returned: otherwise nothing changed
        return result

    async def read(self, work: Callable[[Tx], T]) -> T:
        await self._hop()
        return work(MemoryTx(self._state.copy(), writable=False))

    async def close(self) -> None:
        self._closed = True
