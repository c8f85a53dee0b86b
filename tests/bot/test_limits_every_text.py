"""Every text the desk can send, in every language, within Telegram's limits however long the
values put into it (issue 10.4): each message key is rendered with every placeholder filled by a
long generated value (names, targets, descriptions, file names: HTML-escaped as the renderer
does), then cut as the renderer cuts it; every message part, caption and pop-up fits."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import limits
from bot.i18n import Translator, plain
from flows.catalog import load_catalog

TRANSLATOR = Translator.load()
LANGUAGES = load_catalog().codes
KEYS = sorted(TRANSLATOR.keys(LANGUAGES[0]))
COUNTS = ("n", "count")
value = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=200, max_size=3_000)


def placeholders(language: str, key: str) -> set[str]:
    return {
        name
        for form in TRANSLATOR.forms(language, key)
        for _, name, _, _ in string.Formatter().parse(form)
        if name
    }


@settings(max_examples=5, deadline=None)
@given(filler=value, count=st.integers(0, 10_000))
def test_every_text_fits_whatever_is_put_into_it(filler: str, count: int) -> None:
    assert KEYS, "no message keys: the test would prove nothing"
    for language in LANGUAGES:
        for key in KEYS:
            params: dict[str, object] = {
                name: count if name in COUNTS else filler for name in placeholders(language, key)
            }
            text = TRANSLATOR.text(language, key, **params)
            for part in limits.split(text):
                assert limits.visible_length(part) <= limits.MESSAGE, (language, key)
            assert limits.visible_length(limits.shorten(text, limits.CAPTION)) <= limits.CAPTION
            assert len(limits.clip_plain(plain(text), limits.ALERT)) <= limits.ALERT
