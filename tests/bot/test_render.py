"""Rendering: the catalog's limits are what the texts quote (nothing written in by hand)."""

from __future__ import annotations

import re

from bot.i18n import Translator
from bot.render import Renderer
from flows import explain
from flows.catalog import Limits, load_catalog
from flows.policy import Channel, Decision
from flows.policy import explain as appeal_rule


def test_a_changed_catalog_limit_is_what_the_text_says() -> None:
    renderer = Renderer(Translator.load())
    limits = Limits(monthly_revocation_requests=5, daily_appeals=4)
    ctype = load_catalog().types[0]
    decision = Decision(Channel.OPERATOR, "policy.rule.risk_review", None, None, True, (), 5)
    for language in ("en", "zh-CN"):
        risk = renderer.text(language, "follow.cannot_only", {
            "rule": explain.reason(decision, ctype, limits),
        })  # fmt: skip
        daily = renderer.text(language, "follow.review_refused", {
            "rule": appeal_rule("policy.appeal.daily_limit", limits),
        })  # fmt: skip
        assert re.search(r"(than|超过) 5\b", risk), risk
        assert re.search(r"(have|已有) 5\b", risk), risk
        assert re.search(r"(most|申请) 4\b", daily), daily
