"""Translating in: what reaches the domain from a Telegram update is clean text."""

from __future__ import annotations

from bot.app import runtime
from bot.inbound import clean
from bot.simulator import Simulator
from tests.flows.conversations import TARGETS, send_evidence, type_button

LONE = "\ud800"  # half of a surrogate pair: a Python str can hold it, UTF-8 cannot encode it


async def test_a_lone_surrogate_is_cleaned_at_the_edge(sim: Simulator) -> None:
    """A description with a lone surrogate (and a name with one) is taken with U+FFFD in its
    place: no UnicodeEncodeError, no apology, the step moves on."""
    user = sim.user(1001, f"Al{LONE}ice", language_code="en")
    await user.send("/start")
    await user.tap_key("menu.button.file")
    await user.tap_key("filing.button.type", **type_button("friend_report"))
    await user.tap_key("filing.button.proceed")
    await user.send(TARGETS["friend_report"])
    await send_evidence(user, "friend_report")
    await user.tap_key("filing.button.done")
    user.assert_last("filing.ask_description")
    await user.send(f"They took my money {LONE} and blocked me the next day.")
    user.assert_last("filing.review")
    row = await runtime(sim.app).store.read(lambda tx: tx.load_user(1001))
    assert row is not None
    assert row.state == "reviewing"
    assert LONE not in user.last.text
    assert "\ufffd" in user.last.text


def test_clean_keeps_valid_text_and_joins_split_pairs() -> None:
    assert clean("投诉 😀 ok") == "投诉 😀 ok"
    assert clean("\ud83d\ude00") == "😀"  # a pair held as two code points is one character
    assert clean(f"a{LONE}b\udfffc") == "a\ufffdb\ufffdc"
