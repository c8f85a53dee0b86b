"""Whole filing conversations through the real Application on the fake Telegram.

Messages are matched by key, so every test reads the same in both languages; a failure prints
the chat transcript.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import runtime
from bot.simulator import Simulator
from tests.flows.conversations import (
    CATALOG,
    DESCRIPTION,
    NUMBER,
    TARGETS,
    file_to_review,
    send_evidence,
    submit,
    type_button,
)


@pytest.mark.parametrize("language", ["en", "zh-CN"])
@pytest.mark.parametrize("type_id", [t.id for t in CATALOG.types])
async def test_every_type_files_in_both_languages(
    sim: Simulator, type_id: str, language: str
) -> None:
    """Each complaint type, from /start to a complaint number, stored with its evidence."""
    user = sim.user(1001, "Lin", language_code=language)
    events: list[Any] = []
    runtime(sim.app).sinks.append(events.append)
    await file_to_review(user, type_id)
    number = await submit(user)
    stored = await runtime(sim.app).store.read(lambda tx: tx.get_complaint(number))
    assert stored is not None
    assert (stored.type_id, stored.target, stored.language) == (
        type_id,
        TARGETS[type_id],
        language,
    )
    assert len(stored.evidence) == CATALOG.type(type_id).evidence.min_count  # type: ignore[union-attr]
    assert [(e.name, e.data["number"]) for e in events] == [("complaint.submitted", number)]
    assert sim.world.unanswered_callbacks() == []


async def test_guidance_warns_before_filing_an_irrevocable_type(sim: Simulator) -> None:
    """Intellectual-property complaints say, before submission, that they cannot be withdrawn."""
    user = sim.user(1001, language_code="en")
    await user.send("/start")
    await user.tap_key("menu.button.file")
    await user.tap_key("filing.button.type", **type_button("intellectual_property"))
    warning = CATALOG.type("intellectual_property").warning  # type: ignore[union-attr]
    assert warning is not None
    assert warning.get("en").split(".")[0] in user.last.text


async def test_each_update_costs_one_database_round_trip(sim: Simulator) -> None:
    """One update = one transaction = one hop to the database thread."""
    user = sim.user(1001, language_code="en")
    store = runtime(sim.app).store
    before = store.round_trips
    await file_to_review(user)
    await submit(user)
    # /start, tap file, tap type, tap continue, target, one photo, tap done, description,
    # tap submit, tap confirm: ten updates.
    assert store.round_trips - before == 10


async def test_back_edit_and_cancel(sim: Simulator) -> None:
    """Back returns a step; edit from the review returns to the review; cancel discards."""
    user = sim.user(1001, language_code="en")
    await file_to_review(user)
    await user.tap_key("filing.button.edit_target")
    user.assert_last("filing.ask_target")
    await user.send("@another_person")
    user.assert_last("filing.review")
    assert "@another_person" in user.last.text
    await user.tap_key("filing.button.edit_description")
    await user.tap_key("filing.button.back")
    user.assert_last("filing.review")
    await user.tap_key("filing.button.cancel")
    user.assert_last("filing.discard_confirm")  # a draft with content: a second tap
    await user.tap_key("filing.button.discard")
    user.assert_got("filing.cancelled")
    user.assert_last("menu.welcome")
    await user.send("/start")
    user.assert_last("menu.welcome")  # no draft left to resume


async def test_back_walks_to_the_type_list(sim: Simulator) -> None:
    user = sim.user(1001, language_code="zh-CN")
    await user.send("/start")
    await user.tap_key("menu.button.file")
    await user.tap_key("filing.button.type", **type_button("payment"))
    await user.tap_key("filing.button.proceed")
    await user.tap_key("filing.button.back")
    user.assert_last("filing.guidance")
    await user.tap_key("filing.button.back")
    user.assert_last("filing.choose_type")


async def test_draft_survives_a_restart_and_resumes(sim: Simulator) -> None:
    """Kill the bot in the middle of a complaint: after restart the draft is there."""
    user = sim.user(1001, language_code="en")
    await user.send("/start")
    await user.tap_key("menu.button.file")
    await user.tap_key("filing.button.type", **type_button("friend_report"))
    await user.tap_key("filing.button.proceed")
    await user.send(TARGETS["friend_report"])
    await user.send_photo(data=b"evidence")
    await sim.restart()
    await user.send("/start")
    user.assert_last("filing.resume_offer")
    await user.tap_key("filing.button.resume")
    user.assert_last("filing.evidence_status")
    assert "1/10" in user.last.text
    await user.tap_key("filing.button.done")
    await user.send(DESCRIPTION)
    assert NUMBER.match(await submit(user))


async def test_start_over_discards_the_draft(sim: Simulator) -> None:
    """/start offers to resume; "start over" leaves an empty draft at the type choice."""
    user = sim.user(1001, language_code="en")
    await user.send("/start")
    await user.tap_key("menu.button.file")
    await user.tap_key("filing.button.type", **type_button("friend_report"))
    await user.tap_key("filing.button.proceed")
    await user.send(TARGETS["friend_report"])
    await send_evidence(user, "friend_report")
    await user.send("/start")
    user.assert_last("filing.resume_offer")
    await user.tap_key("filing.button.start_over")
    user.assert_last("filing.start_over_confirm")  # the draft has content: a second tap
    await user.tap_key("filing.button.start_over_yes")
    user.assert_last("filing.choose_type")
    row = await runtime(sim.app).store.read(lambda tx: tx.load_user(1001))
    assert row is not None
    assert row.state == "choosing_type"
    assert row.draft is not None
    assert (row.draft.type_id, row.draft.target, row.draft.evidence) == (None, None, ())


async def test_duplicate_of_an_open_complaint_is_refused_with_its_number(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await file_to_review(user)
    number = await submit(user)
    await user.tap_key("menu.button.file")
    await user.tap_key("filing.button.type", **type_button("friend_report"))
    await user.tap_key("filing.button.proceed")
    await user.send(" @WXID_Scammer88 ")  # same target, other spelling: spaces, @, case
    user.assert_last("filing.duplicate")
    assert number in user.last.text
    await user.send("another_target")  # a different target is fine
    user.assert_last("filing.evidence_status")


async def test_second_confirmation_can_be_turned_off(sim: Simulator) -> None:
    """With the setting off, Submit files at once, without the warning."""
    user = sim.user(1001, language_code="en")
    await user.send("/settings")
    user.assert_last("settings.menu")
    await user.tap_key("settings.button.confirm_off")
    assert user.label("settings.off") in user.last.text
    await file_to_review(user)
    await user.tap_key("filing.button.submit")
    user.assert_got("filing.submitted")
    assert not any(user.shows(m, "filing.confirm_warning") for m in user.messages)


async def test_language_follows_telegram_and_can_be_switched(sim: Simulator) -> None:
    user = sim.user(1001, language_code="zh-hans")
    await user.send("/start")
    assert user.language == "zh-CN"
    user.assert_last("menu.welcome")
    await user.send("/language")
    await user.tap_key("language.name", name=CATALOG.languages["en"])
    user.language = "en"
    user.assert_last("settings.language_set")
    await user.send("/start")
    user.assert_last("menu.welcome")


async def test_two_users_interleaved_keep_their_own_drafts(sim: Simulator) -> None:
    alice = sim.user(1001, "Alice", language_code="en")
    bob = sim.user(1002, "Bob", language_code="zh-CN")
    for actor in (alice, bob):
        await actor.send("/start")
        await actor.tap_key("menu.button.file")
    await alice.tap_key("filing.button.type", **type_button("friend_report"))
    await bob.tap_key("filing.button.type", **type_button("payment"))
    await alice.tap_key("filing.button.proceed")
    await bob.tap_key("filing.button.proceed")
    await bob.send(TARGETS["payment"])
    await alice.send(TARGETS["friend_report"])
    await send_evidence(bob, "payment")
    await send_evidence(alice, "friend_report")
    for actor in (alice, bob):
        await actor.tap_key("filing.button.done")
        await actor.send(DESCRIPTION)
    assert await submit(alice) != await submit(bob)
    store = runtime(sim.app).store
    mine = await store.read(lambda tx: [c.type_id for c in tx.complaints_of(1002)])
    assert mine == ["payment"]


async def test_the_same_update_delivered_twice_has_one_effect(sim: Simulator) -> None:
    """Telegram may redeliver an update: the second delivery changes and sends nothing."""
    user = sim.user(1001, language_code="en")
    await file_to_review(user)
    await user.tap_key("filing.button.submit")
    update = sim.world.user_tap(1001, label=user.label("filing.button.confirm"))
    await sim.process(update)
    mark = user.mark()
    await sim.process(update)
    assert user.since(mark) == []
    store = runtime(sim.app).store
    assert len(await store.read(lambda tx: tx.complaints_of(1001))) == 1
