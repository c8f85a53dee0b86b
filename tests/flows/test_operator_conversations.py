"""The operator side as whole conversations: refusals, the queue, the card, stage moves with the
author notified in their own language, results and reviews, and revocation-request decisions.

Operator 9001 (`conftest.OPERATOR`) is configured; everyone else is refused. Messages are
matched by key, so each test reads the same in both languages.
"""

from __future__ import annotations

from datetime import timedelta

from bot.app import runtime
from bot.simulator import Simulator
from flows.records import RequestStatus, Stage
from tests.conftest import OPERATOR
from tests.flows.conversations import (
    RESULT,
    audit,
    decide,
    file,
    give_result,
    move_to_investigating,
    open_card,
    open_detail,
    operator,
    request_withdrawal,
    stored,
    stored_request,
)

# -- who may act -------------------------------------------------------------------------------


async def test_a_non_operator_is_refused_everywhere_and_the_refusal_is_logged(
    sim: Simulator,
) -> None:
    """/queue, /open, /requests and forged "o:" buttons: refused, nothing changes, each
    refusal is in the audit log under the person's id."""
    user = sim.user(1001, language_code="zh-CN")
    number = await file(user)
    mallory = sim.user(1002, "Mallory", language_code="en")
    for command in ("/queue", f"/open {number}", "/requests"):
        await mallory.send(command)
        mallory.assert_last("errors.not_operator")
    forged = (f"o:pick:{number}", f"o:open:{number}", "o:approve:R260101-0000-0000")
    for data in forged:
        await mallory.tap_raw(mallory.last.message_id, data)
        mallory.assert_last("errors.not_operator")
    assert number not in "".join(mallory.texts())
    complaint = await stored(sim, number)
    assert (complaint.stage, complaint.operator_id) == (Stage.PENDING, None)
    refusals = [(e.actor, e.action, e.detail) for e in await audit(sim)]
    assert refusals == [
        (1002, "refused", "/queue"),
        (1002, "refused", "/open"),
        (1002, "refused", "/requests"),
        *((1002, "refused", data) for data in forged),
    ]


async def test_refusals_repeated_within_a_minute_are_one_audit_row_with_their_count(
    sim: Simulator,
) -> None:
    """A non-operator flooding /queue: every attempt refused, the audit log stays bounded
    (one row per minute with the count), and a minute later a new row starts."""
    mallory = sim.user(1002, "Mallory", language_code="en")
    for _ in range(50):
        await mallory.send("/queue")
        mallory.assert_last("errors.not_operator")
    first = sim.clock.now()
    await sim.advance(minutes=1)
    await mallory.send("/queue")
    mallory.assert_last("errors.not_operator")
    rows = [(e.at, e.actor, e.action, e.detail, e.count) for e in await audit(sim)]
    assert rows == [
        (first, 1002, "refused", "/queue", 50),
        (first + timedelta(minutes=1), 1002, "refused", "/queue", 1),
    ]


# -- the queue and the card --------------------------------------------------------------------


async def test_queue_lists_open_complaints_most_urgent_first_with_filters(
    sim: Simulator,
) -> None:
    """Short buttons per complaint (number · stage · time to its deadline), the nearest
    deadline first; filters on their own screen, by button or argument."""
    user = sim.user(1001, language_code="en")
    first = await file(user, "friend_report")
    await sim.advance(minutes=5)
    second = await file(user, "payment")
    op = await operator(sim)
    await op.send("/queue")
    queue = op.assert_last("operator.queue")
    items = [d for d in queue.callback_data if d.startswith("o:open:")]
    assert items == [f"o:open:{first}", f"o:open:{second}"]  # first's review is due sooner
    assert any(first in label and "1 h 55 min" in label for label in queue.labels)
    assert max(len(label) for label in queue.labels) <= 40  # a phone's width
    await op.send("/queue payment")
    assert [d for d in op.last.callback_data if d.startswith("o:open:")] == [f"o:open:{second}"]
    await op.tap(data="o:filters")
    filters = op.assert_last("operator.filters")
    assert max(len(row) for row in filters.buttons) <= 3
    assert max(len(label) for label in filters.labels) <= 16
    await op.tap(data="o:queue:type_friend_report")
    assert [d for d in op.last.callback_data if d.startswith("o:open:")] == [f"o:open:{first}"]
    await op.send("/queue flagged")
    op.assert_last("operator.queue_empty")
    await op.send("/queue manual_review")
    op.assert_last("operator.queue_empty")
    await op.send("/open " + first)
    await op.tap(data=f"o:pick:{first}")
    await op.tap(data="o:queue:all")
    await op.tap(data="o:filters")
    await op.tap(data="o:queue:stage_manual_review")
    assert [d for d in op.last.callback_data if d.startswith("o:open:")] == [f"o:open:{first}"]
    await op.send("/queue nonsense")
    op.assert_got("operator.queue_bad_filter")
    op.assert_last("operator.queue")


async def test_the_card_shows_everything_an_operator_needs(sim: Simulator) -> None:
    user = sim.user(1001, language_code="zh-CN")
    number = await file(user, "payment")
    await sim.advance(minutes=30)
    op = await operator(sim)
    await op.send("/queue")
    await op.tap(data=f"o:open:{number}")
    card = op.assert_last("operator.card")
    for part in (number, "1001", "4200001234202611230001", "30 min", "Submitted"):
        assert part in card.text
    assert op.label("evidence.count.photo", n=2) in card.text
    assert op.label("operator.card.no_request") in card.text
    assert card.callback_data[:1] == [f"o:pick:{number}"]  # pending: only picking up moves it
    assert f"o:loss:{number}" in card.callback_data
    assert [(e.actor, e.action, e.subject) for e in await audit(sim)] == [
        (OPERATOR, "open", number)
    ]


async def test_opening_an_unknown_number_says_so(sim: Simulator) -> None:
    op = await operator(sim)
    await op.send("/open 261123-AAAA-BBBB")
    message = op.assert_last("operator.not_found")
    assert "261123-AAAA-BBBB" in message.text
    await op.send("/open")
    op.assert_last("operator.open_usage")
    await op.tap_raw(op.last.message_id, "o:accept:261123-AAAA-BBBB")
    answer = op.last_callback_answer
    assert answer is not None
    assert answer.show_alert
    assert answer.text == op.label("operator.not_found", number="261123-AAAA-BBBB")


# -- stage moves, results, reviews ---------------------------------------------------------------


async def test_stage_moves_notify_the_author_and_a_result_ends_with_one_review(
    sim: Simulator,
) -> None:
    """Pick up (pending -> manual review before 2 h), accept, investigate, result: the author
    hears of each in their language; after the result they may request one review."""
    user = sim.user(1001, language_code="zh-CN")
    number = await file(user)
    await sim.advance(minutes=20)
    op = await operator(sim)
    await open_card(op, number)
    mark = user.mark()
    await op.tap(data=f"o:pick:{number}")
    op.assert_last("operator.card")
    user.assert_got("notify.picked_up", since=mark)
    complaint = await stored(sim, number)
    assert (complaint.stage, complaint.operator_id) == (Stage.MANUAL_REVIEW, OPERATOR)
    assert f"o:pick:{number}" not in op.last.callback_data  # already theirs
    await op.tap(data=f"o:accept:{number}")
    user.assert_got("notify.accepted", since=mark)
    await op.tap(data=f"o:investigate:{number}")
    user.assert_got("notify.investigating", since=mark)
    assert (await stored(sim, number)).stage is Stage.INVESTIGATING

    await op.tap(data=f"o:result:{number}")
    op.assert_last("operator.ask_result")
    await op.send("x" * 1001)
    op.assert_last("operator.text_too_long")
    await op.send_photo(data=b"not a text")
    op.assert_last("operator.text_expected")
    await op.send("A first draft")
    op.assert_last("operator.confirm_result")
    await op.tap_key("filing.button.back")
    op.assert_last("operator.ask_result")
    await op.send(RESULT)
    op.assert_last("operator.confirm_result")
    await op.tap_key("operator.button.send")
    op.assert_got("operator.result_sent")
    result = user.assert_got("notify.result", since=mark)
    assert RESULT in result.text
    user.assert_last("follow.escalate")
    complaint = await stored(sim, number)
    assert (complaint.stage, complaint.result_text) == (Stage.RESULT_GIVEN, RESULT)

    await open_detail(user, number)
    await user.tap_key("follow.button.review")
    user.assert_last("follow.review_confirm")  # nothing requested yet: a reason confirms it
    assert (await stored(sim, number)).stage is Stage.RESULT_GIVEN
    await user.tap_key("review.reason.facts_wrong")
    user.assert_got("follow.review_requested")
    told = op.assert_last("operator.review_requested")
    assert op.label("review.reason.facts_wrong") in told.text
    await open_detail(user, number)
    assert user.label("follow.button.review") not in user.last.labels
    await user.tap_raw(user.last.message_id, f"c:review:{number}")
    refused = user.assert_last("follow.review_refused")
    assert user.label("policy.appeal.already_reviewed") in refused.text
    assert (await stored(sim, number)).stage is Stage.REVIEW_REQUESTED

    actions = [(e.actor, e.action) for e in await audit(sim, number)]
    assert actions == [
        (OPERATOR, "open"),
        (OPERATOR, "pick_up"),
        (OPERATOR, "accept"),
        (OPERATOR, "investigate"),
        (OPERATOR, "give_result"),
    ]


async def test_two_reviews_a_day_then_the_third_is_refused(sim: Simulator) -> None:
    """The appeal limit counts across complaints: the third review request of the day fails."""
    user = sim.user(1001, language_code="en")
    op = await operator(sim)
    numbers = [await file(user, t) for t in ("friend_report", "other", "account_security")]
    for number in numbers:
        await move_to_investigating(op, number)
        await give_result(op, number)
    for number in numbers[:2]:
        await open_detail(user, number)
        await user.tap_key("follow.button.review")
        await user.tap_key("review.reason.new_evidence")
        user.assert_got("follow.review_requested")
    await open_detail(user, numbers[2])
    await user.tap_key("follow.button.review")
    refused = user.assert_last("follow.review_refused")
    assert user.label("policy.appeal.daily_limit", monthly=3, daily=2) in refused.text
    assert (await stored(sim, numbers[2])).stage is Stage.RESULT_GIVEN


async def test_a_move_the_stage_does_not_allow_is_refused_with_an_alert(sim: Simulator) -> None:
    """Accept on a pending complaint (an old or forged button): pop-up, nothing changes."""
    user = sim.user(1001, language_code="en")
    number = await file(user)
    op = await operator(sim)
    await open_card(op, number)
    for action in ("accept", "investigate", "result"):
        await op.tap_raw(op.last.message_id, f"o:{action}:{number}")
        answer = op.last_callback_answer
        assert answer is not None
        assert answer.show_alert
        assert number in (answer.text or "")
        op.assert_last("operator.card")
    complaint = await stored(sim, number)
    assert (complaint.stage, len(complaint.timeline)) == (Stage.PENDING, 1)
    row = await runtime(sim.app).store.read(lambda tx: tx.load_user(OPERATOR))
    assert row is not None
    assert row.task is None  # "result" did not open the task either
    assert [e.action for e in await audit(sim, number)] == ["open"]


async def test_a_reported_loss_ends_self_service(sim: Simulator) -> None:
    """The other party suffered a loss: the author can no longer withdraw on their own."""
    user = sim.user(1001, language_code="en")
    number = await file(user)
    await open_detail(user, number)
    assert user.label("follow.button.revoke") in user.last.labels
    op = await operator(sim)
    await open_card(op, number)
    await op.tap(data=f"o:loss:{number}")
    op.assert_last("operator.loss_confirm")  # a second tap reports it
    assert not (await stored(sim, number)).loss_reported
    await op.tap(data=f"o:loss_yes:{number}")
    op.assert_last("operator.card")
    assert f"o:loss:{number}" not in op.last.callback_data
    assert op.label("operator.loss.yes") in op.last.text
    await open_detail(user, number)
    assert user.label("follow.button.revoke") not in user.last.labels
    assert user.label("follow.button.request") in user.last.labels
    assert user.label("policy.rule.loss_operator") in user.last.text
    assert (await stored(sim, number)).loss_reported
    assert [e.action for e in await audit(sim, number)] == ["open", "report_loss"]


async def test_cancel_while_typing_a_result_changes_nothing(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    number = await file(user)
    op = await operator(sim)
    await move_to_investigating(op, number)
    await op.tap(data=f"o:result:{number}")
    await op.send("Half a thought")
    await op.send("/cancel")
    op.assert_last("task.cancelled")
    await op.send("Some text")
    op.assert_last("menu.welcome")  # no task any more: the filing flow answers
    assert (await stored(sim, number)).stage is Stage.INVESTIGATING


# -- revocation requests -----------------------------------------------------------------------


async def test_an_approved_request_revokes_the_complaint_and_tells_the_user(
    sim: Simulator,
) -> None:
    """The operator channel end to end: a zh-CN user asks to withdraw a payment complaint; an
    English-speaking operator sees the request and its materials, approves it with a message;
    the complaint is withdrawn and the user told in Chinese."""
    user = sim.user(1001, "Lin", language_code="zh-CN")
    number = await file(user, "payment")
    op = await operator(sim)
    request = await request_withdrawal(sim, user, number)
    op.assert_last("operator.new_request")
    await op.send("/requests")
    listed = op.assert_last("operator.requests")
    assert f"o:request:{request}" in listed.callback_data
    await op.tap(data=f"o:request:{request}")
    card = op.assert_last("operator.request_card")
    for part in (request, number, "1001", "recording.mp4"):
        assert part in card.text
    assert op.label("material.identity") in card.text
    assert op.label("material.screen_recording") in card.text
    assert op.label("revoke.reason.misoperation") in card.text
    mark = user.mark()
    await op.tap_key("operator.button.approve")
    op.assert_last("operator.ask_decision")
    await op.send("Identity verified; the complaint is withdrawn.")
    op.assert_last("operator.confirm_decision")
    await op.tap_key("operator.button.send")
    op.assert_got("operator.approved")
    op.assert_last("operator.request_card")
    assert not [d for d in op.last.callback_data if "approve" in d or "reject" in d]

    notice = user.assert_got("notify.revocation_approved", since=mark)
    assert "Identity verified; the complaint is withdrawn." in notice.text
    assert "撤回" in notice.text  # in the user's language
    complaint = await stored(sim, number)
    assert complaint.stage is Stage.REVOKED
    assert [e.kind for e in complaint.timeline][-2:] == ["revocation_approved", "revoked"]
    decided = await stored_request(sim, request)
    assert (decided.status, decided.decided_by, decided.decided_at) == (
        RequestStatus.APPROVED,
        OPERATOR,
        sim.clock.now(),
    )
    assert decided.decision_text == "Identity verified; the complaint is withdrawn."
    actions = [(e.actor, e.action, e.subject) for e in await audit(sim)]
    assert actions == [
        (OPERATOR, "open_request", request),
        (OPERATOR, "approve_request", request),
        (OPERATOR, "revoke", number),
    ]
    await op.send("/requests")
    op.assert_last("operator.requests_empty")


async def test_a_rejected_request_leaves_the_complaint_open(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    number = await file(user, "payment")
    op = await operator(sim)
    request = await request_withdrawal(sim, user, number)
    mark = user.mark()
    await decide(op, request, "reject", "The recording does not show the payment.")
    op.assert_got("operator.rejected")
    notice = user.assert_got("notify.revocation_rejected", since=mark)
    assert "The recording does not show the payment." in notice.text
    complaint = await stored(sim, number)
    assert complaint.stage is Stage.PENDING
    entry = complaint.timeline[-1]
    assert (entry.kind, entry.actor, entry.text) == (
        "revocation_rejected",
        OPERATOR,
        "The recording does not show the payment.",
    )
    assert (await stored_request(sim, request)).status is RequestStatus.REJECTED
    await open_detail(user, number)  # the user may ask again
    assert user.label("follow.button.request") in user.last.labels
    assert [e.action for e in await audit(sim, request)] == ["open_request", "reject_request"]


async def test_approval_is_refused_once_a_result_was_given(sim: Simulator) -> None:
    """A result makes a complaint irreversible: approving says why; rejecting still works;
    a decided request cannot be decided again."""
    user = sim.user(1001, language_code="en")
    number = await file(user, "payment")
    op = await operator(sim)
    request = await request_withdrawal(sim, user, number)
    await move_to_investigating(op, number)
    await op.tap(data=f"o:approve:{request}")  # the card offers the open request
    op.assert_last("operator.ask_decision")
    await open_card(op, number)  # meanwhile: the result (replaces the decision task)
    await give_result(op, number)
    await op.tap(data=f"o:approve:{request}")
    refused = op.assert_last("operator.cannot_revoke")
    assert op.label("stage.result_given") in refused.text
    assert (await stored_request(sim, request)).status is RequestStatus.OPEN
    await decide(op, request, "reject", "A result was given already.")
    op.assert_got("operator.rejected")
    await op.tap_raw(op.last.message_id, f"o:approve:{request}")
    answer = op.last_callback_answer
    assert answer is not None
    assert answer.text == op.label("operator.request_closed", number=request)
    assert (await stored(sim, number)).stage is Stage.RESULT_GIVEN


async def test_an_empty_decision_message_is_refused(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    number = await file(user, "payment")
    op = await operator(sim)
    request = await request_withdrawal(sim, user, number)
    await op.tap_raw(op.last.message_id, f"o:reject:{request}")
    op.assert_last("operator.ask_decision")
    await op.send("   ")
    op.assert_last("operator.text_empty")
    await op.send("y" * 501)
    op.assert_last("operator.text_too_long")
    assert (await stored_request(sim, request)).status is RequestStatus.OPEN
