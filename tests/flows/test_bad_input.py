"""Bad input gets a short answer in the user's language, and the state stays as it was."""

from __future__ import annotations

import logging

import pytest

from bot.app import runtime
from bot.simulator import Actor, Simulator
from flows.context import Rules
from tests.flows.conversations import (
    DESCRIPTION,
    TARGETS,
    file_to_review,
    submit,
    type_button,
)

MB = 1024 * 1024


async def at_step(actor: Actor, step: str, type_id: str = "friend_report") -> None:
    """Walk a fresh user to `step`: target, evidence or describe."""
    await actor.send("/start")
    await actor.tap_key("menu.button.file")
    await actor.tap_key("filing.button.type", **type_button(type_id))
    await actor.tap_key("filing.button.proceed")
    if step == "target":
        return
    await actor.send(TARGETS[type_id])
    if step == "evidence":
        return
    await actor.send_photo(data=b"one")
    await actor.tap_key("filing.button.done")


async def state_of(sim: Simulator, user_id: int) -> tuple[str, int]:
    user = await runtime(sim.app).store.read(lambda tx: tx.load_user(user_id))
    assert user is not None
    return user.state, len(user.draft.evidence) if user.draft else 0


def nonce_of(actor: Actor) -> int:
    data = next(d for d in actor.last.callback_data if d.startswith("f:"))
    return int(data.split(":")[1])


async def test_a_photo_where_a_target_is_expected(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await at_step(user, "target")
    await user.send_photo(data=b"x")
    user.assert_last("errors.media_not_expected")
    assert await state_of(sim, 1001) == ("entering_target", 0)
    await user.send(TARGETS["friend_report"])
    user.assert_last("filing.evidence_status")


async def test_an_invalid_target_explains_the_format(sim: Simulator) -> None:
    user = sim.user(1001, language_code="zh-CN")
    await at_step(user, "target")
    await user.send("!!")
    user.assert_last("filing.target_invalid")
    assert await state_of(sim, 1001) == ("entering_target", 0)


async def test_evidence_of_a_kind_the_type_does_not_take(sim: Simulator) -> None:
    """Judicial complaints take photos and documents, not videos."""
    user = sim.user(1001, language_code="en")
    await at_step(user, "evidence", "judicial")
    await user.send_video(data=b"v")
    user.assert_last("filing.evidence_wrong_kind")
    assert await state_of(sim, 1001) == ("collecting_evidence", 0)


async def test_a_file_over_20_mb_is_refused(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await at_step(user, "evidence")
    await user.send_photo(data=b"big", size=25 * MB)
    user.assert_last("filing.evidence_too_big")
    assert "25.0" in user.last.text
    await user.send_photo(data=b"fine", size=20 * MB)
    user.assert_last("filing.evidence_status")
    assert await state_of(sim, 1001) == ("collecting_evidence", 1)


async def test_the_same_file_twice_is_noticed(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await at_step(user, "evidence")
    await user.send_photo(data=b"same")
    await user.send_photo(data=b"same")
    user.assert_last("filing.evidence_same_file")
    assert await state_of(sim, 1001) == ("collecting_evidence", 1)


async def test_evidence_beyond_the_maximum_is_refused(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await at_step(user, "evidence")
    for i in range(10):
        await user.send_photo(data=f"p{i}".encode())
    await user.send_photo(data=b"eleventh")
    user.assert_last("filing.evidence_full")
    assert await state_of(sim, 1001) == ("collecting_evidence", 10)


async def test_done_without_enough_evidence_pops_up_the_minimum(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await at_step(user, "evidence", "payment")  # payment needs two items
    await user.send_photo(data=b"receipt")
    await user.tap_key("filing.button.done")
    answer = user.last_callback_answer
    assert answer is not None
    assert answer.text == user.label("filing.evidence_not_enough", n=2)
    assert await state_of(sim, 1001) == ("collecting_evidence", 1)


async def test_forwarded_records_albums_and_text_records_are_evidence(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await at_step(user, "evidence")
    await user.forward("Scammer", "send me 500 yuan now")
    await user.send("He called me at 21:00 and asked for money")
    mark = user.mark()
    await user.send_album(3)
    assert len(user.since(mark)) == 1  # an album is acknowledged once, not once per file
    assert await state_of(sim, 1001) == ("collecting_evidence", 5)


async def test_long_and_empty_texts(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await at_step(user, "evidence")
    await user.send("x" * 1001)
    user.assert_last("filing.evidence_text_too_long")
    await user.send_photo(data=b"ok")
    await user.tap_key("filing.button.done")
    await user.send("   too short   ")
    user.assert_last("filing.description_invalid")
    await user.send("y" * 2001)
    user.assert_last("filing.description_invalid")
    assert await state_of(sim, 1001) == ("describing", 1)
    await user.send(DESCRIPTION)
    user.assert_last("filing.review")


@pytest.mark.parametrize("kind", ["sticker", "location"])
async def test_stickers_and_locations_are_not_understood(sim: Simulator, kind: str) -> None:
    user = sim.user(1001, language_code="zh-CN")
    await at_step(user, "evidence")
    await (user.send_sticker() if kind == "sticker" else user.send_location())
    user.assert_last("errors.unsupported")
    assert await state_of(sim, 1001) == ("collecting_evidence", 0)


async def test_text_where_a_button_is_expected_repeats_the_question(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await user.send("/start")
    await user.tap_key("menu.button.file")
    await user.send("payment please")
    user.assert_got("errors.use_buttons")
    user.assert_last("filing.choose_type")


async def test_a_stale_button_changes_nothing(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await user.send("/start")
    await user.tap_key("menu.button.file")
    type_list = user.last
    label = user.label("filing.button.type", **type_button("friend_report"))
    button = type_list.find_button(label=label)
    assert button is not None
    assert button.data is not None
    await user.tap_key("filing.button.type", **type_button("payment"))
    assert label in type_list.labels  # the answered prompt keeps its keyboard (2 calls a tap)
    await user.tap_raw(type_list.message_id, button.data)  # tapped again, later
    answer = user.last_callback_answer
    assert answer is not None
    assert answer.text == user.label("errors.button_stale")
    user.assert_last("filing.guidance")
    assert "Payment" in user.last.text


@pytest.mark.parametrize(
    "data",
    ["f:0:drop_tables", "nonsense", "f:x:file", "m:confirm_twice:maybe", "g:page:nowhere", "f:1:"],
)
async def test_forged_callback_data_changes_nothing(sim: Simulator, data: str) -> None:
    user = sim.user(1001, language_code="en")
    await user.send("/start")
    before = await state_of(sim, 1001)
    await user.tap_raw(user.last.message_id, data)
    answer = user.last_callback_answer
    assert answer is not None
    assert answer.text == user.label("errors.button_invalid")
    assert await state_of(sim, 1001) == before


async def test_a_forged_type_with_a_valid_nonce_is_refused(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await user.send("/start")
    await user.tap_key("menu.button.file")
    await user.tap_raw(user.last.message_id, f"f:{nonce_of(user)}:choose:no_such_type")
    answer = user.last_callback_answer
    assert answer is not None
    assert answer.text == user.label("filing.unknown_type")
    assert await state_of(sim, 1001) == ("choosing_type", 0)


async def test_commands_out_of_place(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await user.send("/cancel")
    user.assert_last("errors.nothing_to_cancel")
    await user.send("/frobnicate")
    user.assert_last("errors.unknown_command")
    await at_step(user, "target")
    await user.send("/guide")
    user.assert_last("guide.index")
    assert await state_of(sim, 1001) == ("entering_target", 0)  # the guide does not lose it


async def test_a_crash_apologises_and_logs_the_traceback(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The user never sees a traceback; the log has it; the draft is untouched."""
    user = sim.user(1001, language_code="zh-CN")
    await file_to_review(user)
    rt = runtime(sim.app)

    original = rt.desk
    rt.desk = _Broken(original.rules)  # type: ignore[assignment]
    sim.raise_errors = False
    with caplog.at_level(logging.ERROR, logger="complaint_desk"):
        await user.tap_key("filing.button.submit")
    user.assert_last("errors.internal")
    assert "Traceback" not in user.last.text
    assert any("disk on fire" in (r.exc_text or "") for r in caplog.records)
    rt.desk = original
    sim.raise_errors = True
    await user.tap_key("filing.button.submit")  # the review prompt still works
    assert await submit_from_confirm(user)


class _Broken:
    """A desk whose every update fails, as a bug or a broken disk would."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.default_language = rules.default_language

    def handle(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")


async def submit_from_confirm(user: Actor) -> bool:
    user.assert_last("filing.confirm_warning")
    await user.tap_key("filing.button.confirm")
    user.assert_got("filing.submitted")
    return True


async def test_the_finished_complaint_needs_a_new_draft(sim: Simulator) -> None:
    """After submission the old review buttons are stale; nothing is filed twice."""
    user = sim.user(1001, language_code="en")
    await file_to_review(user)
    review = user.last
    data = next(d for d in review.callback_data if ":submit" in d)
    await submit(user)
    await user.tap_raw(review.message_id, data)
    assert user.last_callback_answer is not None
    assert user.last_callback_answer.text == user.label("errors.button_stale")
