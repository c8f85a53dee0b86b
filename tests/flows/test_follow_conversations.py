"""Following, revoking and the deadlines that drive them, as whole conversations on virtual time."""

from __future__ import annotations

from bot.app import runtime
from bot.simulator import Simulator
from flows.records import Stage
from tests.flows.conversations import file, open_detail, stored


async def test_detail_counts_down_the_self_service_window(sim: Simulator) -> None:
    """'Self-service revocation possible for 1 h 12 min more', then the operator channel."""
    user = sim.user(1001, language_code="en")
    number = await file(user)
    await sim.advance(minutes=48)
    await user.send("/mycomplaints")
    assert "48 min" in user.last.text  # the list: number, type, stage and age
    assert user.label("stage.pending") in user.last.text
    await open_detail(user, number)
    assert "1 h 12 min" in user.last.text
    assert user.label("follow.button.revoke") in user.last.labels
    await sim.advance(hours=1, minutes=12)
    user.assert_got("notify.manual_review")
    await open_detail(user, number)
    assert user.label("follow.button.request") in user.last.labels
    assert user.label("follow.button.revoke") not in user.last.labels
    assert (await stored(sim, number)).stage is Stage.MANUAL_REVIEW


async def test_self_service_revocation_is_recorded_with_time_and_reason(sim: Simulator) -> None:
    user = sim.user(1001, language_code="zh-CN")
    number = await file(user)
    await sim.advance(minutes=30)
    await open_detail(user, number)
    await user.tap_key("follow.button.revoke")
    user.assert_last("follow.revoke_confirm")
    await user.tap_key("revoke.reason.misoperation")
    user.assert_got("follow.revoked")
    complaint = await stored(sim, number)
    assert complaint.stage is Stage.REVOKED
    assert complaint.revoked_at == sim.clock.now()
    assert complaint.timeline[-1].kind == "revoked"
    assert complaint.timeline[-1].text == "misoperation"
    await sim.advance(hours=23)  # a revoked complaint gets no reminder
    user.expect_no_more()


async def test_an_irrevocable_type_says_why_and_what_else(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    number = await file(user, "intellectual_property")
    await open_detail(user, number)
    assert user.label("follow.button.revoke") not in user.last.labels
    assert user.label("follow.button.request") not in user.last.labels
    text = user.last.text
    assert user.label("policy.rule.not_revocable") in text
    assert user.label("policy.next.customer_service", number=number) in text


async def test_the_reminder_is_sent_once_also_across_a_restart(sim: Simulator) -> None:
    """Friend reports: 24 h window, a reminder 1 h before it closes, never twice."""
    user = sim.user(1001, language_code="en")
    number = await file(user)
    await sim.advance(hours=22, minutes=59)
    assert not any(user.shows(m, "notify.reminder") for m in user.messages)
    await sim.advance(minutes=2)
    reminder = user.assert_last("notify.reminder")
    assert number in reminder.text
    mark = user.mark()
    await sim.restart()
    await sim.advance(hours=3)
    assert not any(user.shows(m, "notify.reminder") for m in user.since(mark))
    complaint = await stored(sim, number)
    assert [e.kind for e in complaint.timeline].count("reminder_sent") == 1


async def test_after_the_window_revocation_is_refused_with_the_rule(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    number = await file(user)
    await sim.advance(hours=24, seconds=1)
    await open_detail(user, number)
    assert user.label("policy.rule.window_passed") in user.last.text
    assert user.label("follow.button.request") not in user.last.labels


async def test_nobody_sees_or_touches_another_persons_complaint(sim: Simulator) -> None:
    alice = sim.user(1001, "Alice", language_code="en")
    mallory = sim.user(1002, "Mallory", language_code="en")
    number = await file(alice)
    await mallory.send("/mycomplaints")
    mallory.assert_last("follow.empty")
    for data in (f"c:open:{number}", f"c:revoke_yes:{number}.misoperation", f"c:review:{number}"):
        await mallory.tap_raw(mallory.last.message_id, data)
        answer = mallory.last_callback_answer
        assert answer is not None
        assert answer.text == mallory.label("follow.not_found")
    assert (await stored(sim, number)).stage is Stage.PENDING


async def test_payment_goes_through_an_operator_request(sim: Simulator) -> None:
    """Payment complaints are never self-service: the request task takes reason, account kind
    and materials, refuses the wrong kind of file, and files one request; a second is refused."""
    user = sim.user(1001, language_code="en")
    number = await file(user, "payment")
    await open_detail(user, number)
    assert user.label("follow.button.revoke") not in user.last.labels
    await user.tap_key("follow.button.request")
    user.assert_last("revoke.ask_reason")
    await user.tap_key("revoke.reason.misoperation")
    await user.tap_key("revoke.account.enterprise")
    user.assert_last("revoke.ask_material")
    await user.send_document(data=b"id.pdf")  # identity wants pictures or a video
    user.assert_last("revoke.material_refused")
    await user.send_photo(data=b"id-card-front")
    user.assert_last("revoke.material_more")  # and the other side
    await user.send_photo(data=b"id-card-back")
    await user.send_video(data=b"recording")
    user.assert_last("revoke.ask_material")  # the business licence, for an enterprise
    await user.send_document(data=b"licence.pdf")
    user.assert_last("revoke.confirm")
    await user.tap_key("revoke.button.send")
    user.assert_got("revoke.submitted")
    requests = await runtime(sim.app).store.read(lambda tx: tx.open_requests())
    assert [(r.complaint_number, len(r.materials), r.flagged) for r in requests] == [
        (number, 4, False)
    ]
    await open_detail(user, number)
    assert user.label("policy.rule.request_open") in user.last.text


async def test_a_minor_is_told_a_guardian_must_go_in_person(sim: Simulator) -> None:
    user = sim.user(1001, language_code="zh-CN")
    number = await file(user, "payment")
    await open_detail(user, number)
    await user.tap_key("follow.button.request")
    await user.tap_key("revoke.reason.other")
    user.assert_last("revoke.ask_explanation")  # "other" says why, in a few words
    await user.send("x")
    user.assert_last("revoke.explanation_length")
    await user.send("我孩子误点了投诉")
    user.assert_last("revoke.ask_account")
    await user.tap_key("revoke.account.minor")
    user.assert_last("revoke.minor")
    assert await runtime(sim.app).store.read(lambda tx: tx.open_requests()) == []
    await user.send("hello")  # the task is over: back to the menu
    user.assert_last("menu.welcome")


async def test_cancel_ends_a_request_but_keeps_the_filing_draft(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    number = await file(user, "payment")
    await user.tap_key("menu.button.file")  # a new draft underneath
    await open_detail(user, number)
    await user.tap_key("follow.button.request")
    await user.send("/cancel")
    user.assert_last("task.cancelled")
    await user.send("/start")
    user.assert_last("filing.resume_offer")


async def test_the_fourth_revocation_in_a_month_goes_to_risk_review(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    for i in range(3):
        number = await file(user, target=f"someone_number_{i}")
        await open_detail(user, number)
        await user.tap_key("follow.button.revoke")
        await user.tap_key("revoke.reason.misoperation")
        user.assert_got("follow.revoked")
    fourth = await file(user, target="someone_number_4")
    await open_detail(user, fourth)
    assert user.label("follow.button.revoke") not in user.last.labels
    assert user.label("policy.rule.risk_review", n=3, monthly=3) in user.last.text
    assert "You already have 3 withdrawals this month" in user.last.text
    assert "made more than" not in user.last.text
