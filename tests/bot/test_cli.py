"""The `complaint-desk` command: diagram, catalog check, start-up refusing an invalid catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from flows.catalog import DEFAULT_CATALOG


def test_diagram_prints_the_filing_flow_as_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram"]) == 0
    out = capsys.readouterr().out
    assert "stateDiagram-v2" in out
    for edge in (
        "IDLE --> CHOOSING_TYPE: file",
        "REVIEWING --> CONFIRMING: submit",
        "PENDING --> MANUAL_REVIEW: auto_review",
        "RESULT_GIVEN --> REVIEW_REQUESTED: request_review",
        "ACCOUNT --> MATERIAL: account",
    ):
        assert edge in out, edge


def test_catalog_check_accepts_the_shipped_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "check", str(DEFAULT_CATALOG)]) == 0
    assert "OK (9 complaint types)" in capsys.readouterr().out


def test_catalog_check_names_the_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "mine.yaml"
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    bad.write_text(text.replace("window_hours: 24", "window_hours: -24", 1), encoding="utf-8")
    assert main(["catalog", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "mine.yaml: types[0].revocation.window_hours" in err


def test_start_up_stops_on_an_invalid_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`complaint-desk run` with COMPLAINT_DESK_CATALOG pointing at a broken file exits 2."""
    bad = tmp_path / "broken.yaml"
    bad.write_text("version: 1\ntypes: []\n", encoding="utf-8")
    monkeypatch.setenv("COMPLAINT_DESK_CATALOG", str(bad))
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml: disclaimer" in err
    assert "broken.yaml: types" in err


def test_the_readme_diagram_is_drawn_from_the_machine(capsys: pytest.CaptureFixture[str]) -> None:
    """Every edge in the README's filing diagram exists in the generated one."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("stateDiagram-v2", 1)[1].split("```", 1)[0]
    edges = [line.strip() for line in block.splitlines() if "-->" in line]
    assert len(edges) >= 8
    main(["diagram", "filing"])
    generated = {line.strip() for line in capsys.readouterr().out.splitlines()}
    assert [e for e in edges if e not in generated] == []


def test_run_without_a_token_opens_the_console_on_the_bots_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run` with no token: the console, on the SQLite file the real bot would use."""
    seen: dict[str, object] = {}

    async def fake_console(settings: object, stdin: object, stdout: object, **kw: object) -> int:
        seen.update(kw)
        return 0

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("COMPLAINT_DESK_DB", str(tmp_path / "desk.sqlite3"))
    monkeypatch.setattr("bot.console.run_console", fake_console)
    assert main(["run"]) == 0
    assert seen == {"db": tmp_path / "desk.sqlite3"}


def test_run_with_a_token_starts_long_polling_with_the_same_handlers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With TELEGRAM_BOT_TOKEN, `make run` builds the same Application and polls Telegram
    (polling itself is replaced here: this machine has no route to Telegram)."""
    from bot.app import AnyApp

    polled: list[tuple[AnyApp, Settings]] = []

    async def fake_poll(app: AnyApp, settings: Settings) -> None:
        polled.append((app, settings))

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("COMPLAINT_DESK_DB", str(tmp_path / "desk.sqlite3"))
    monkeypatch.setattr("bot.polling.poll", fake_poll)
    assert main(["run"]) == 0
    [(app, settings)] = polled
    assert app.bot.token == "123456:TEST-TOKEN"
    assert app.updater is None  # polling is bot/polling.py: offsets confirmed after commit
    assert settings.allowed_updates == ("message", "callback_query")
    assert app.handlers[0]  # the one update handler, as in the tests and the console
