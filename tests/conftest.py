"""Fixtures shared by the whole suite.

- `translator`: the real zh-CN / en message catalogs, loaded once.
- `settings`: test settings on a fresh SQLite file under tmp_path, with one operator (9001).
- `store`: each store backend, fresh and empty (SQLite on a temporary file, PostgreSQL on
  this run's own database: see tests/pg.py).
- `sim`: the real Application (production wiring) on the fake Telegram and a FakeClock
  starting Monday 2026-11-23 09:00 Asia/Shanghai; actors are created with `sim.user(...)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram.request import BaseRequest

from bot.app import AnyApp, build_application, runtime
from bot.clock import FakeClock
from bot.config import Settings
from bot.i18n import Translator
from bot.simulator import Simulator
from flows.catalog import load_catalog
from storage.base import Store
from storage.factory import open_store
from tests import pg

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
OPERATOR = 9001
_TRANSLATOR = Translator.load()


@pytest.fixture
def translator() -> Translator:
    """The shipped message catalogs (both languages)."""
    return _TRANSLATOR


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for one test: its own database file, one operator."""
    return Settings(
        database=tmp_path / "desk.sqlite3",
        operator_ids=frozenset({OPERATOR}),
        sweep_seconds=3600,  # deadlines still fire on time: the sweeper sleeps until the next one
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """This run's own PostgreSQL database, migrated once, dropped at the end; its DSN."""
    pg.require_server()
    with pg.scratch_database() as dsn:
        yield dsn


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each store backend, fresh and empty; the contract suite runs once per backend
    (SQLite on a temporary file; PostgreSQL on this run's database, emptied after)."""
    dsn = None
    if request.param == "postgresql":
        dsn = request.getfixturevalue("pg_server")
    opened = await open_store(dsn or tmp_path / "data" / "desk.sqlite3", default_language="zh-CN")
    try:
        yield opened
    finally:
        await opened.close()
        if dsn is not None:
            pg.empty_tables(dsn)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line when the PostgreSQL tests were skipped (no server here)."""
    problem = pg.unavailable.cache_info().currsize and pg.unavailable()
    if problem:
        terminalreporter.write_line(f"PostgreSQL tests skipped: {problem}", yellow=True)


@pytest.fixture
async def sim(settings: Settings) -> AsyncIterator[Simulator]:
    """The real bot on the fake Telegram and a FakeClock, stopped after the test."""

    async def factory(request: BaseRequest, clock: FakeClock) -> AnyApp:
        return build_application(settings, clock=clock, request=request, translator=_TRANSLATOR)

    simulator = await Simulator.start(
        factory,
        clock=FakeClock(START),
        translator=_TRANSLATOR,
        default_language=load_catalog(settings.catalog).default_language(settings.default_language),
    )
    async with simulator:
        yield simulator


def store_of(sim: Simulator) -> object:
    """The running bot's store (for round-trip counts and direct reads)."""
    return runtime(sim.app).store
