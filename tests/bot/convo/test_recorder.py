"""`:record FILE` in the console writes a script that passes as a test, and fails when the
bot answers differently."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.convo.expect import ConvoFailure
from bot.convo.model import parse
from bot.convo.runner import run_script
from tests.bot.test_console import console as console_session


async def console(settings: Settings, tmp_path: Path, lines: list[str]) -> str:
    code, out = await console_session(settings, tmp_path, lines, as_json=False)
    assert code == 0, out
    return out


async def test_a_recorded_session_passes_as_a_test(settings: Settings, tmp_path: Path) -> None:
    recorded = tmp_path / "session.convo.yaml"
    (tmp_path / "receipt.png").write_bytes(b"\x89PNG receipt")
    out = await console(
        settings,
        tmp_path,
        [
            f":record {recorded}",
            "/start",
            ":tap File a complaint",
            ":tap Payment dispute",
            ":tap Continue",
            "4200001234202611230001",
            f":photo {tmp_path / 'receipt.png'}",
            ":forward Seller: no refund",
            ":tap Done",
            "Paid twice for one order.",
            ":tap Submit",
            ":tap Yes, submit",
            ":as 9001",
            "/queue",
            ":as 1001",
            ":advance 3h",
            ":stop",
            "/start",  # after :stop: not in the script
        ],
    )
    assert "error" not in out
    script = yaml.safe_load(recorded.read_text(encoding="utf-8"))
    assert script["actors"] == {
        "user1001": {"id": 1001, "language": "en"},
        "operator9001": {"id": 9001, "language": "en", "operator": True},
    }
    steps = script["steps"]
    assert len(steps) == 13
    assert steps[5] == {
        "user1001": {"photo": {"file": "receipt.png"}},
        "expect": {"user1001": [{"key": "filing.evidence_status"}, "nothing_more"]},
    }
    submitted = steps[10]["expect"]["user1001"][0]
    assert submitted == {"key": "filing.submitted", "params": {"number": "$complaint"}}
    queue = steps[11]["expect"]["operator9001"][0]
    assert queue["key"] == "operator.queue"
    assert queue["buttons"][0]["label"].startswith("$complaint")  # its button, one per complaint
    reminder = steps[12]["expect"]["user1001"][0]
    assert reminder == {"key": "notify.manual_review", "params": {"number": "$complaint"}}
    await run_script(parse(recorded))

    changed = recorded.read_text(encoding="utf-8").replace("filing.review", "filing.ask_target")
    recorded.write_text(changed, encoding="utf-8")
    with pytest.raises(ConvoFailure) as caught:
        await run_script(parse(recorded))
    assert "expected user1001 to get {key: 'filing.ask_target'}" in str(caught.value)


async def test_stop_without_record_and_record_without_a_file_are_errors(
    settings: Settings, tmp_path: Path
) -> None:
    out = await console(
        settings, tmp_path, [":stop", ":record", f":record {tmp_path}/missing/x.convo.yaml"]
    )
    assert "error: not recording (:record FILE starts)" in out
    assert "error: usage: :record FILE" in out
    assert "error: cannot record to" in out
