"""Deployment: the .env example lists every setting with its default; .env is read;
`complaint-desk migrate` and `backup` work on a real SQLite file."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "bot" / "deploy" / "env.example"


def env_name(name: str) -> str:
    field = Settings.model_fields[name]
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else name.upper()


def test_the_env_example_lists_every_setting_with_its_default() -> None:
    listed = dict(re.findall(r"^# ([A-Z_]+)=(.*)$", EXAMPLE.read_text(), flags=re.M))
    defaults = Settings.model_construct()
    for name in Settings.model_fields:
        key = env_name(name)
        assert key in listed, f"{key} is missing from {EXAMPLE.name}"
        value = getattr(defaults, name)
        if value is None or value == frozenset():
            assert listed[key] == "", key
        elif isinstance(value, tuple):
            assert listed[key] == ",".join(value), key
        else:
            assert listed[key] == str(value), key


def test_a_dot_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPERATOR_IDS", raising=False)
    (tmp_path / ".env").write_text("OPERATOR_IDS=11,12\nALLOWED_UPDATES=message\n")
    settings = Settings()
    assert settings.operator_ids == frozenset({11, 12})
    assert settings.allowed_updates == ("message",)


def test_migrate_then_backup_a_sqlite_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "desk.sqlite3"
    monkeypatch.setenv("COMPLAINT_DESK_DB", str(db))
    assert main(["migrate"]) == 0
    assert "0001" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    copy = tmp_path / "backup" / "copy.sqlite3"
    assert main(["backup", str(copy)]) == 0
    with sqlite3.connect(copy) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM migrations")]
    assert names
    assert main(["backup", str(copy)]) == 1  # never overwrites
    assert "exists" in capsys.readouterr().err


def test_backup_points_postgresql_to_pg_dump(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMPLAINT_DESK_DB", "postgresql://postgres@127.0.0.1:5432/none")
    assert main(["backup", "x.sql"]) == 2
    assert "pg_dump" in capsys.readouterr().err


def test_serve_without_its_settings_says_which(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMPLAINT_DESK_DB", str(tmp_path / "desk.sqlite3"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.delenv("WEBHOOK_URL", raising=False)
    assert main(["serve"]) == 2
    assert "serve needs WEBHOOK_URL and WEBHOOK_SECRET" in capsys.readouterr().err


def test_without_migrate_on_start_a_database_behind_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """MIGRATE_ON_START=false: `run` and `serve` stop with exit 2 and say what to run (no
    traceback, nothing migrated); after `complaint-desk migrate` start-up goes on."""
    db = tmp_path / "desk.sqlite3"
    monkeypatch.setenv("COMPLAINT_DESK_DB", str(db))
    monkeypatch.setenv("MIGRATE_ON_START", "false")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.delenv("WEBHOOK_URL", raising=False)
    for command in ("run", "serve"):
        assert main([command]) == 2
        err = capsys.readouterr().err
        assert "not at the latest migration" in err
        assert "run `complaint-desk migrate` first" in err
        assert "Traceback" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == []
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["serve"]) == 2  # past the check: now it is serve's own settings that are missing
    err = capsys.readouterr().err
    assert "serve needs WEBHOOK_URL" in err
    assert "migration" not in err
