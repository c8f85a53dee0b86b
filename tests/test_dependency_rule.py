"""`bot -> flows <- storage`: the domain imports no Telegram, no database, no asyncio, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BANNED_IN_FLOWS = ("telegram", "aiosqlite", "sqlite3", "asyncio", "bot", "storage", "time")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _calls_now(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today"):
            return isinstance(node.value, ast.Name) and node.value.id in ("datetime", "date")
    return False


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
    """The checks above can fail: a module importing telegram and calling datetime.now is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("import telegram\nfrom datetime import datetime\nx = datetime.now()\n")
    assert "telegram" in _imports(bad)
    assert _calls_now(bad)
