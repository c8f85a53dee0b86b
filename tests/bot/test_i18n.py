"""The message catalogs: every key in every language, escaping, key patterns, load errors."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from bot.i18n import DEFAULT_LOCALES, I18nError, MissingMessage, Translator
from flows.catalog import Localized, load_catalog
from flows.language import resolve_language

LANGUAGES = load_catalog().codes  # the shipped catalog's languages

# --- the real locales -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> Translator:
    return Translator.load()


def test_real_locales_load_every_language_of_the_catalog(real: Translator) -> None:
    assert set(real.languages) == set(LANGUAGES)
    real.require(LANGUAGES)
    assert real.keys("zh-CN")
    assert Translator.load(DEFAULT_LOCALES).keys("en") == real.keys("en")


def test_every_key_exists_in_every_language(real: Translator) -> None:
    """THE completeness test: a key present in one language and missing in another fails here."""
    assert real.missing() == {}
    keys = [real.keys(language) for language in real.languages]
    assert all(k == keys[0] for k in keys)


def test_every_real_message_has_the_same_placeholders_in_every_language(
    real: Translator,
) -> None:
    def names(language: str, key: str) -> set[str]:
        return set(real.pattern(language, key).groupindex)

    shared = frozenset.intersection(*(real.keys(language) for language in real.languages))
    for key in shared:  # keys missing somewhere are reported by the test above
        expected = names("en", key)
        for language in real.languages:
            assert names(language, key) == expected, f"{key} ({language})"


def test_every_real_message_renders_and_matches_itself(real: Translator) -> None:
    for language in real.languages:
        for key in real.keys(language):
            names = real.pattern(language, key).groupindex
            try:
                rendered = real.text(language, key, **dict.fromkeys(names, "x<&>y"))
            except ValueError:  # a numeric format spec such as {count:d}
                rendered = real.text(language, key, **dict.fromkeys(names, 7))
            assert real.matches(language, key, _as_telegram_shows(rendered)), key


# --- a small catalog built for the tests ------------------------------------------------------


def _po(entries: dict[str, str]) -> str:
    out = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', ""]
    for key, text in entries.items():
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out += [f'msgid "{key}"', f'msgstr "{escaped}"', ""]
    return "\n".join(out)


def _write(root: Path, folder: str, name: str, entries: dict[str, str]) -> Path:
    directory = root / folder
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(_po(entries), encoding="utf-8")
    return path


def _as_telegram_shows(rendered: str) -> str:
    """What a client receives for an HTML message: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^<>]*>", "", rendered))


@pytest.fixture
def tr(tmp_path: Path) -> Translator:
    _write(
        tmp_path,
        "en",
        "core.po",
        {
            "hello": "Hello, <b>{name}</b>!",
            "plain": "No params & no tags: 1 &lt; 2",
            "twice": "{who} said {what}; yes, {who}.",
            "count": "{n:d} items",
            "type": "Type: <i>{title}</i>",
        },
    )
    _write(tmp_path, "en", "filing.po", {"filing.step": "Step {step} of {total}"})
    _write(
        tmp_path,
        "zh_CN",
        "core.po",
        {
            "hello": "你好，<b>{name}</b>！",
            "plain": "没有参数 &amp; 标签：1 &lt; 2",
            "twice": "{who}说{what}；是的，{who}。",
            "count": "共 {n:d} 件",
            "type": "类型：<i>{title}</i>",
            "filing.step": "第 {step} 步，共 {total} 步",
        },
    )
    return Translator.load(tmp_path)


def test_languages_come_from_folder_names(tr: Translator) -> None:
    assert tr.languages == ("en", "zh-CN")  # in name order: the catalog orders the menus


def test_files_of_one_language_are_merged(tr: Translator) -> None:
    assert tr.has("en", "filing.step")
    assert tr.has("en", "hello")
    assert tr.text("en", "filing.step", step=2, total=5) == "Step 2 of 5"
    assert tr.keys("zh-CN") == tr.keys("en")
    assert tr.missing() == {}


def test_text_escapes_params(tr: Translator) -> None:
    rendered = tr.text("en", "hello", name="<script>&\"x'")
    assert rendered == "Hello, <b>&lt;script&gt;&amp;&quot;x&#x27;</b>!"


def test_template_markup_is_kept(tr: Translator) -> None:
    assert tr.text("zh-CN", "hello", name="小明") == "你好，<b>小明</b>！"
    assert tr.text("en", "plain") == "No params & no tags: 1 &lt; 2"


def test_numbers_keep_their_format(tr: Translator) -> None:
    assert tr.text("zh-CN", "count", n=3) == "共 3 件"


def test_localized_params_resolve_to_the_language(tr: Translator) -> None:
    title = {"zh-CN": "支付投诉", "en": "Payment <dispute>"}
    assert tr.text("zh-CN", "type", title=title) == "类型：<i>支付投诉</i>"
    assert tr.text("en", "type", title=title) == "Type: <i>Payment &lt;dispute&gt;</i>"
    localized = Localized.model_validate({"zh-CN": "好友举报", "en": "Friend report"})
    assert tr.text("en", "type", title=localized) == "Type: <i>Friend report</i>"
    assert tr.text("zh-CN", "type", title=localized) == "类型：<i>好友举报</i>"


def test_missing_key_raises(tr: Translator) -> None:
    with pytest.raises(MissingMessage) as info:
        tr.text("en", "nope")
    assert isinstance(info.value, KeyError)
    assert (info.value.key, info.value.language) == ("nope", "en")
    assert "nope" in str(info.value)
    assert "en" in str(info.value)
    with pytest.raises(MissingMessage):
        tr.text("fr", "hello", name="x")
    with pytest.raises(MissingMessage):
        tr.pattern("en", "nope")


def test_missing_param_raises(tr: Translator) -> None:
    with pytest.raises(MissingMessage) as info:
        tr.text("en", "hello")
    assert info.value.param == "name"
    assert "needs parameter 'name'" in str(info.value)


def test_pattern_matches_what_the_user_sees(tr: Translator) -> None:
    rendered = tr.text("en", "hello", name="<b>Bob</b> & co\nline 2")
    shown = _as_telegram_shows(rendered)
    assert shown == "Hello, <b>Bob</b> & co\nline 2!"
    match = tr.pattern("en", "hello").fullmatch(shown)
    assert match is not None
    assert match.group("name") == "<b>Bob</b> & co\nline 2"
    assert tr.matches("en", "plain", "No params & no tags: 1 < 2")
    assert tr.matches("zh-CN", "plain", "没有参数 & 标签：1 < 2")
    assert not tr.matches("en", "plain", "No params & no tags: 1 &lt; 2")


def test_pattern_is_a_full_match(tr: Translator) -> None:
    assert tr.matches("en", "hello", "Hello, anyone!")
    assert tr.matches("en", "hello", "Hello, !")
    assert not tr.matches("en", "hello", "Hello, anyone! and more")
    assert not tr.matches("en", "hello", "Oh. Hello, anyone!")
    assert not tr.matches("en", "hello", "你好，anyone！")
    assert tr.matches("en", "hello", "  Hello, x!\n")  # Telegram trims; so do we


def test_pattern_handles_a_param_used_twice(tr: Translator) -> None:
    shown = tr.text("zh-CN", "twice", who="小明", what="好")
    assert tr.matches("zh-CN", "twice", shown)
    assert not tr.matches("zh-CN", "twice", "小明说好；是的，小红。")
    match = tr.pattern("en", "twice").fullmatch("Ann said hi; yes, Ann.")
    assert match is not None
    assert match.group("what") == "hi"


def test_missing_reports_keys_absent_from_a_language(tmp_path: Path) -> None:
    _write(tmp_path, "en", "core.po", {"a": "A", "b": "B"})
    _write(tmp_path, "zh_CN", "core.po", {"a": "甲", "c": "丙", "d": ""})
    tr = Translator.load(tmp_path)
    assert tr.missing() == {"zh-CN": {"b"}, "en": {"c"}}
    assert not tr.has("zh-CN", "d"), "an empty msgstr is untranslated"


def test_duplicate_key_across_files_raises(tmp_path: Path) -> None:
    first = _write(tmp_path, "en", "core.po", {"same.key": "one"})
    second = _write(tmp_path, "en", "guide.po", {"same.key": "two"})
    with pytest.raises(I18nError) as info:
        Translator.load(tmp_path)
    message = str(info.value)
    assert "same.key" in message
    assert str(first) in message
    assert str(second) in message


def test_duplicate_key_in_one_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "en" / "core.po"
    path.parent.mkdir()
    path.write_text(_po({"k": "one"}) + '\nmsgid "k"\nmsgstr "two"\n', encoding="utf-8")
    with pytest.raises(I18nError, match="duplicate key 'k'"):
        Translator.load(tmp_path)


def test_bad_placeholder_raises(tmp_path: Path) -> None:
    _write(tmp_path, "en", "core.po", {"bad": "Hello {name"})
    with pytest.raises(I18nError, match="bad placeholder"):
        Translator.load(tmp_path)
    _write(tmp_path, "en", "core.po", {"bad": "Hello {0}"})
    with pytest.raises(I18nError, match="plain"):
        Translator.load(tmp_path)


def test_empty_or_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(I18nError, match="no message catalogs"):
        Translator.load(tmp_path)
    with pytest.raises(I18nError, match="no such locales directory"):
        Translator.load(tmp_path / "absent")


# --- language resolution ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh", "zh-CN"),
        ("zh-hans", "zh-CN"),
        ("zh-CN", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("zh-hant", "zh-CN"),
        ("zh_HK", "zh-CN"),
        ("ZH", "zh-CN"),
        ("en", "en"),
        ("en-US", "en"),
        ("en-gb", "en"),
        ("fr", "zh-CN"),
        ("ru-RU", "zh-CN"),
        ("", "zh-CN"),
        (None, "zh-CN"),
    ],
)
def test_resolve_language(code: str | None, expected: str) -> None:
    assert resolve_language(code, LANGUAGES, "zh-CN") == expected


def test_resolve_language_default() -> None:
    assert resolve_language("de", LANGUAGES, "en") == "en"
    assert resolve_language(None, LANGUAGES, "en") == "en"
    assert resolve_language("zh-TW", LANGUAGES, "en") == "zh-CN"


def test_resolve_language_prefers_an_exact_match_over_the_primary_subtag() -> None:
    supported = ("zh-CN", "zh-TW", "en")
    assert resolve_language("zh_tw", supported, "en") == "zh-TW"
    assert resolve_language("zh-HK", supported, "en") == "zh-CN"  # the first zh
    assert resolve_language("pt-BR", supported, "en") == "en"


def test_a_missing_language_is_named(real: Translator) -> None:
    with pytest.raises(I18nError, match=r"no message catalogs for fr .*locales/fr/"):
        real.require(("zh-CN", "en", "fr"))
