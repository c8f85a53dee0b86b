"""One word per concept (bot/locales/GLOSSARY.md): no user text uses a word the glossary rules
out for its concept, every stage is named by its glossary term, and counts use plural forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import DEFAULT_LOCALES, Translator, plain
from flows.catalog import load_catalog

GLOSSARY = DEFAULT_LOCALES / "GLOSSARY.md"
OPERATORS_OWN = (
    "operator.",
    "broadcast.",
    "command.queue",
    "command.open",
    "command.requests",
    "command.broadcast",
)
QUOTED = re.compile(r"“[^”]*”")


def glossary(path: Path = GLOSSARY) -> dict[str, list[tuple[str, str, list[str]]]]:
    """Language -> rows (concept, term, never-patterns), read from the markdown tables."""
    tables: dict[str, list[tuple[str, str, list[str]]]] = {}
    language = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            language = line[3:].strip()
            tables[language] = []
        elif language and line.startswith("| ") and not line.startswith("| concept"):
            concept, term, never = (cell.strip() for cell in line.strip("|").split("|"))
            tables[language].append((concept, term, re.findall(r"`([^`]+)`", never)))
    return tables


def test_the_glossary_covers_both_languages_and_every_stage() -> None:
    tables = glossary()
    assert set(tables) == {"en", "zh-CN"}
    for rows in tables.values():
        concepts = {concept for concept, _, _ in rows}
        for stage in ("pending", "manual_review", "result_given", "review_requested", "revoked"):
            assert f"stage {stage}" in concepts
        for concept in ("withdrawal", "withdrawal request", "operator", "review", "complaint"):
            assert any(c.startswith(concept) for c in concepts), concept


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_no_text_uses_a_word_the_glossary_rules_out(translator: Translator, language: str) -> None:
    bad: list[str] = []
    for concept, _term, never in glossary()[language]:
        everywhere = "(all texts)" in concept
        for pattern in never:
            rx = re.compile(pattern, re.IGNORECASE)
            for key in sorted(translator.keys(language)):
                if key.startswith(OPERATORS_OWN) and not everywhere:
                    continue
                for form in translator.forms(language, key):
                    text = QUOTED.sub("", plain(form))
                    if rx.search(text):
                        bad.append(f"{key}: {pattern!r} ({concept})")
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_every_stage_is_named_by_its_glossary_term(translator: Translator, language: str) -> None:
    for concept, term, _ in glossary()[language]:
        if concept.startswith("stage "):
            assert translator.text(language, f"stage.{concept[6:]}") == term


def test_the_glossary_test_fails_on_a_ruled_out_word(tmp_path: Path) -> None:
    """The check itself: 'revocation' in an en user text is found; a quoted route is not."""
    rows = dict((c, n) for c, _, n in glossary()["en"])
    rx = [re.compile(p, re.IGNORECASE) for p in rows["withdrawal (taking a complaint back)"]]
    assert any(r.search("Send a revocation request") for r in rx)
    zh = dict((c, n) for c, _, n in glossary()["zh-CN"])
    review = [re.compile(p) for p in zh["review"]]
    assert any(r.search("申请申诉") for r in review)
    assert not any(r.search(QUOTED.sub("", "发送“#误封申诉+投诉编号”")) for r in review)


def test_zh_type_titles_carry_no_brackets() -> None:
    """Titles are inserted into bracketed texts ("（{type}）"): brackets inside would nest."""
    for ctype in load_catalog().types:
        assert not re.search(r"[（()）]", ctype.title.get("zh-CN")), ctype.id


PLURAL_KEYS = ("evidence.count.photo", "filing.evidence_need", "broadcast.preview")


@pytest.mark.parametrize("language", ["en", "zh-CN"])
@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_counts_read_right(translator: Translator, language: str, n: int) -> None:
    photo = translator.text(language, "evidence.count.photo", n=n)
    need = translator.text(language, "filing.evidence_need", n=n)
    preview = plain(translator.text(language, "broadcast.preview", count=n, audience="all"))
    withdrawals = translator.text(language, "policy.rule.risk_review", n=n, monthly=3)
    if language == "en":
        one = n == 1
        assert photo == (f"{n} photo" if one else f"{n} photos")
        assert need.endswith(f"{n} more item." if one else f"{n} more items.")
        assert (f"{n} recipient " if one else f"{n} recipients ") in preview
        assert (f"{n} withdrawal " if one else f"{n} withdrawals ") in withdrawals
    else:
        assert photo == f"{n} 张图片"
        assert f"{n} 件" in need
        assert f"{n} 位接收者" in preview
        assert f"{n} 次撤回" in withdrawals


def test_every_en_plural_form_differs_by_count(translator: Translator) -> None:
    """A message with plural forms in en has two different forms; no en text writes "(s)"."""
    for key in translator.keys("en"):
        forms = translator.forms("en", key)
        assert len(forms) in (1, 2), key
        if len(forms) == 2:
            assert forms[0] != forms[1], key
            assert len(translator.forms("zh-CN", key)) == 1, key
