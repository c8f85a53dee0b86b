"""The pytest plugin (entry point `pytest11`): `*.convo.yaml` files are tests.

Installed with the package, so `pytest my_convos/` runs a folder of scripts with nothing else
to set up. A script is one test, named after the file. A failing expectation or a bad script
is reported as `file:line: what was expected`, followed by every actor's chat; never with a
traceback from the plugin. Partial scripts (used by `include:`) are any other `.yaml` files.

Coverage of the flows: `--desk-coverage[=FILE]` and `--desk-coverage-gate=EXCEPTIONS` (what
is recorded and how: `bot.convo.coverage`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.convo import coverage
from bot.convo.expect import ConvoFailure
from bot.convo.model import parse
from bot.convo.runner import run_script
from bot.convo.source import ScriptError

SUFFIX = ".convo.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("complaint-desk")
    group.addoption(
        "--desk-coverage",
        nargs="?",
        const="",
        default=None,
        metavar="FILE",
        help="report which flow transitions and message keys the run exercised; with FILE, "
        "also write them as JSON (for `complaint-desk diagram --coverage FILE`) and as Mermaid "
        "(FILE with the suffix .mmd)",
    )
    group.addoption(
        "--desk-coverage-gate",
        default=None,
        metavar="EXCEPTIONS",
        help="fail the run when a transition is walked by no test and not listed, with a "
        "reason, in the EXCEPTIONS YAML file",
    )


def pytest_configure(config: pytest.Config) -> None:
    out = config.getoption("desk_coverage")
    gate_file = config.getoption("desk_coverage_gate")
    if out is not None or gate_file is not None:
        exceptions = Path(gate_file) if gate_file else None
        config.pluginmanager.register(_Coverage(out or "", exceptions), "desk-coverage")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ConvoFile | None:
    if file_path.name.endswith(SUFFIX):
        made: ConvoFile = ConvoFile.from_parent(parent, path=file_path)
        return made
    return None


class ConvoFile(pytest.File):
    def collect(self) -> Iterator[ConvoItem]:
        yield ConvoItem.from_parent(self, name=self.path.name.removesuffix(SUFFIX))


class ConvoItem(pytest.Item):
    def runtest(self) -> None:
        script = parse(self.path)  # a bad script fails this test, not the collection
        asyncio.run(run_script(script))

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        if isinstance(excinfo.value, ScriptError | ConvoFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"conversation script {self.path.name}"


# ---- coverage of the flows over the whole run (bot.convo.coverage) ----------------------


class _Coverage:
    """Records the whole run; writes, reports and gates at its end."""

    def __init__(self, out: str, exceptions: Path | None) -> None:
        self.rec = coverage.Recording()
        self.rec.install()
        self.out = out
        self.exceptions = exceptions
        self.problems: list[str] = []

    def pytest_sessionfinish(self, session: Any) -> None:
        if self.out:
            out = Path(self.out)
            out.write_text(json.dumps(self.rec.to_json(), indent=1) + "\n", encoding="utf-8")
            drawn = [coverage.mermaid(self.rec, name) for name in coverage.machines()]
            out.with_suffix(".mmd").write_text("\n\n".join(drawn) + "\n", encoding="utf-8")
        if self.exceptions is not None:
            self.problems = coverage.gate(self.rec, self.exceptions)
            if self.problems and session.exitstatus == 0:
                session.exitstatus = 1

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        terminalreporter.section("complaint-desk flow coverage")
        for line in coverage.report(self.rec).splitlines():
            write(line)
        if self.out:
            mmd = Path(self.out).with_suffix(".mmd")
            write(f"(written to {self.out} and, as Mermaid, {mmd})")
        for problem in self.problems:
            write(f"COVERAGE GATE: {problem}", red=True)
