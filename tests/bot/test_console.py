"""The console: a terminal chat with the real bot over the fake Telegram, driven line by line.

Each test pipes a script into `run_console` (StringIO in and out) on its own database file and
reads what a person or a program would read: the chat as text, or one JSON object per line.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application
from bot.config import Settings
from bot.console import HELP, OPERATOR_ID, ConsoleError, parse_duration, run_console
from bot.console.chat import COMMANDS
from bot.console.view import View
from bot.fake.models import FakeButton, FakeMessage
from bot.i18n import Translator, plain

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
NUMBER = re.compile(r"\d{6}-[0-9A-Z]{4}-[0-9A-Z]{4}")
SCRIPTS = Path(__file__).parent / "console_scripts"
DESCRIPTION = "On 20 Nov they asked me to transfer money and then blocked me."


async def console(
    settings: Settings,
    tmp_path: Path,
    lines: list[str],
    *,
    language: str = "en",
    as_json: bool = True,
    start: datetime = START,
) -> tuple[int, str]:
    """Run the console on `lines`; its exit code and everything it printed."""
    stdout = io.StringIO()
    code = await run_console(
        settings,
        io.StringIO("".join(f"{line}\n" for line in lines)),
        stdout,
        db=tmp_path / "console.sqlite3",
        language=language,
        start=start,
        as_json=as_json,
    )
    return code, stdout.getvalue()


def parse(output: str) -> list[dict[str, Any]]:
    """The JSON objects, one a line; nothing else may be there."""
    objects = [json.loads(line) for line in output.splitlines()]
    assert all(isinstance(o, dict) and "type" in o for o in objects), output
    return objects


def per_line(objects: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The objects each input line produced (each group ends at its `idle`)."""
    groups: list[list[dict[str, Any]]] = [[]]
    for obj in objects:
        if obj["type"] == "idle":
            groups.append([])
        else:
            groups[-1].append(obj)
    assert groups[-1] == [], "output after the last idle"
    return groups[:-1]


def events(objects: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == "event" and o["name"] == name]


def messages(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == "message"]


def listing(folder: Path) -> list[Path]:
    return list(folder.iterdir())


def label(translator: Translator, language: str, key: str, **params: Any) -> str:
    return plain(translator.text(language, key, **params))


async def test_a_piped_english_script_files_a_complaint(settings: Settings, tmp_path: Path) -> None:
    """Labels, numbers, a photo from disk and text lines file a complaint; JSON reports it."""
    shot = tmp_path / "chat.png"
    shot.write_bytes(b"\x89PNG fake screenshot")
    lines = [
        "/start",
        ":tap File a complaint",
        ":tap report a friend",  # a unique prefix, any case
        ":tap 1",  # Continue
        "wxid_scammer88",
        f":photo {shot}",
        ":tap Done",
        DESCRIPTION,
        ":tap Submit",
        ":tap Yes, submit",
    ]
    code, output = await console(settings, tmp_path, lines)
    assert code == 0
    objects = parse(output)
    assert len(per_line(objects)) == len(lines)
    assert {o["type"] for o in objects} == {"message", "event", "idle"}
    submitted = events(objects, "complaint.submitted")
    assert len(submitted) == 1
    assert NUMBER.fullmatch(submitted[0]["data"]["number"])
    assert submitted[0]["data"]["type"] == "friend_report"
    sent = messages(objects)
    assert sent[0]["buttons"][0] == ["File a complaint"]
    assert all(m["chat_id"] == 1001 for m in sent)
    # a tap is answered and the next question sent; answered prompts keep their keyboards
    # (a tap on them is refused as stale), so nothing is edited just to drop buttons
    assert not any(m["edited"] and m["buttons"] == [] for m in sent)
    assert any(submitted[0]["data"]["number"] in m["text"] for m in sent)


async def test_the_same_complaint_in_chinese(
    settings: Settings, tmp_path: Path, translator: Translator
) -> None:
    """In zh-CN the bot speaks Chinese; Chinese labels and numbers both tap."""
    file_label = label(translator, "zh-CN", "menu.button.file")
    lines = [
        "/start",
        f":tap {file_label}",
        ":tap 1",  # the first type: friend_report
        ":tap 1",
        "wxid_scammer88",
        ":forward 骗子: 现在转账五千元。",
        ":tap 1",
        "11月20日对方要求我转账，随后把我拉黑了。",
        ":tap 1",
        ":tap 1",
    ]
    code, output = await console(settings, tmp_path, lines, language="zh-CN")
    assert code == 0
    groups = per_line(parse(output))
    assert len(groups) == len(lines)
    welcome = messages(groups[0])[0]
    assert file_label in welcome["buttons"][0]
    type_list = messages(groups[1])[0]
    assert type_list["buttons"][0][0] == "好友举报·色情/诈骗"
    submitted = events(parse(output), "complaint.submitted")
    assert [e["data"]["type"] for e in submitted] == ["friend_report"]
    assert NUMBER.fullmatch(submitted[0]["data"]["number"])


async def test_restart_keeps_the_draft_and_start_offers_to_resume(
    settings: Settings, tmp_path: Path, translator: Translator
) -> None:
    """`:restart` in the middle of a complaint; `/start` offers the draft and it can be finished."""
    lines = [
        "/start",
        ":tap File a complaint",
        ":tap 1",
        ":tap Continue",
        "wxid_scammer88",
        ":forward Scammer: pay now",
        ":restart",
        "/start",
        f":tap {label(translator, 'en', 'filing.button.resume')}",
        ":tap Done",
        DESCRIPTION,
        ":tap Submit",
        ":tap Yes, submit",
    ]
    code, output = await console(settings, tmp_path, lines)
    assert code == 0
    groups = per_line(parse(output))
    assert len(groups) == len(lines)
    assert groups[6] == []  # the restart itself says nothing on stdout
    offers = [
        m for m in messages(groups[7]) if translator.matches("en", "filing.resume_offer", m["text"])
    ]
    assert len(offers) == 1
    assert any("1/10" in m["text"] for m in messages(groups[8]))  # the evidence survived
    assert len(events(parse(output), "complaint.submitted")) == 1  # the sink survives restarts


async def test_as_switches_user_and_block_silences_the_bot(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`:as 1002` talks as another user; while 1002 blocks the bot it gets nothing, then again."""
    lines = ["/start", ":as 1002", "/start", ":block", "/start", ":unblock", "/start"]
    code, output = await console(settings, tmp_path, lines)
    assert code == 0
    groups = per_line(parse(output))
    assert [m["chat_id"] for m in messages(groups[0])] == [1001]
    assert groups[1] == []
    assert [m["chat_id"] for m in messages(groups[2])] == [1002]
    assert groups[4] == []  # blocked: nothing was delivered, and the console carried on
    assert [m["chat_id"] for m in messages(groups[6])] == [1002]
    assert "Forbidden" not in capsys.readouterr().err  # a blocked user is no error: recorded


def test_messages_to_other_users_are_prefixed_in_the_chat_view() -> None:
    """The chat view names the recipient of a message that is not for the current user."""
    stdout = io.StringIO()
    view = View(stdout, user_id=OPERATOR_ID, interactive=False)
    buttons = [[FakeButton("Accept", "a"), FakeButton("Reject", "r")]]
    note = FakeMessage(
        1002, 7, True, "text", START, "Your complaint\nwas accepted", buttons=buttons
    )
    view.message("sent", 1002, note)
    view.message("sent", OPERATOR_ID, FakeMessage(OPERATOR_ID, 3, True, "text", START, "Done"))
    assert stdout.getvalue() == (
        "→ 1002: Your complaint\n        was accepted\n  [1] Accept  [2] Reject\nbot: Done\n"
    )


async def test_advance_moves_the_clock(settings: Settings, tmp_path: Path) -> None:
    """`:advance` takes d/h/m/s, alone or combined; `:time` reports the clock in ISO 8601."""
    lines = [":time", ":advance 2h", ":time", ":advance 1h30m", ":advance 45s", ":time"]
    code, output = await console(settings, tmp_path, lines)
    assert code == 0
    times = [datetime.fromisoformat(o["now"]) for o in parse(output) if o["type"] == "time"]
    assert times == [
        START,
        START + timedelta(hours=2),
        START + timedelta(hours=3, minutes=30, seconds=45),
    ]
    assert times[0].isoformat() == "2026-11-23T09:00:00+08:00"  # shown in Asia/Shanghai


async def test_a_naive_start_time_is_shanghai_time(settings: Settings, tmp_path: Path) -> None:
    code, output = await console(settings, tmp_path, [":time"], start=datetime(2026, 11, 23, 9, 0))  # noqa: DTZ001
    assert code == 0
    assert parse(output)[0] == {"type": "time", "now": "2026-11-23T09:00:00+08:00"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("45s", timedelta(seconds=45)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d 2h", timedelta(days=1, hours=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "2", "h2", "-1h", "0m", "1h 30"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConsoleError):
        parse_duration(text)


async def test_bad_console_input_is_one_error_line_each(settings: Settings, tmp_path: Path) -> None:
    """Bad commands are reported, one error each, and the console carries on to exit 0."""
    lines = [
        ":tap 1",  # nothing to tap yet
        "/start",
        ":tap 99",
        ":tap Nonsense",
        ":photo /nonexistent/shot.png",
        ":advance soon",
        ":unknown",
        ":forward no colon",
        ":as somebody",
        ":tap 1",
    ]
    code, output = await console(settings, tmp_path, lines)
    assert code == 0
    groups = per_line(parse(output))
    assert len(groups) == len(lines)
    for index in (0, 2, 3, 4, 5, 6, 7, 8):
        assert [o["type"] for o in groups[index]] == ["error"], lines[index]
    assert "/nonexistent/shot.png" in groups[4][0]["message"]
    assert ":unknown" in groups[6][0]["message"]
    assert messages(groups[9])  # the last tap still works


async def test_quit_stops_reading(settings: Settings, tmp_path: Path) -> None:
    code, output = await console(settings, tmp_path, ["/start", ":quit", "/start"])
    assert code == 0
    assert len(messages(parse(output))) == 1


async def test_the_chat_view_numbers_buttons_and_marks_edits(
    settings: Settings, tmp_path: Path
) -> None:
    """Without --json: `bot:` lines, numbered buttons, `(edited)`, pop-ups and `error:` lines."""
    lines = [
        "/start", ":tap Guide", ":tap Why complain", "/start",
        ":tap 1", ":tap 1", ":tap 1", "wxid_scammer88", ":tap Done", ":tap 42",
    ]  # fmt: skip
    code, output = await console(settings, tmp_path, lines, as_json=False)
    assert code == 0
    assert "you: /start\nbot: 👋 Welcome to the complaint desk." in output
    menu = (
        "  [1] File a complaint\n  [2] My complaints  [3] Guide\n"
        "  [4] Settings  [5] Language / 语言\n"
    )
    assert menu in output
    assert "you tap [File a complaint]\n" in output
    assert "bot (edited): Why complaining matters\n" in output  # the guide turns its page
    assert "buttons removed" not in output  # answered prompts keep their (now stale) buttons
    assert "(pop-up: At least 1 item of evidence is needed" in output  # Done without evidence
    assert output.rstrip().endswith("error: no button 42: the newest keyboard has 4")
    assert "{" not in output


async def test_help_names_the_operator(settings: Settings, tmp_path: Path) -> None:
    code, output = await console(settings, tmp_path, [":help"], as_json=False)
    assert code == 0
    assert f":as USER_ID          continue as another user ({OPERATOR_ID} is an operator)" in output


async def test_the_console_adds_its_operator(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every app the console builds (restarts too) has operator 9001 besides the configured ones."""
    built: list[Settings] = []

    def spy(app_settings: Settings, **kwargs: Any) -> Any:
        built.append(app_settings)
        return build_application(app_settings, **kwargs)

    monkeypatch.setattr("bot.console.main.build_application", spy)
    settings = settings.model_copy(update={"operator_ids": frozenset({42})})
    code, _ = await console(settings, tmp_path, [":restart"])
    assert code == 0
    assert [s.operator_ids for s in built] == [frozenset({42, OPERATOR_ID})] * 2
    assert {s.database for s in built} == {tmp_path / "console.sqlite3"}


async def test_files_are_sent_with_their_name(settings: Settings, tmp_path: Path) -> None:
    """`:document` and `:video` send the file's bytes under its own name."""
    doc = tmp_path / "receipt.pdf"
    doc.write_bytes(b"%PDF-1.4 receipt")
    code, output = await console(settings, tmp_path, [f":document {doc}"], as_json=False)
    assert code == 0
    assert f"you: [document receipt.pdf, {len(doc.read_bytes())} bytes]" in output


async def test_without_db_a_temporary_database_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no --db and no COMPLAINT_DESK_DB the console uses a temporary file, removed at exit."""
    monkeypatch.delenv("COMPLAINT_DESK_DB", raising=False)
    monkeypatch.chdir(tmp_path)  # where the default database would be created
    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(prefix: str) -> str:
        made.append(Path(real_mkdtemp(prefix=prefix, dir=tmp_path)))
        return str(made[-1])

    monkeypatch.setattr("bot.console.main.tempfile.mkdtemp", mkdtemp)
    stdout = io.StringIO()
    code = await run_console(Settings(), io.StringIO("/start\n"), stdout, start=START, as_json=True)
    assert code == 0
    assert messages(parse(stdout.getvalue()))
    assert len(made) == 1
    assert listing(tmp_path) == []  # the temporary database is gone; no data/ folder


@pytest.mark.parametrize(("script", "language"), [("file_en.txt", "en"), ("file_zh.txt", "zh-CN")])
async def test_example_scripts_file_one_complaint(
    settings: Settings, tmp_path: Path, script: str, language: str
) -> None:
    """The example scripts (`complaint-desk console --json < tests/bot/console_scripts/...`)."""
    text = (SCRIPTS / script).read_text(encoding="utf-8")
    stdout = io.StringIO()
    code = await run_console(
        settings,
        io.StringIO(text),
        stdout,
        db=tmp_path / "script.sqlite3",
        language=language,
        as_json=True,
    )
    assert code == 0
    objects = parse(stdout.getvalue())
    assert len(per_line(objects)) == len(text.splitlines())
    assert not [o for o in objects if o["type"] == "error"]
    assert len(events(objects, "complaint.submitted")) == 1


_COMMAND = re.compile(r"(?<![\w:]):([a-z]+)\b")


def test_help_lists_every_command_and_only_those() -> None:
    """`:help` (written once, in bot/console/chat.py) names exactly the commands it runs."""
    assert set(_COMMAND.findall(HELP)) == set(COMMANDS) | {"quit"}


def test_the_readme_lists_the_console_commands_of_help() -> None:
    """The README's console table names the same commands as `:help`."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = [line for line in readme.splitlines() if line.startswith("| `:")]
    assert table, "the README has no console command table"
    listed = {name for line in table for name in _COMMAND.findall(line.split(" | ")[0])}
    assert listed == set(_COMMAND.findall(HELP))


async def test_update_ids_continue_from_the_database_not_the_clock(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second session on the same file is answered even if the real clock reads the same
    (or an earlier) time: its update ids continue past those the database recorded."""
    monkeypatch.setattr("bot.clock.SystemClock.now", lambda self: START)
    for _ in range(2):
        code, output = await console(settings, tmp_path, ["/start", "/start", "/start"])
        assert code == 0
        groups = per_line(parse(output))
        assert [len(messages(g)) for g in groups] == [1, 1, 1], output
