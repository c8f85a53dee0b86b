"""`bot -> flows <- storage`: the domain imports no Telegram, no database, no asyncio, no clock;
and no package has an import cycle or (in flows/) an import hidden inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BANNED_IN_FLOWS = ("telegram", "aiosqlite", "sqlite3", "asyncio", "bot", "storage", "time")
PACKAGES = ("flows", "storage", "bot")
CLOCK_READS = ("now", "utcnow", "today")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _calls_now(path: Path) -> bool:
    """Whether the module reads the wall clock: `datetime.now()`, `date.today()`... anywhere."""
    return any(
        isinstance(node, ast.Attribute)
        and node.attr in CLOCK_READS
        and isinstance(node.value, ast.Name)
        and node.value.id in ("datetime", "date")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


@pytest.mark.parametrize("path", sorted((ROOT / "flows").glob("*.py")), ids=lambda p: p.name)
def test_flows_module_is_pure(path: Path) -> None:
    """No flows module imports an adapter, a database, asyncio or reads the wall clock."""
    bad = {n for n in _imports(path) if n.split(".")[0] in BANNED_IN_FLOWS}
    assert not bad, f"{path.name} imports {sorted(bad)}"
    assert not _calls_now(path), f"{path.name} reads the wall clock"


@pytest.mark.parametrize("path", sorted((ROOT / "storage").glob("*.py")), ids=lambda p: p.name)
def test_storage_does_not_import_the_adapters(path: Path) -> None:
    """Storage implements the domain's port; it never reaches into the Telegram side."""
    bad = {n for n in _imports(path) if n.split(".")[0] in ("bot", "telegram")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    """The checks above can fail: a module importing telegram and calling datetime.now is caught,
    also when another `.now` attribute (a model's `now`) comes first."""
    bad = tmp_path / "bad.py"
    bad.write_text("import telegram\nfrom datetime import datetime\nx = datetime.now()\n")
    assert "telegram" in _imports(bad)
    assert _calls_now(bad)
    hidden = tmp_path / "hidden.py"
    hidden.write_text(
        "from datetime import date, datetime\n"
        "def f(ctx):\n    return ctx.now\n"
        "def g():\n    return datetime.now()\n"
    )
    assert _calls_now(hidden)
    hidden.write_text("from datetime import date\ndef f(m):\n    return m.now, date.today()\n")
    assert _calls_now(hidden)
    fine = tmp_path / "fine.py"
    fine.write_text("def f(ctx):\n    return ctx.now, ctx.today\n")
    assert not _calls_now(fine)


# -- the import graph ----------------------------------------------------------------------------


def _module(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The project modules an import statement loads (`from flows import filing` loads
    flows.filing; `from flows.filing import X` loads flows.filing)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    if node.module is None or node.level:
        return set()
    found = {f"{node.module}.{alias.name}" for alias in node.names} & known
    return found | ({node.module} & known)


def import_graph(root: Path, packages: tuple[str, ...]) -> tuple[dict[str, set[str]], list[str]]:
    """Module -> project modules it imports (at module level or inside functions), and the
    imports that sit inside a function, as "module: line"."""
    files = {_module(p, root): p for pkg in packages for p in (root / pkg).rglob("*.py")}
    known = set(files)
    graph: dict[str, set[str]] = {name: set() for name in files}
    inside: list[str] = []
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                inside += [
                    f"{name}:{node.lineno}"
                    for node in ast.walk(fn)
                    if isinstance(node, ast.Import | ast.ImportFrom)
                ]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph[name] |= _targets(node, known) - {name}
    return graph, inside


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles, each once (as the path back to its first module)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for nxt in sorted(graph[name]):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package: str) -> None:
    """Imports at module level and inside functions alike: no module reaches back to itself."""
    graph, _ = import_graph(ROOT, (package,))
    assert len(graph) > 3
    assert cycles(graph) == []


def test_no_import_inside_a_function_in_flows() -> None:
    """flows/ never hides an import inside a function (the way a cycle is usually dodged)."""
    _, inside = import_graph(ROOT, ("flows",))
    assert inside == []


def test_the_engine_names_no_feature() -> None:
    """The engine routes through the registry: it imports no feature module."""
    graph, _ = import_graph(ROOT, ("flows",))
    features = {"flows." + n for n in ("filing", "follow", "guide", "settings", "revoke")}
    features |= {"flows.operator", "flows.operator_task", "flows.broadcast", "flows.features"}
    assert graph["flows.engine"] & features == set()


def test_the_graph_check_finds_a_planted_cycle(tmp_path: Path) -> None:
    """The checks above can fail: a cycle through an import inside a function is found."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from pkg.a import x\n    return x\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    graph, inside = import_graph(tmp_path, ("pkg",))
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]
    assert inside == ["pkg.b:2"]


def test_the_fake_telegram_models_telegram_only() -> None:
    """bot/fake knows nothing of the simulator, the console or the bot it serves."""
    graph, _ = import_graph(ROOT, ("bot",))
    fake = {name: uses for name, uses in graph.items() if name.startswith("bot.fake")}
    assert fake
    for name, uses in fake.items():
        outside = {m for m in uses if not m.startswith("bot.fake")}
        assert outside <= {"bot.clock"}, (name, outside)


def test_background_workers_do_not_import_the_wiring() -> None:
    graph, _ = import_graph(ROOT, ("bot",))
    for name in ("bot.background", "bot.broadcaster"):
        assert "bot.app" not in graph[name], name
