"""Alerts that arrive: a notification Telegram cannot deliver yet (the operator never opened
the bot: "chat not found") is kept, counted for operators, and delivered once as soon as they
write; their command menu is set at that moment; nothing in the log carries a traceback."""

from __future__ import annotations

import json

import pytest

from bot.app import runtime
from bot.simulator import Simulator
from tests.conftest import OPERATOR
from tests.flows.conversations import file, request_withdrawal

OTHER_OPERATOR = 9002


def operator_menu(sim: Simulator, operator_id: int) -> list[str]:
    scope = json.dumps({"chat_id": operator_id, "type": "chat"}, sort_keys=True)
    found = [c for (s, _), cs in sim.world.commands.items() if s == scope for c in cs]
    return [str(c["command"]) for c in found]


async def test_an_alert_to_an_operator_who_never_wrote_arrives_once_when_they_do(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    assert "queue" not in operator_menu(sim, OPERATOR)  # no chat yet: no menu could be set
    user = sim.user(1001, language_code="en")
    number = await file(user, "payment")
    caplog.clear()
    request = await request_withdrawal(sim, user, number)
    kept = await runtime(sim.app).store.read(lambda tx: tx.deferred_notifications())
    assert kept == [OPERATOR]  # kept, not dropped
    assert not any(r.exc_info for r in caplog.records)  # an expected refusal: no traceback
    await sim.advance(minutes=5)  # the sweeper kicks the outbox: still nobody to send it to
    op = sim.user(OPERATOR, "Olga", language_code="en")
    assert op.messages == []
    await op.send("/start")
    alerts = [m for m in op.messages if op.shows(m, "operator.new_request")]
    assert len(alerts) == 1
    assert request in alerts[0].text
    assert "queue" in operator_menu(sim, OPERATOR)  # the menu, the moment they wrote
    assert await runtime(sim.app).store.read(lambda tx: tx.deferred_notifications()) == []
    await sim.advance(hours=2)
    await op.send("/queue")
    assert len([m for m in op.messages if op.shows(m, "operator.new_request")]) == 1


async def test_operators_see_how_many_alerts_wait(sim: Simulator) -> None:
    op = sim.user(OPERATOR, "Olga", language_code="en")
    await op.send("/start")
    user = sim.user(1001, language_code="en")
    number = await file(user, "payment")
    await request_withdrawal(sim, user, number)  # reaches Olga at once
    assert len([m for m in op.messages if op.shows(m, "operator.new_request")]) == 1
    await op.send("/queue")
    assert op.label("operator.waiting", n=0) in op.last.text
