"""Fixtures shared by the whole suite.

- `translator`: the real zh-CN / en message catalogs, loaded once.
- `settings`: test settings on a fresh SQLite file under tmp_path, with one operator (9001).
- `store`: each store backend, fresh and empty (SQLite on a temporary file).
- `sim`: the real Application (production wiring) on the fake Telegram and a FakeClock
  starting Monday 2026-11-23 09:00 Asia/Shanghai; actors are created with `sim.user(...)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
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
from storage.sqlite import SqliteStore

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


@pytest.fixture(params=["sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each store backend, fresh and empty; the contract suite runs once per backend."""
    opened = await SqliteStore.open(tmp_path / "data" / "desk.sqlite3", default_language="zh-CN")
    try:
        yield opened
    finally:
        await opened.close()


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
