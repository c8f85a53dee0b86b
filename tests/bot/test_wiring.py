"""How bot/ is wired: the store is injected. (What imports what: tests/test_dependency_rule.py.)"""

from __future__ import annotations

from pathlib import Path

from telegram.request import BaseRequest

from bot.app import AnyApp, build_application, runtime
from bot.clock import FakeClock
from bot.config import Settings
from bot.i18n import Translator
from bot.simulator import Simulator
from storage.base import Store
from storage.sqlite import SqliteStore
from tests.conftest import START


async def test_build_application_runs_on_the_store_it_is_given(
    settings: Settings, translator: Translator, tmp_path: Path
) -> None:
    """A store factory replaces the default SQLite file; a restart opens the store again."""
    opened: list[Store] = []
    path = tmp_path / "injected.sqlite3"

    async def open_store() -> Store:
        store = await SqliteStore.open(path, now=START, default_language="zh-CN")
        opened.append(store)
        return store

    async def factory(request: BaseRequest, clock: FakeClock) -> AnyApp:
        return build_application(
            settings, clock=clock, request=request, translator=translator, store=open_store
        )

    async with await Simulator.start(factory, clock=FakeClock(START), translator=translator) as sim:
        alice = sim.user(1001, "Alice", language_code="en")
        await alice.send("/start")
        alice.assert_last("menu.welcome")
        assert runtime(sim.app).store is opened[0]
        assert await opened[0].read(lambda tx: tx.load_user(1001)) is not None
        await sim.restart()
        assert len(opened) == 2
        assert runtime(sim.app).store is opened[1]
    assert isinstance(settings.database, Path)  # a SQLite file (not a PostgreSQL DSN)
    assert not settings.database.exists()  # the default file was never opened
