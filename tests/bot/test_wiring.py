"""How bot/ is wired: no import cycles, the fake Telegram apart, the store injected."""

from __future__ import annotations

import ast
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

ROOT = Path(__file__).parents[2]


def _modules(package: str, root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for path in (root / package).rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Every module of `known` that `path` imports anywhere: at the top, under TYPE_CHECKING,
    or inside a function (an import hidden in a function still makes a cycle)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if name in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & set(known)


def _cycles(package: str, root: Path = ROOT) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    known = _modules(package, root)
    graph = {name: _imports(path, known) - {name} for name, path in known.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_bot_has_no_import_cycle() -> None:
    assert _cycles("bot") == []


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    """The check itself: two modules importing each other (one inside a function) are found."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from pkg import a\n    return a\n")
    assert _cycles("pkg", tmp_path) == [["pkg.a", "pkg.b"]]


def test_the_fake_telegram_models_telegram_only() -> None:
    """bot/fake knows nothing of the simulator, the console or the bot it serves."""
    known = _modules("bot")
    for name, path in _modules("bot/fake").items():
        outside = {m for m in _imports(path, known) if not m.startswith("bot.fake")}
        assert outside <= {"bot.clock"}, (name, outside)


def test_background_workers_do_not_import_the_wiring() -> None:
    known = _modules("bot")
    for name in ("bot.background", "bot.broadcaster"):
        assert "bot.app" not in _imports(known[name], known), name


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
