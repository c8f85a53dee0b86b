"""The conversation-script runner: bad scripts name file, line and what was expected; failing
expectations show the expectation and every actor's chat; captures and includes work."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.convo.expect import ConvoFailure
from bot.convo.model import parse
from bot.convo.runner import run_script
from bot.convo.source import ScriptError

HEAD = """\
actors:
  alice: {language: en}
  bob: {language: zh-CN}
steps:
"""


def write(folder: Path, body: str, name: str = "t.convo.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


async def run(path: Path) -> None:
    await run_script(parse(path))


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (HEAD + "  - alice: /start\n    expect: {alice: [{key: menu.welcome]}\n", 6, "malformed"),
        (HEAD + "  - carol: /start\n", 5, "unknown step 'carol': expected an actor (alice, bob)"),
        (HEAD + "  - advance: soon\n", 5, "'soon' is not 90m, 2h, 3d, 45s or combined"),
        (HEAD + "  - alice: /start\n    expect: {carol: []}\n", 6, "'carol' is not an actor"),
        (HEAD + "  - alice: {tap: {colour: red}}\n", 5, "button"),
        (HEAD + "  - alice: {photo: {file: a.png, size: 3}}\n", 5, "unknown 'size'"),
        (HEAD + "  - block: carol\n", 5, "block: 'carol' is not an actor"),
        (HEAD + "  - alice: /start\n    advance: 1h\n", 5, "a step does exactly one thing"),
        (HEAD + "  - fault: {method: sendMessage}\n", 5, "missing 'error'"),
        ("steps: []\n", 1, "missing 'actors'"),
        ("", 1, "the script is empty"),
    ],
)
async def test_a_bad_script_names_the_line_and_what_was_expected(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ScriptError) as caught:
        await run(path)
    assert caught.value.line == line, str(caught.value)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ") or f"t.convo.yaml:{line}: " in str(
        caught.value
    )


async def test_a_variable_used_before_it_is_captured(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "  - alice: /start\n  - alice: /revoke $complaint\n")
    with pytest.raises(ScriptError, match=r"t.convo.yaml:6: no variable \$complaint"):
        await run(path)


async def test_a_label_not_on_screen_lists_the_buttons_there(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "  - alice: /start\n  - alice: {tap: {label: Fly away}}\n")
    with pytest.raises(ScriptError) as caught:
        await run(path)
    text = str(caught.value)
    assert "t.convo.yaml:6: tap {'label': 'Fly away'}: no button like that" in text
    assert "[File a complaint]" in text


async def test_a_failed_expectation_shows_where_what_and_every_chat(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEAD
        + "  - bob: /start\n"
        + "  - alice: /start\n"
        + "    expect:\n"
        + "      alice:\n"
        + "        - key: menu.welcome\n"
        + "        - key: filing.submitted\n",
    )
    with pytest.raises(ConvoFailure) as caught:
        await run(path)
    text = str(caught.value)
    assert "t.convo.yaml:10: expected alice to get {key: 'filing.submitted'}" in text
    assert "step: " in text
    assert "t.convo.yaml:6: alice: '/start'" in text
    assert "--- chat with alice (1001) ---" in text
    assert "--- chat with bob (1002) ---" in text
    assert "欢迎" in text  # bob's chat, in his language


async def test_nothing_more_and_an_empty_list_fail_on_an_extra_message(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "  - alice: /start\n    expect: {alice: []}\n")
    with pytest.raises(ConvoFailure, match="expected alice to get nothing new"):
        await run(path)


async def test_captures_from_a_reply_and_an_event_agree_and_are_used_later(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        """\
        params: [who, target]
        steps:
          - $who: /start
          - $who: {tap: menu.button.file}
          - $who: {tap: {label: Report a friend (porn/fraud)}}
          - $who: {tap: filing.button.proceed}
          - $who: ${target}
          - $who: {forward: {from: Scammer, text: pay me}}
          - $who: {tap: filing.button.done}
          - $who: It was a scam.
          - $who: {tap: filing.button.submit}
          - $who: {tap: filing.button.confirm}
            expect:
              $who: [{key: filing.submitted, params: {number: $complaint}}]
              events:
                - {name: complaint.submitted, fields: {number: $complaint, type: friend_report}}
        """,
        name="file.yaml",
    )
    path = write(
        tmp_path,
        HEAD
        + "  - include: file.yaml\n"
        + "    with: {who: alice, target: wxid_scammer88}\n"
        + "  - alice: /mycomplaints\n"
        + "    expect:\n"
        + "      alice: [{key: follow.list, buttons: [{key: follow.button.item}]}]\n"
        + "  - alice: {tap: {key: follow.button.item, params: {number: $complaint}}}\n"
        + "    expect:\n"
        + "      alice: [{contains: $complaint, regex: '(?P<complaint>\\d{6}-\\w{4}-\\w{4})'}]\n",
    )
    await run(path)


async def test_an_include_without_its_parameters_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "params: [who]\nsteps:\n  - $who: /start\n", name="p.yaml")
    path = write(tmp_path, HEAD + "  - include: p.yaml\n")
    with pytest.raises(ScriptError, match=r"t.convo.yaml:5: include p.yaml: parameters missing"):
        await run(path)


async def test_an_error_inside_an_include_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "params: [who]\nsteps:\n  - $who: /start\n  - dance: 1\n", name="p.yaml")
    path = write(tmp_path, HEAD + "  - include: p.yaml\n    with: {who: alice}\n")
    with pytest.raises(ScriptError) as caught:
        await run(path)
    assert "p.yaml:4 (included from" in str(caught.value)
    assert "t.convo.yaml:5)" in str(caught.value)
