"""A new language is its folder of message catalogs, its texts in the rules catalog and one line
in the catalog's `languages`: nothing else. Proved with French made from a temporary folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml
from telegram.request import BaseRequest

from bot.app import AnyApp, build_application, runtime
from bot.clock import FakeClock
from bot.config import Settings
from bot.i18n import DEFAULT_LOCALES, Translator
from bot.simulator import Simulator
from flows.catalog import DEFAULT_CATALOG, load_catalog
from tests.conftest import OPERATOR, START
from tests.flows.conversations import DESCRIPTION, NUMBER, TARGETS

_MSGSTR = re.compile(r'^(msgstr(?:\[\d+\])? ")')


def _french_po(english: str) -> str:
    """The English file with every text marked "[fr] " (the header entry left as it is)."""
    out, header = [], False
    for line in english.splitlines():
        if line.startswith("msgid "):
            header = line == 'msgid ""'
        if not header:
            line = _MSGSTR.sub(r"\1[fr] ", line)
        out.append(line)
    return "\n".join(out) + "\n"


def _add_french(node: Any) -> None:
    """Every text of the catalog (a map with exactly zh-CN and en) gains its French entry."""
    if isinstance(node, dict):
        if set(node) == {"zh-CN", "en"}:
            node["fr"] = f"[fr] {node['en']}"
            return
        for value in node.values():
            _add_french(value)
    elif isinstance(node, list):
        for value in node:
            _add_french(value)


def _third_language(folder: Path) -> tuple[Path, Path]:
    """A locales folder and a catalog file that add French, as someone adding it would."""
    locales = folder / "locales"
    shutil.copytree(DEFAULT_LOCALES, locales)
    (locales / "fr").mkdir()
    for po in (locales / "en").glob("*.po"):  # 1. its folder of message catalogs
        (locales / "fr" / po.name).write_text(
            _french_po(po.read_text(encoding="utf-8")), encoding="utf-8"
        )
    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    raw.pop("languages")
    _add_french(raw)  # 2. its texts in the rules catalog
    languages = {**load_catalog().languages, "fr": "Français"}  # 3. one line in the list
    catalog = folder / "catalog.yaml"
    catalog.write_text(
        yaml.safe_dump({"languages": languages, **raw}, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return locales, catalog


async def test_a_third_language_from_a_folder_files_a_whole_complaint(tmp_path: Path) -> None:
    locales, catalog_file = _third_language(tmp_path)
    settings = Settings(
        database=tmp_path / "desk.sqlite3",
        catalog=catalog_file,
        locales=locales,
        operator_ids=frozenset({OPERATOR}),
        sweep_seconds=3600,
    )
    catalog = load_catalog(catalog_file)
    translator = Translator.load(locales)

    async def factory(request: BaseRequest, clock: FakeClock) -> AnyApp:
        return build_application(settings, clock=clock, request=request)

    sim = await Simulator.start(
        factory,
        clock=FakeClock(START),
        translator=translator,
        default_language=catalog.default_language(),
    )
    async with sim:
        pierre = sim.user(1001, "Pierre", language_code="fr-FR")
        assert pierre.language == "fr"
        await pierre.send("/start")
        pierre.assert_last("menu.welcome")
        assert pierre.last.text.startswith("[fr] ")
        await pierre.tap_key("menu.button.file")
        ctype = catalog.type("friend_report")
        assert ctype is not None
        await pierre.tap_key("filing.button.type", title=ctype.title.as_dict())
        pierre.assert_last("filing.guidance")
        assert f"[fr] {ctype.summary.get('en')}" in pierre.last.text  # the catalog's French
        await pierre.tap_key("filing.button.proceed")
        await pierre.send(TARGETS["friend_report"])
        pierre.assert_last("filing.evidence_status")
        for i in range(ctype.evidence.min_count):
            await pierre.send_photo(data=f"shot-{i}".encode())
        await pierre.tap_key("filing.button.done")
        pierre.assert_last("filing.ask_description")
        await pierre.send(DESCRIPTION)
        pierre.assert_last("filing.review")
        await pierre.tap_key("filing.button.submit")
        pierre.assert_last("filing.confirm_warning")
        await pierre.tap_key("filing.button.confirm")
        submitted = pierre.assert_got("filing.submitted")
        assert submitted.text.startswith("[fr] ")
        number = NUMBER.search(submitted.text)
        assert number is not None
        store = runtime(sim.app).store
        user = await store.read(lambda tx: tx.load_user(1001))
        assert user is not None
        assert user.language == "fr"
        assert await store.read(lambda tx: tx.get_complaint(number.group())) is not None

        await pierre.send("/language")  # the menu offers the three, each in its own name
        assert [b.label for row in pierre.last.buttons for b in row] == [
            "[fr] 中文",
            "[fr] English",
            "[fr] Français",
        ]
