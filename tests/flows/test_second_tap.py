"""What cannot be undone takes a second tap: cancelling a draft with content, starting over,
requesting the one review (with a reason the operator reads), reporting a loss. The first tap
changes nothing; the way back keeps everything."""

from __future__ import annotations

import pytest

from bot.app import runtime
from bot.simulator import Actor, Simulator
from flows.records import Stage
from tests.flows.conversations import (
    DESCRIPTION,
    TARGETS,
    file,
    file_to_review,
    give_result,
    move_to_investigating,
    open_card,
    open_detail,
    operator,
    send_evidence,
    stored,
    type_button,
)

LANGUAGES = pytest.mark.parametrize("language", ["en", "zh-CN"])


async def draft_of(sim: Simulator, user_id: int) -> object:
    row = await runtime(sim.app).store.read(lambda tx: tx.load_user(user_id))
    assert row is not None
    return row.draft


@LANGUAGES
async def test_cancelling_a_draft_with_content_asks_first(sim: Simulator, language: str) -> None:
    user = sim.user(1001, language_code=language)
    await file_to_review(user)
    before = await draft_of(sim, 1001)
    await user.tap_key("filing.button.cancel")
    user.assert_last("filing.discard_confirm")
    assert await draft_of(sim, 1001) == before  # nothing lost yet
    await user.tap_key("filing.button.keep")
    user.assert_last("filing.review")  # back where it was
    await user.send("/cancel")  # the command asks too
    user.assert_last("filing.discard_confirm")
    await user.tap_key("filing.button.discard")
    user.assert_got("filing.cancelled")
    assert await draft_of(sim, 1001) is None


async def test_an_empty_draft_is_cancelled_at_once(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await user.send("/start")
    await user.tap_key("menu.button.file")
    await user.send("/cancel")
    user.assert_got("filing.cancelled")


@LANGUAGES
async def test_starting_over_asks_first(sim: Simulator, language: str) -> None:
    user = sim.user(1001, language_code=language)
    await file_to_review(user)
    await user.send("/start")
    user.assert_last("filing.resume_offer")
    await user.tap_key("filing.button.start_over")
    user.assert_last("filing.start_over_confirm")
    await user.tap_key("filing.button.keep")
    user.assert_last("filing.review")
    draft = await draft_of(sim, 1001)
    assert getattr(draft, "description", None)


@LANGUAGES
async def test_the_review_asks_for_a_reason_and_the_operator_reads_it(
    sim: Simulator, language: str
) -> None:
    user = sim.user(1001, language_code=language)
    op = await operator(sim)
    number = await file(user)
    await move_to_investigating(op, number)
    await give_result(op, number)
    await open_detail(user, number)
    await user.tap_key("follow.button.review")
    user.assert_last("follow.review_confirm")
    await user.tap_key("follow.button.back")
    user.assert_last("follow.detail")
    assert (await stored(sim, number)).stage is Stage.RESULT_GIVEN  # the first tap did nothing
    await user.tap_key("follow.button.review")
    await user.tap_key("review.reason.new_evidence")
    user.assert_got("follow.review_requested")
    complaint = await stored(sim, number)
    assert complaint.stage is Stage.REVIEW_REQUESTED
    assert complaint.timeline[-1].text == "new_evidence"
    told = op.assert_last("operator.review_requested")
    assert op.label("review.reason.new_evidence") in told.text
    await open_card(op, number)
    assert op.label("review.reason.new_evidence") in op.last.text  # on the card's timeline


async def test_reporting_a_loss_asks_first(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    op = await operator(sim)
    number = await file(user)
    await open_card(op, number)
    await op.tap(data=f"o:loss:{number}")
    op.assert_last("operator.loss_confirm")
    await op.tap_key("operator.button.complaint")
    op.assert_last("operator.card")
    assert not (await stored(sim, number)).loss_reported
    await op.tap(data=f"o:loss:{number}")
    await op.tap_key("operator.button.loss_yes")
    op.assert_last("operator.card")
    assert (await stored(sim, number)).loss_reported


async def to_state(user: Actor, state: str) -> None:
    """A draft at `state`, one of the steps from which it holds content."""
    if state == "reviewing":
        await file_to_review(user)
        return
    await user.send("/start")
    await user.tap_key("menu.button.file")
    await user.tap_key("filing.button.type", **type_button("friend_report"))
    await user.tap_key("filing.button.proceed")
    await user.send(TARGETS["friend_report"])
    if state == "collecting_evidence":
        return
    await send_evidence(user, "friend_report")
    await user.tap_key("filing.button.done")
    if state == "describing":
        return
    await user.send(DESCRIPTION)
    await user.tap_key("filing.button.submit")  # confirming


@pytest.mark.parametrize("state", ["collecting_evidence", "describing", "reviewing", "confirming"])
async def test_from_every_step_with_content_both_ask_first(sim: Simulator, state: str) -> None:
    user = sim.user(1001, language_code="en")
    await to_state(user, state)
    row = await runtime(sim.app).store.read(lambda tx: tx.load_user(1001))
    assert row is not None
    assert row.state == state
    if state == "confirming":  # the last warning has no Cancel button: the command
        await user.send("/cancel")
    else:
        await user.tap_key("filing.button.cancel")
    user.assert_last("filing.discard_confirm")
    await user.tap_key("filing.button.discard")
    user.assert_got("filing.cancelled")
    await to_state(user, state)
    await user.send("/start")
    await user.tap_key("filing.button.start_over")
    user.assert_last("filing.start_over_confirm")
    await user.tap_key("filing.button.start_over_yes")
    user.assert_last("filing.choose_type")
