"""Group commit (storage/group.py): concurrent units share hops and COMMITs, a savepoint each;
one unit's failure is its own. (How much faster this is: `complaint-desk bench`, never here.)"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import cast

import pytest

from flows.ports import Tx, VersionConflict
from flows.records import UserRecord
from storage.sqlite import SqliteStore, SqliteTx

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def user(user_id: int) -> UserRecord:
    return UserRecord(user_id=user_id, language="en", version=1, created_at=T0, updated_at=T0)


def create(user_id: int) -> Callable[[Tx], int]:
    def work(tx: Tx) -> int:
        assert tx.claim_update(user_id, T0)
        tx.save_user(user(user_id), expected_version=0)
        return user_id

    return work


async def stored(store: SqliteStore, ids: range) -> list[int]:
    found = await store.read(lambda tx: [i for i in ids if tx.load_user(i) is not None])
    return list(found)


async def test_units_in_flight_share_hops_and_each_commits(sqlite_store: SqliteStore) -> None:
    before = sqlite_store.round_trips
    results = await asyncio.gather(*(sqlite_store.transact(create(i)) for i in range(1, 33)))
    assert results == list(range(1, 33))
    hops = sqlite_store.round_trips - before
    assert 1 <= hops < 32  # the first goes alone, the rest queued behind it ride together
    assert await stored(sqlite_store, range(1, 33)) == list(range(1, 33))


async def test_one_unit_failing_is_rolled_back_alone(sqlite_store: SqliteStore) -> None:
    def fails(tx: Tx) -> None:
        tx.claim_update(99, T0)
        tx.save_user(user(99), expected_version=0)
        raise ZeroDivisionError

    units: list[Awaitable[object]] = [sqlite_store.transact(create(i)) for i in range(1, 11)]
    units.insert(5, sqlite_store.transact(fails))
    results = await asyncio.gather(*units, return_exceptions=True)
    assert isinstance(results.pop(5), ZeroDivisionError)
    assert results == list(range(1, 11))
    assert await stored(sqlite_store, range(1, 100)) == list(range(1, 11))  # 99 rolled back
    assert await sqlite_store.transact(lambda tx: tx.claim_update(99, T0)) is True


async def test_a_conflict_reruns_only_that_unit(sqlite_store: SqliteStore) -> None:
    runs: list[int] = []

    def stale_once(tx: Tx) -> str:
        runs.append(1)
        tx.claim_update(500 + len(runs), T0)
        if len(runs) == 1:
            raise VersionConflict("someone else moved it")
        return "second run"

    units: list[Awaitable[object]] = [sqlite_store.transact(create(i)) for i in range(1, 4)]
    results = await asyncio.gather(*units, sqlite_store.transact(stale_once))
    assert results == [1, 2, 3, "second run"]
    claimed = await sqlite_store.read(lambda tx: [tx.load_user(i) is not None for i in (1, 2, 3)])
    assert claimed == [True, True, True]
    # the first run's claim (501) was rolled back with its savepoint: it can be claimed again
    assert await sqlite_store.transact(lambda tx: tx.claim_update(501, T0)) is True
    assert await sqlite_store.transact(lambda tx: tx.claim_update(502, T0)) is False


async def test_a_lost_transaction_reruns_every_unit_alone(sqlite_store: SqliteStore) -> None:
    def abandons_the_transaction(tx: Tx) -> None:
        tx.claim_update(77, T0)
        cast(SqliteTx, tx)._conn.execute("ROLLBACK")  # as SQLite does after some errors

    units: list[Awaitable[object]] = [sqlite_store.transact(create(i)) for i in range(1, 6)]
    units.insert(2, sqlite_store.transact(abandons_the_transaction))
    results = await asyncio.gather(*units, return_exceptions=True)
    assert isinstance(results.pop(2), sqlite3.OperationalError)  # its COMMIT, alone, fails
    assert results == [1, 2, 3, 4, 5]
    assert await stored(sqlite_store, range(1, 6)) == [1, 2, 3, 4, 5]
    assert await sqlite_store._on_db_thread(lambda conn: conn.in_transaction) is False


@pytest.mark.parametrize("size", [1, 64, 65])
async def test_batches_stop_at_their_limit(sqlite_store: SqliteStore, size: int) -> None:
    results = await asyncio.gather(*(sqlite_store.transact(create(i)) for i in range(size)))
    assert results == list(range(size))
