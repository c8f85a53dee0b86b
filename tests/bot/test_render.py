"""Rendering: the catalog's limits are what the texts quote (nothing written in by hand)."""

from __future__ import annotations

import re

from bot.i18n import Translator
from bot.render import Renderer
from flows.catalog import Limits
from flows.policy import explain
from flows.replies import Lines, Ref


def test_a_changed_catalog_limit_is_what_the_text_says() -> None:
    renderer = Renderer(Translator.load())
    limits = Limits(monthly_revocation_requests=5, daily_appeals=4)
    for language in ("en", "zh-CN"):
        risk = renderer.text(language, "follow.cannot", {
            "rule": explain("policy.rule.risk_review", limits),
            "next": Lines((Ref("policy.next.escalate"),)),
        })  # fmt: skip
        daily = renderer.text(language, "follow.review_refused", {
            "rule": explain("policy.appeal.daily_limit", limits),
        })  # fmt: skip
        assert re.search(r"(than|超过) 5\b", risk), risk
        assert re.search(r"(most|申请) 4\b", daily), daily
