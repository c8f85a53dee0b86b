"""Privacy: /privacy says what is kept and for how long; /deletemydata erases a person's data
after a second tap, keeping number, type, stage and times; the retention sweep does the same
for complaints closed longer ago than the retention period."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import runtime
from bot.simulator import Simulator
from flows import privacy
from flows.records import Stage
from tests.flows.conversations import (
    DESCRIPTION,
    TARGETS,
    file,
    file_to_review,
    give_result,
    move_to_investigating,
    open_card,
    operator,
    stored,
)


@pytest.mark.parametrize(("language", "words"), [("en", "180 days"), ("zh-CN", "180 天")])
async def test_privacy_says_what_is_kept_and_how_long(
    sim: Simulator, language: str, words: str
) -> None:
    user = sim.user(101, "Li", language_code=language)
    await file(user)
    await user.send("/privacy")
    summary = user.assert_last("privacy.summary")
    assert words in summary.text
    assert "1" in summary.text  # one complaint stored


async def test_delete_my_data_asks_once_more_then_erases_what_names_people(
    sim: Simulator,
) -> None:
    user = sim.user(102, "Li", language_code="en")
    number = await file(user)
    await file_to_review(user, "payment")  # an unfinished draft too
    before = await stored(sim, number)
    assert before.evidence
    assert before.target == TARGETS["friend_report"]

    await user.send("/deletemydata")
    user.assert_last("privacy.confirm")
    assert (await stored(sim, number)).target == before.target  # nothing yet: one more tap

    await user.tap_key("privacy.button.erase_now")
    erased_msg = user.assert_last("privacy.erased")
    assert "1 complaint." in erased_msg.text

    after = await stored(sim, number)
    assert (after.target, after.target_key, after.description, after.evidence) == ("", "", "", ())
    assert (after.number, after.type_id, after.stage, after.submitted_at) == (
        before.number,
        before.type_id,
        before.stage,
        before.submitted_at,
    )
    assert after.timeline[-1].kind == privacy.ERASED
    user_row = await runtime(sim.app).store.read(lambda tx: tx.load_user(102))
    assert user_row is not None
    assert user_row.draft is None

    await user.send("/start")
    user.assert_last("menu.welcome")  # no draft offered for resuming


async def test_operators_see_that_a_complaint_was_erased(sim: Simulator) -> None:
    op = await operator(sim)
    user = sim.user(103, "Li", language_code="zh-CN")
    number = await file(user)
    await user.send("/deletemydata")
    await user.tap_key("privacy.button.erase_now")
    await open_card(op, number)
    card = op.assert_last("operator.card")
    assert "Personal data erased" in card.text
    assert TARGETS["friend_report"] not in card.text
    assert DESCRIPTION not in card.text


async def test_keeping_the_data_changes_nothing(sim: Simulator) -> None:
    user = sim.user(104, "Li", language_code="zh-CN")
    number = await file(user)
    await user.send("/privacy")
    await user.tap_key("privacy.button.erase")
    user.assert_last("privacy.confirm")
    await user.tap_key("privacy.button.keep")
    user.assert_last("privacy.kept")
    assert (await stored(sim, number)).description == DESCRIPTION


async def test_the_retention_sweep_erases_closed_complaints_only_after_the_period(
    sim: Simulator,
) -> None:
    op = await operator(sim)
    user = sim.user(105, "Li", language_code="en")
    closed = await file(user, "payment")
    still_open = await file(user, "friend_report")
    await move_to_investigating(op, closed)
    await give_result(op, closed)
    assert (await stored(sim, closed)).stage is Stage.RESULT_GIVEN

    rt = runtime(sim.app)
    rules = rt.desk.rules
    now = sim.clock.now()

    async def purge(days: float) -> int:
        return await rt.store.transact(
            lambda tx: privacy.purge(tx, now + timedelta(days=days), rules)
        )

    assert await purge(179) == 0
    assert (await stored(sim, closed)).description == DESCRIPTION
    assert await purge(181) == 1
    assert (await stored(sim, closed)).description == ""
    assert (await stored(sim, still_open)).description == DESCRIPTION  # open: kept
    assert await purge(400) == 0  # erased once
