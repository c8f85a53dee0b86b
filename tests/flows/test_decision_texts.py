"""Every decision, in every language, said as the rule that decided it (issue 9): for each type x
stage x history x moment x loss x review used, the withdrawal text is rendered from the policy's
decision and checked against it: an irrevocable type is never sent to an operator nor offered
self-service, self-service is offered exactly when decided, the review only while unused, and a
risk review quotes the exact monthly count."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import Translator, plain
from bot.render import Renderer
from flows import explain, policy
from flows.catalog import load_catalog
from flows.complaints import with_deadlines
from flows.policy import Channel, History
from flows.records import ComplaintRecord, Stage

CATALOG = load_catalog()
RENDERER = Renderer(Translator.load())
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
AFTER = (timedelta(minutes=30), timedelta(hours=3), timedelta(hours=30), timedelta(days=6))
HISTORIES = (
    History(0),
    History(3),
    History(4),
    History(1, open_request="R261123-AAAA-BBBB"),
)
WORDS = {  # how each language names what a decision offers
    "en": {"operator": "withdrawal request", "self": "withdraw it yourself", "review": "review"},
    "zh-CN": {"operator": "撤回申请", "self": "自助撤回", "review": "复核"},
}


def complaint(type_id: str, stage: Stage, loss: bool, reviews: int) -> ComplaintRecord:
    ctype = CATALOG.type(type_id)
    assert ctype is not None
    filed = ComplaintRecord(
        number="261123-TEST-0001",
        user_id=1,
        type_id=type_id,
        target="t",
        target_key="t",
        description="d" * 20,
        language="en",
        submitted_at=T0,
    )
    return with_deadlines(filed, CATALOG).model_copy(
        update={"stage": stage, "loss_reported": loss, "reviews_requested": reviews}
    )


CASES = list(
    itertools.product(
        [t.id for t in CATALOG.types], list(Stage), HISTORIES, AFTER, (False, True), (0, 1)
    )
)


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_every_decision_is_said_as_decided(language: str) -> None:
    words = WORDS[language]
    checked = 0
    for type_id, stage, history, after, loss, reviews in CASES:
        record = complaint(type_id, stage, loss, reviews)
        ctype = CATALOG.type(type_id)
        assert ctype is not None
        now = T0 + after
        decision = policy.decide(ctype, record, now, history, CATALOG.limits)
        ref = explain.withdrawal_now(decision, record, ctype, now, CATALOG.limits)
        text = plain(RENDERER.text(language, ref.key, ref.params))
        case = f"{type_id} {stage} {history} +{after} loss={loss} reviews={reviews}: {text}"
        if not ctype.revocation.revocable:  # never an operator, never self-service
            assert decision.channel is Channel.REFUSED, case
            assert words["operator"] not in text, case
            assert words["self"] not in text, case
        if decision.channel is not Channel.SELF_SERVICE:
            assert words["self"] not in text, case
        if decision.channel is Channel.SELF_SERVICE:
            assert words["self"] in text, case
        if reviews:
            assert "policy.next.request_review" not in decision.next_steps, case
        if decision.rule == "policy.rule.risk_review":
            assert re.search(rf"\b{decision.count}\b", text), case
        checked += 1
    assert checked == len(CASES) > 1000
