"""Which language the desk speaks to a user: zh-CN or en, from Telegram's `language_code`."""

from __future__ import annotations

SUPPORTED = ("zh-CN", "en")


def resolve_language(language_code: str | None, default: str = "zh-CN") -> str:
    """Map a Telegram/IETF language code to a supported language.

    Any Chinese variant (zh, zh-hans, zh-CN, zh-TW, zh-hant, zh_HK...) -> "zh-CN"; any English
    variant (en, en-US, en_GB...) -> "en"; anything else, empty or None -> `default`.
    """
    if not language_code:
        return default
    primary = language_code.strip().replace("_", "-").split("-", 1)[0].lower()
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return default
