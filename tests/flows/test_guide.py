"""The guide: every page renders in both languages, chat-sized, and navigation reaches all."""

from __future__ import annotations

import html
import re

import pytest

from bot.i18n import Translator
from bot.render import Renderer
from flows.catalog import Catalog, load_catalog
from flows.guide import GUIDE_PAGES, guide_index, guide_page
from flows.replies import Button, Reply


@pytest.fixture(scope="module")
def tr() -> Translator:
    return Translator.load()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _visible(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^<>]*>", "", rendered))


def _buttons(reply: Reply) -> list[Button]:
    return [button for row in reply.buttons for button in row]


def _render(tr: Translator, language: str, reply: Reply) -> str:
    return Renderer(tr).text(language, reply.key, reply.params)


def test_pages_are_the_spec_topics() -> None:
    assert GUIDE_PAGES == (
        "why",
        "types",
        "prepare",
        "channels",
        "precautions",
        "after",
        "revocation",
        "materials",
        "compare",
    )


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_index_renders_with_one_button_per_page(tr: Translator, language: str) -> None:
    reply = guide_index()
    assert reply.key == "guide.index"
    text = _render(tr, language, reply)
    assert len(text) < 4096
    assert [b.arg for b in _buttons(reply)] == list(GUIDE_PAGES)
    for button in _buttons(reply):
        assert (button.action, button.scope) == ("page", "g")
        assert button.key == f"guide.button.{button.arg}"
        assert tr.has(language, button.key)
        assert 0 < len(tr.text(language, button.key)) <= 24


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("page", GUIDE_PAGES)
def test_every_page_renders_chat_sized(
    tr: Translator, catalog: Catalog, language: str, page: str
) -> None:
    reply = guide_page(page, catalog, language)
    assert reply is not None
    assert reply.key == f"guide.{page}.body"
    assert reply.edit
    text = _render(tr, language, reply)
    assert len(text) < 4096
    assert len(_visible(text)) <= 900, "keep guide pages chat-sized"
    assert tr.matches(language, reply.key, _visible(text))
    for button in _buttons(reply):
        assert tr.has(language, button.key)
        assert (button.action, button.scope) == ("page", "g")


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_types_page_lists_every_catalog_type(
    tr: Translator, catalog: Catalog, language: str
) -> None:
    reply = guide_page("types", catalog, language)
    assert reply is not None
    text = _visible(_render(tr, language, reply))
    for t in catalog.types:
        assert t.title.get(language) in text


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_disclaimer_on_index_and_revocation_pages(
    tr: Translator, catalog: Catalog, language: str
) -> None:
    word = "官方" if language == "zh-CN" else "official policy"
    assert word in _render(tr, language, guide_index())
    reply = guide_page("revocation", catalog, language)
    assert reply is not None
    text = _visible(_render(tr, language, reply))
    assert catalog.disclaimer.get(language) in text
    assert str(catalog.limits.auto_review_hours) in text


def test_next_reaches_every_page_and_prev_comes_back(catalog: Catalog) -> None:
    seen = [GUIDE_PAGES[0]]
    reply = guide_page(GUIDE_PAGES[0], catalog, "en")
    while reply is not None:
        nexts = [b for b in _buttons(reply) if b.key == "guide.button.next"]
        if not nexts:
            break
        seen.append(nexts[0].arg)
        reply = guide_page(nexts[0].arg, catalog, "en")
    assert tuple(seen) == GUIDE_PAGES

    back = [GUIDE_PAGES[-1]]
    reply = guide_page(GUIDE_PAGES[-1], catalog, "zh-CN")
    while reply is not None:
        prevs = [b for b in _buttons(reply) if b.key == "guide.button.prev"]
        if not prevs:
            break
        back.append(prevs[0].arg)
        reply = guide_page(prevs[0].arg, catalog, "zh-CN")
    assert tuple(reversed(back)) == GUIDE_PAGES


@pytest.mark.parametrize("page", GUIDE_PAGES)
def test_every_page_leads_back_to_the_index(catalog: Catalog, page: str) -> None:
    reply = guide_page(page, catalog, "en")
    assert reply is not None
    index = [b for b in _buttons(reply) if b.key == "guide.button.index"]
    assert len(index) == 1
    back = guide_page(index[0].arg, catalog, "en")
    assert back is not None
    assert back.key == "guide.index"
    assert back.edit
    assert back.buttons == guide_index().buttons


def test_unknown_page_is_none(catalog: Catalog) -> None:
    assert guide_page("nope", catalog, "en") is None
    assert guide_page("", catalog, "zh-CN") is None
