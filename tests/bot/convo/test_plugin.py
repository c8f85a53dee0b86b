"""The pytest plugin as an installed user meets it: `pytest my_convos/` in a folder of their own
(no conftest, no configuration), reporting failures as `file:line: ...` without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]
EXAMPLE = ROOT / "tests" / "convos" / "filing_friend_report_en.convo.yaml"


def readme_example() -> str:
    """The YAML example of the README's section on conversation scripts."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("### Conversation scripts")[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def pytest_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_copied_examples_with_another_type_and_target_run_and_bad_ones_say_where(
    tmp_path: Path,
) -> None:
    mine = tmp_path / "my_convos"
    mine.mkdir()
    copied = (
        EXAMPLE.read_text(encoding="utf-8")
        .replace("Report a friend (porn/fraud)", "Mini-program infringement")
        .replace("wxid_scammer88", "wx1234567890abcdef")
        .replace("type: friend_report", "type: mini_program")
    )
    assert copied != EXAMPLE.read_text(encoding="utf-8")
    (mine / "mini_program.convo.yaml").write_text(copied, encoding="utf-8")
    (mine / "from_readme.convo.yaml").write_text(readme_example(), encoding="utf-8")
    (mine / "typo.convo.yaml").write_text(
        "actors:\n  ann: {}\nsteps:\n  - ann: /start\n  - anne: /start\n", encoding="utf-8"
    )
    (mine / "wrong.convo.yaml").write_text(
        "actors:\n  ann: {}\nsteps:\n  - ann: /start\n"
        "    expect:\n      ann: [{key: filing.review}]\n",
        encoding="utf-8",
    )
    result = pytest_in(tmp_path, "my_convos/")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "2 failed, 2 passed" in out
    assert "my_convos/typo.convo.yaml:5: unknown step 'anne': expected an actor (ann)" in out
    assert "my_convos/wrong.convo.yaml:6: expected ann to get {key: 'filing.review'}" in out
    assert "--- chat with ann (1001) ---" in out
    assert "Traceback" not in out, out
    assert "bot/convo/" not in out, out


def test_the_coverage_gate_fails_a_green_run_that_leaves_transitions_unwalked(
    tmp_path: Path,
) -> None:
    (tmp_path / "one.convo.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "accepted.yaml").write_text(
        'filing:\n  "IDLE -cancel-> =": nothing to cancel is said elsewhere\n', "utf-8"
    )
    result = pytest_in(
        tmp_path, "--desk-coverage=cov.json", "--desk-coverage-gate=accepted.yaml", "."
    )
    out = result.stdout
    assert result.returncode == 1, out
    assert "1 passed" in out
    assert "flow coverage: " in out
    assert (
        "COVERAGE GATE: filing: READING_GUIDANCE -back-> CHOOSING_TYPE is walked by no test" in out
    )
    assert "IDLE -cancel-> = is walked by no test" not in out  # accepted with its reason
    drawn = subprocess.run(
        [sys.executable, "-m", "bot.cli", "diagram", "--coverage", str(tmp_path / "cov.json")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert 'IDLE -->|"file ×1"| CHOOSING_TYPE' in drawn
    assert "linkStyle" in drawn
    assert drawn.strip() in (tmp_path / "cov.mmd").read_text(encoding="utf-8")
