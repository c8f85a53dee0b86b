"""The storage port: what the engine needs from a database, as a small synchronous interface.

A `Tx` is one open write transaction. The engine runs a whole update as one function over a
`Tx`; the storage layer runs that function in its database thread between `BEGIN IMMEDIATE`
and `COMMIT` (one thread hop per update) and rolls back if it raises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from flows.records import ComplaintRecord, UserRecord


class VersionConflict(Exception):
    """The user's row changed since it was loaded: the update must be retried or dropped."""


class NumberTaken(Exception):
    """A complaint number collided with an existing one (astronomically rare; draw again)."""


class Tx(Protocol):
    def claim_update(self, update_id: int, now: datetime) -> bool:
        """Record `update_id` as handled; False if it was handled before (a redelivery)."""
        ...

    def prune_updates(self, before: datetime) -> int:
        """Forget update ids seen before `before` (Telegram redelivers within 24 h); how many."""
        ...

    def load_user(self, user_id: int) -> UserRecord | None:
        """The user's row, or None for someone new."""
        ...

    def save_user(self, user: UserRecord, expected_version: int) -> None:
        """Insert (expected_version 0, row absent) or update where the stored version matches.

        Stores `user` as given (the caller bumps `version`); raises VersionConflict otherwise.
        """
        ...

    def find_open_complaint(self, user_id: int, type_id: str, target_key: str) -> str | None:
        """The number of this user's open complaint of this type against this target, if any."""
        ...

    def insert_complaint(self, complaint: ComplaintRecord) -> None:
        """Store a new complaint with its evidence; raises NumberTaken on a number collision."""
        ...

    def get_complaint(self, number: str) -> ComplaintRecord | None: ...

    def complaints_of(self, user_id: int) -> list[ComplaintRecord]:
        """The user's complaints, newest first."""
        ...
