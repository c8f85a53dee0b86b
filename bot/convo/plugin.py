"""The pytest plugin (entry point `pytest11`): `*.convo.yaml` files are tests.

Installed with the package, so `pytest my_convos/` runs a folder of scripts with nothing else
to set up. A script is one test, named after the file. A failing expectation or a bad script
is reported as `file:line: what was expected`, followed by every actor's chat; never with a
traceback from the plugin. Partial scripts (used by `include:`) are any other `.yaml` files.

Coverage of the flows: `--desk-coverage[=FILE]` (see `bot.convo.coverage`).
"""

from __future__ import annotations

import asyncio
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
    coverage.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    coverage.configure(config)


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
