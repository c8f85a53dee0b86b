"""The shipped rules catalog: it loads, carries the spec's defaults, and bad files are named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.catalog import (
    DEFAULT_CATALOG,
    Catalog,
    CatalogError,
    TargetKind,
    load_catalog,
    parse_catalog,
)
from flows.records import EvidenceKind

EXPECTED_IDS = (
    "friend_report",
    "payment",
    "mini_program",
    "intellectual_property",
    "judicial",
    "account_security",
    "inappropriate_content",
    "merchant_service",
    "other",
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def raw() -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return copy.deepcopy(data)


def _error(data: dict[str, Any], source: str = "my.yaml") -> str:
    with pytest.raises(CatalogError) as info:
        parse_catalog(yaml.safe_dump(data, allow_unicode=True), source)
    return str(info.value)


# --- the shipped file ---------------------------------------------------------------------


def test_shipped_catalog_loads(catalog: Catalog) -> None:
    assert catalog.version == 1
    assert tuple(t.id for t in catalog.types) == EXPECTED_IDS
    assert load_catalog(DEFAULT_CATALOG) == catalog


def test_disclaimer_says_not_official(catalog: Catalog) -> None:
    assert "官方" in catalog.disclaimer.get("zh-CN")
    assert "not on any platform's official policy" in catalog.disclaimer.get("en")


def test_limits_are_the_spec_defaults(catalog: Catalog) -> None:
    limits = catalog.limits
    assert limits.auto_review_hours == 2
    assert limits.monthly_revocation_requests == 3
    assert limits.daily_appeals == 2
    assert limits.reminder_minutes_before == 60


@pytest.mark.parametrize("type_id", EXPECTED_IDS)
def test_every_type_is_complete_in_both_languages(catalog: Catalog, type_id: str) -> None:
    t = catalog.type(type_id)
    assert t is not None
    texts = [t.title, t.summary, t.prepare, t.target.prompt, t.target.invalid, t.evidence.hint]
    texts.append(t.revocation.rule)
    for text in texts:
        assert set(text.as_dict()) == set(catalog.languages)
        assert all(value.strip() for value in text.as_dict().values())
    assert len(t.title.get("zh-CN")) <= 24, "zh title must fit a button"
    assert len(t.title.get("en")) <= 32, "en title must fit a button"
    assert 1 <= t.evidence.max_count <= 20


def test_friend_report_defaults(catalog: Catalog) -> None:
    t = catalog.type("friend_report")
    assert t is not None
    assert t.revocation.revocable
    assert t.revocation.self_service
    assert t.revocation.window_hours == 24
    assert t.rating == 3.5
    assert t.target.kind is TargetKind.ACCOUNT


def test_payment_defaults(catalog: Catalog) -> None:
    t = catalog.type("payment")
    assert t is not None
    assert t.revocation.revocable
    assert not t.revocation.self_service, "funds involved: every revocation goes to an operator"
    assert t.revocation.window_hours == 72
    assert t.rating == 2.5
    assert t.target.kind is TargetKind.TRANSACTION
    assert t.evidence.min_count == 2


def test_mini_program_defaults(catalog: Catalog) -> None:
    t = catalog.type("mini_program")
    assert t is not None
    assert t.revocation.revocable
    assert t.revocation.self_service
    assert t.revocation.window_working_days == 3
    assert t.revocation.window_hours is None
    assert t.rating == 1.5
    assert t.target.kind is TargetKind.MINI_PROGRAM


@pytest.mark.parametrize("type_id", ["intellectual_property", "judicial"])
def test_not_revocable_types_warn(catalog: Catalog, type_id: str) -> None:
    t = catalog.type(type_id)
    assert t is not None
    assert not t.revocation.revocable
    assert not t.revocation.self_service
    assert t.warning is not None
    assert "撤回" in t.warning.get("zh-CN")
    assert "withdrawn" in t.warning.get("en")


def test_judicial_points_to_the_legal_route(catalog: Catalog) -> None:
    t = catalog.type("judicial")
    assert t is not None
    assert t.warning is not None
    assert "律师" in t.warning.get("zh-CN")
    assert "互联网法院" in t.warning.get("zh-CN")
    assert "lawyer" in t.warning.get("en")
    assert "internet court" in t.warning.get("en")


@pytest.mark.parametrize(
    ("type_id", "hours", "self_service"),
    [
        ("account_security", 24, True),
        ("inappropriate_content", 24, True),
        ("merchant_service", 72, False),
        ("other", 24, True),
    ],
)
def test_added_types_defaults(
    catalog: Catalog, type_id: str, hours: int, self_service: bool
) -> None:
    t = catalog.type(type_id)
    assert t is not None
    assert t.revocation.revocable
    assert t.revocation.window_hours == hours
    assert t.revocation.self_service is self_service


def test_evidence_kinds_are_known(catalog: Catalog) -> None:
    for t in catalog.types:
        assert set(t.evidence.kinds) <= set(EvidenceKind)
        assert t.evidence.min_count >= 1


def test_unknown_type_is_none(catalog: Catalog) -> None:
    assert catalog.type("nope") is None
    assert catalog.type(None) is None


# --- target patterns ------------------------------------------------------------------------

ACCEPT: dict[str, list[str]] = {
    "friend_report": [
        "wxid_zhang123",
        "zhang-san88",
        "Alice_2024",
        "13800138000",
        "+86 138 0013 8000",
        "+8613800138000",
        "138-0013-8000",
        "@scammer_bot",
        "  @alice_w  ",
        "123456789",  # a QQ number
    ],
    "account_security": ["wxid_mine2024", "13912345678", "@my_account"],
    "payment": [
        "4200001234202401011234567890",
        "1000000000",
        "T2024010112345678",
        "ORDER-20240101-123456",
        "42000012342024010112345678901234",
    ],
    "mini_program": [
        "wx1234567890abcdef",
        "WX1234567890ABCDEF",
        "星星点餐",
        "Star Orders",
        "美团外卖",
    ],
    "intellectual_property": [
        "https://example.com/post/123",
        "公众号某某 3 月 5 日的文章",
        "the 5 March article on account X",
    ],
    "inappropriate_content": [
        "https://mp.weixin.qq.com/s/AbCdEf",
        "读书群里的谣言",
        "a rumour video",
    ],
    "judicial": ["wxid_zhang123", "沪公网警〔2024〕123号", "case 2024-123"],
    "merchant_service": ["星巴克（国贸店）", "McDonald's", "A&B Store", "1234567890", "好又多"],
    "other": ["某个网站", "a weird event", "QQ 群 12345"],
}

REJECT: dict[str, list[str]] = {
    "friend_report": [
        "",
        "abc",
        "你好",
        "hello world",
        "1-2-3",
        "!!!!!!",
        "@ab",
        "1234",
        "9abcdef",
    ],
    "account_security": ["", "张三", "wx", "http://x"],
    "payment": ["", "123", "abcdefghijkl", "4200 0012 3420 2401", "1" * 33, "订单号123456789"],
    "mini_program": ["", "a", "!!!", "12345", "x" * 31],
    "intellectual_property": ["", "abc", "!!!!!!", "123456", "x" * 301],
    "inappropriate_content": ["", "???", "1234567"],
    "judicial": ["", "!", "---", "x" * 101],
    "merchant_service": ["", "a", "!!!", "<b>shop</b>", "123", "x" * 61],
    "other": ["", "?", "!!!!", "line one\nline two", "x" * 101],
}


@pytest.mark.parametrize(("type_id", "answer"), [(k, v) for k, vs in ACCEPT.items() for v in vs])
def test_target_accepts_realistic_answers(catalog: Catalog, type_id: str, answer: str) -> None:
    t = catalog.type(type_id)
    assert t is not None
    assert t.target.accepts(answer), f"{type_id} should accept {answer!r}"


@pytest.mark.parametrize(("type_id", "answer"), [(k, v) for k, vs in REJECT.items() for v in vs])
def test_target_rejects_junk(catalog: Catalog, type_id: str, answer: str) -> None:
    t = catalog.type(type_id)
    assert t is not None
    assert not t.target.accepts(answer), f"{type_id} should reject {answer!r}"


def test_every_type_has_examples() -> None:
    assert set(ACCEPT) == set(EXPECTED_IDS) == set(REJECT)


# --- invalid files ------------------------------------------------------------------------------


def test_negative_window_names_file_and_field(raw: dict[str, Any]) -> None:
    raw["types"][0]["revocation"]["window_hours"] = -1
    message = _error(raw)
    assert message.startswith("my.yaml: ")
    assert "types[0].revocation.window_hours" in message


def test_missing_english_text_is_named(raw: dict[str, Any]) -> None:
    del raw["types"][1]["summary"]["en"]
    assert "my.yaml: types[1].summary: Value error, no text in en" in _error(raw)


def test_a_text_in_a_language_the_catalog_does_not_list_is_named(raw: dict[str, Any]) -> None:
    raw["types"][0]["title"]["fr"] = "Signaler un ami"
    assert "types[0].title: Value error, fr is not in the catalog's languages" in _error(raw)


def test_a_listed_language_needs_every_text(raw: dict[str, Any]) -> None:
    """One line in `languages` makes every text of the catalog ask for that language."""
    raw["languages"]["fr"] = "Français"
    message = _error(raw)
    assert "my.yaml: disclaimer: Value error, no text in fr" in message
    assert "types[0].title: Value error, no text in fr" in message


def test_a_language_code_is_checked(raw: dict[str, Any]) -> None:
    raw["languages"]["Not A Code"] = "?"
    assert "my.yaml: languages.Not A Code" in _error(raw)


def test_empty_chinese_text_is_named(raw: dict[str, Any]) -> None:
    raw["types"][2]["title"]["zh-CN"] = ""
    assert "types[2].title.zh-CN" in _error(raw)


def test_bad_regex_is_named(raw: dict[str, Any]) -> None:
    raw["types"][3]["target"]["pattern"] = "([a-z"
    message = _error(raw)
    assert "types[3].target.pattern" in message
    assert "not a valid regular expression" in message


def test_duplicate_id_is_refused(raw: dict[str, Any]) -> None:
    raw["types"][4]["id"] = raw["types"][0]["id"]
    message = _error(raw)
    assert "my.yaml: types" in message
    assert "duplicate type id 'friend_report'" in message


def test_revocable_type_needs_a_window(raw: dict[str, Any]) -> None:
    del raw["types"][0]["revocation"]["window_hours"]
    message = _error(raw)
    assert "types[0].revocation" in message
    assert "exactly one of window_hours or window_working_days" in message


def test_not_revocable_type_has_no_window(raw: dict[str, Any]) -> None:
    raw["types"][3]["revocation"]["window_hours"] = 24
    assert "types[3].revocation" in _error(raw)


def test_unknown_evidence_kind_is_named(raw: dict[str, Any]) -> None:
    raw["types"][0]["evidence"]["kinds"] = ["photo", "sticker"]
    assert "types[0].evidence.kinds[1]" in _error(raw)


def test_unknown_field_is_refused(raw: dict[str, Any]) -> None:
    raw["types"][0]["colour"] = "red"
    assert "types[0].colour" in _error(raw)


def test_yaml_syntax_error_names_file() -> None:
    with pytest.raises(CatalogError, match=r"^broken\.yaml: not valid YAML"):
        parse_catalog("version: 1\ntypes: [unclosed\n", "broken.yaml")


def test_empty_file_is_refused() -> None:
    with pytest.raises(CatalogError, match=r"^empty\.yaml: "):
        parse_catalog("", "empty.yaml")


def test_unreadable_path_names_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(CatalogError, match=r"nowhere\.yaml: cannot read"):
        load_catalog(missing)


def test_file_errors_name_the_path(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["types"][0]["revocation"]["window_hours"] = 0
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert f"{path}: types[0].revocation.window_hours" in str(info.value)


def test_a_replacement_catalog_loads(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["types"] = raw["types"][:1]
    raw["types"][0]["revocation"]["window_hours"] = 48
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    mine = load_catalog(path)
    assert [t.id for t in mine.types] == ["friend_report"]
    assert mine.types[0].revocation.window_hours == 48
