"""Which language the desk speaks to a user, from Telegram's `language_code`.

The languages themselves are data: the rules catalog lists them (`languages:` in
`flows/catalog.yaml`, one line each, in the order of the language menu), its texts are
validated against that list, and `bot/locales/<code>/` holds each one's message catalogs.
"""

from __future__ import annotations

from collections.abc import Sequence


def _norm(code: str) -> str:
    return code.strip().replace("_", "-").lower()


def resolve_language(language_code: str | None, supported: Sequence[str], default: str) -> str:
    """Map a Telegram/IETF language code to one of `supported`.

    An exact match wins (any case, `_` or `-`); else the first supported language with the same
    primary subtag (zh, zh-hans, zh-TW, zh_HK -> "zh-CN"; en-US, en_GB -> "en"); else `default`
    (also for an empty or missing code).
    """
    if not language_code:
        return default
    wanted = _norm(language_code)
    for language in supported:
        if _norm(language) == wanted:
            return language
    primary = wanted.split("-", 1)[0]
    for language in supported:
        if _norm(language).split("-", 1)[0] == primary:
            return language
    return default


def primary_subtag(language: str) -> str:
    """The language without its region or script: "zh-CN" -> "zh" (Telegram's command menus)."""
    return _norm(language).split("-", 1)[0]
