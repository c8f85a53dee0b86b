"""Operator broadcasts end to end: compose, preview, confirm, paced delivery, the report.

The fake Telegram enforces the flood limits here (`world.enforce_limits()`: 429 above 30
calls a second overall or 1 unsolicited message a second per chat), so a 429 in the call log
means the pacing was wrong. Everything runs on virtual time.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

import pytest

from bot.app import runtime
from bot.fake.models import Call
from bot.simulator import Actor, Simulator
from flows.catalog import load_catalog
from flows.ports import Tx
from flows.records import (
    Broadcast,
    BroadcastStatus,
    DeliveryState,
    UserRecord,
)
from storage.sqlite import SqliteTx
from tests.conftest import OPERATOR
from tests.flows.conversations import file

TEXT = "Planned downtime tonight 23:00-23:30 (Beijing time). <b>Sorry</b> & thanks!"


@pytest.fixture
def limited(sim: Simulator) -> Simulator:
    sim.world.enforce_limits()
    return sim


async def operator(sim: Simulator, language: str = "en") -> Actor:
    op = sim.user(OPERATOR, "operator", language_code=language)
    await op.send("/start")
    return op


async def people(sim: Simulator, ids: range | list[int], language: str = "en") -> list[Actor]:
    actors = [sim.user(uid, f"user{uid}", language_code=language) for uid in ids]
    for actor in actors:
        await actor.send("/start")
    return actors


async def seed(sim: Simulator, first: int, count: int, language: str = "en") -> None:
    """`count` users straight into the store (one transaction) and the fake world."""
    now = sim.clock.now()

    def work(tx: Tx) -> None:
        for uid in range(first, first + count):
            tx.save_user(
                UserRecord(user_id=uid, language=language, created_at=now, updated_at=now), 0
            )

    await runtime(sim.app).store.transact(work)
    for uid in range(first, first + count):
        sim.world.add_user(uid, f"user{uid}", language)


Button = str | tuple[str, dict[str, Any]]  # a message key, or a key with its parameters


def language_button(code: str) -> Button:
    """A language's button: labelled with its name in itself (the catalog's `languages`)."""
    return ("language.name", {"name": load_catalog().languages[code]})


async def compose(op: Actor, text: str, *audience: Button, count: int | None = None) -> None:
    """/broadcast, the text, the audience buttons; stops at the preview (or sends with count)."""
    await op.send("/broadcast")
    op.assert_last("broadcast.ask_text")
    await op.send(text)
    op.assert_last("broadcast.ask_audience")
    for button in audience:
        key, params = (button, {}) if isinstance(button, str) else button
        await op.tap_key(key, **params)
    if count is not None:
        op.assert_last("broadcast.confirm")
        await op.tap_key("broadcast.button.send", count=count)
        op.assert_got("broadcast.started")


async def run(sim: Simulator, step: float = 10.0) -> None:
    """Let virtual time pass until no broadcast is running (at most a virtual day)."""
    store = runtime(sim.app).store
    for _ in range(int(86_400 / step)):
        if not await store.read(lambda tx: tx.active_broadcasts()):
            return
        await sim.advance(seconds=step)
    raise AssertionError("a broadcast was still running a day later")


def sends_to(sim: Simulator, chat: int, text: str = TEXT) -> int:
    """Successful broadcast sends to `chat` in the world's call log."""
    return sum(
        1
        for c in sim.world.calls("sendMessage")
        if c.ok and c.params.get("chat_id") == chat and c.params.get("text") == text
    )


def broadcast_calls(sim: Simulator, text: str = TEXT) -> list[Call]:
    return [c for c in sim.world.calls("sendMessage") if c.params.get("text") == text]


def too_many(sim: Simulator) -> list[Call]:
    return [c for c in sim.world.calls() if c.error_code == 429]


async def ledger(sim: Simulator, broadcast_id: int = 1) -> dict[DeliveryState, int]:
    return await runtime(sim.app).store.read(lambda tx: tx.delivery_counts(broadcast_id))


async def stored(sim: Simulator, broadcast_id: int = 1) -> Broadcast:
    b = await runtime(sim.app).store.read(lambda tx: tx.get_broadcast(broadcast_id))
    assert b is not None
    return b


def status_message(op: Actor) -> Any:
    """The operator's status message (progress, then the report)."""
    progress = [m for m in op.messages if op.shows(m, "broadcast.progress")]
    reports = [m for m in op.messages if op.shows(m, "broadcast.report")]
    found = reports or progress
    assert len(found) == 1, op.transcript(last=10)
    return found[0]


# -- compose ---------------------------------------------------------------------------------


async def test_compose_preview_confirm_and_deliver(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim)
    en = await people(sim, [1001, 1002], "en")
    zh = await people(sim, [1003], "zh-CN")
    await compose(op, TEXT, "broadcast.button.all")
    preview = op.assert_got("broadcast.preview")
    assert "4 recipients" in preview.text  # 3 people and the operator
    body = [m for m in op.since(op._checkpoint_before) if m.text == TEXT]
    assert len(body) == 1  # the message exactly as users will see it
    op.assert_last("broadcast.confirm")
    assert sim.world.calls("sendMessage")[-1].params["chat_id"] == OPERATOR
    for actor in en + zh:  # nothing sent before the confirmation
        actor.expect_no_more()
    await op.tap_key("broadcast.button.send", count=4)
    op.assert_got("broadcast.started")
    await run(sim)
    for actor in en + zh:
        assert actor.last.text == TEXT  # as typed: no markup taken from it, not translated
        assert sends_to(sim, actor.id) == 1
    report = status_message(op)
    assert op.shows(report, "broadcast.report")
    assert "Sent: 4" in report.text
    assert not report.buttons
    b = await stored(sim)
    assert (b.status, b.total) == (BroadcastStatus.DONE, 4)
    assert too_many(sim) == []
    await op.send("/broadcasts")
    op.assert_last("broadcast.list")
    assert "4 sent of 4" in op.last.text


async def test_photo_with_caption(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim)
    (user,) = await people(sim, [1001])
    await op.send("/broadcast")
    await op.send_photo(caption="New rules from Monday", size=90_000)
    op.assert_last("broadcast.ask_audience")
    await op.tap_key("broadcast.button.all")
    photos = [m for m in op.since(op._checkpoint_before) if m.kind == "photo"]
    assert len(photos) == 1
    assert photos[0].text == "New rules from Monday"
    await op.tap_key("broadcast.button.send", count=2)
    await run(sim)
    assert user.last.kind == "photo"
    assert user.last.text == "New rules from Monday"
    sent = [c for c in sim.world.calls("sendPhoto") if c.params.get("chat_id") == 1001]
    assert len(sent) == 1
    assert "parse_mode" not in sent[0].params


async def test_texts_and_files_that_cannot_be_broadcast(limited: Simulator) -> None:
    op = await operator(limited)
    await op.send("/broadcast")
    await op.send_document()
    op.assert_got("broadcast.text_or_photo")
    await op.send("x" * 4097)
    op.assert_got("broadcast.text_too_long")
    await op.send_photo(caption="y" * 1025)
    op.assert_got("broadcast.caption_too_long")
    await op.send("   ")
    op.assert_got("broadcast.text_empty")
    op.assert_last("broadcast.text_empty")
    await op.send("/broadcast " + "z" * 10)  # the text may come with the command
    op.assert_last("broadcast.ask_audience")


@pytest.mark.parametrize(
    ("buttons", "expected"),
    [
        (("broadcast.button.all",), [OPERATOR, 1001, 1002, 1003, 1004]),
        (("broadcast.button.language", language_button("zh-CN")), [1003, 1004]),
        (("broadcast.button.language", language_button("en")), [OPERATOR, 1001, 1002]),
        (("broadcast.button.open",), [1001, 1003]),
    ],
)
async def test_preview_count_is_the_exact_audience(
    limited: Simulator, buttons: tuple[Button, ...], expected: list[int]
) -> None:
    sim = limited
    op = await operator(sim)
    en = await people(sim, [1001, 1002], "en")
    zh = await people(sim, [1003, 1004, 1005], "zh-CN")
    await file(en[0], "payment")
    await file(zh[0], "friend_report")
    sim.world.block(1005)  # they blocked the bot, and we know it:
    await zh[2].send("/start")  # the reply is refused (403): now we know
    await compose(op, "Hello", *buttons)
    assert f"{len(expected)} recipients" in op.assert_got("broadcast.preview").text
    await op.tap_key("broadcast.button.send", count=len(expected))
    await run(sim)
    got = [uid for uid in (1001, 1002, 1003, 1004, 1005) if sends_to(sim, uid, "Hello")]
    assert got == [uid for uid in expected if uid != OPERATOR]
    assert sends_to(sim, OPERATOR, "Hello") == 1 + (OPERATOR in expected)  # + the preview


async def test_open_complaint_of_a_type(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim)
    a, b, c = await people(sim, [1001, 1002, 1003])
    await file(a, "friend_report")
    await file(b, "payment")
    number = await file(c, "friend_report")
    await sim.advance(minutes=1)
    await c.send("/mycomplaints")
    await c.tap(data=f"c:open:{number}")
    await c.tap_key("follow.button.revoke")
    await c.tap_key("revoke.reason.misoperation")
    c.assert_got("follow.revoked")
    await op.send("/broadcast A reminder about your complaint")
    await op.tap_key("broadcast.button.open_type")
    op.assert_last("broadcast.ask_type")
    await op.tap(label=op.label("broadcast.button.type", type=_title(op, "friend_report")))
    assert "1 recipient (" in op.assert_got("broadcast.preview").text
    await op.tap_key("broadcast.button.send", count=1)
    await run(sim)
    assert [sends_to(sim, u.id, "A reminder about your complaint") for u in (a, b, c)] == [1, 0, 0]


def _title(op: Actor, type_id: str) -> str:
    ctype = load_catalog(None).type(type_id)
    assert ctype is not None
    return ctype.title.get(op.language)


async def test_cancel_before_confirm_sends_nothing(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim)
    (user,) = await people(sim, [1001])
    await compose(op, "Never sent", "broadcast.button.all")
    await op.tap_key("filing.button.back")
    op.assert_last("broadcast.ask_audience")
    await op.tap_key("broadcast.button.all")
    await op.tap_key("filing.button.cancel")
    op.assert_got("task.cancelled")
    await sim.advance(minutes=5)
    user.expect_no_more()
    assert await runtime(sim.app).store.read(lambda tx: tx.list_broadcasts()) == []
    await op.send("/broadcasts")
    op.assert_last("broadcast.list_empty")


async def test_non_operators_are_refused(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim)
    mallory, _ = await people(sim, [1001, 1002])
    await mallory.send("/broadcast Free money")
    mallory.assert_last("errors.not_operator")
    await mallory.send("/broadcasts")
    mallory.assert_last("errors.not_operator")
    await compose(op, "Real notice", "broadcast.button.all", count=3)
    await sim.advance(seconds=1)
    msg = mallory.last  # the broadcast itself, in their chat: forge the operator's buttons
    for data in ("b:pause:1", "b:cancel:1", "b:resume:1"):
        await mallory.tap_raw(msg.message_id, data)
        mallory.assert_last("errors.not_operator")
    await run(sim)
    assert (await stored(sim)).status is BroadcastStatus.DONE
    audit = await runtime(sim.app).store.read(lambda tx: tx.audit_log())
    assert sum(1 for e in audit if e.action == "refused" and e.actor == 1001) == 5


# -- delivery --------------------------------------------------------------------------------


async def test_ten_thousand_recipients_at_the_configured_rate_with_no_429(
    limited: Simulator,
) -> None:
    sim = limited
    op = await operator(sim)
    await seed(sim, 100_000, 10_000)
    claims: list[int] = []
    original = SqliteTx.claim_deliveries

    def spy(self: SqliteTx, broadcast_id: int, limit: int, now: Any) -> list[int]:
        claims.append(limit)
        return original(self, broadcast_id, limit, now)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SqliteTx, "claim_deliveries", spy)
        await compose(op, TEXT, "broadcast.button.all", count=10_001)
        await run(sim)
    sends = [c.at for c in sim.world.calls("sendMessage") if c.params.get("text") == TEXT]
    took = (sends[-1] - sends[0]).total_seconds()
    counts = await ledger(sim)
    assert counts[DeliveryState.SENT] == 10_001
    assert too_many(sim) == []
    assert took == pytest.approx(10_000 / 25, rel=0.05)  # 25 a second on virtual time
    per_chat = Counter(
        c.params["chat_id"] for c in sim.world.calls("sendMessage") if c.params.get("text") == TEXT
    )
    assert set(per_chat.values()) == {1}
    # flat memory: the sender never holds more than one batch of recipients
    assert claims
    assert max(claims) == runtime(sim.app).settings.broadcast_batch
    report = status_message(op)
    assert op.shows(report, "broadcast.report")
    edits = [c for c in sim.world.calls("editMessageText") if c.params.get("chat_id") == OPERATOR]
    assert 40 <= len(edits) <= 150  # every ~5 s, not on every send


async def test_a_429_storm_drops_nothing(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim)
    await seed(sim, 2000, 200)
    await compose(op, TEXT, "broadcast.button.all", count=201)
    await sim.advance(seconds=2)
    sim.world.fault("sendMessage", code=429, retry_after=5, times=30)
    await run(sim)
    counts = await ledger(sim)
    assert counts[DeliveryState.SENT] == 201
    per_chat = Counter(
        c.params["chat_id"]
        for c in sim.world.calls("sendMessage")
        if c.ok and c.params.get("text") == TEXT
    )
    assert len(per_chat) == 201
    assert set(per_chat.values()) == {1}
    injected = [c for c in too_many(sim) if (c.description or "").endswith("retry after 5")]
    assert len(injected) == 30


async def test_blocked_users_are_counted_never_retried_and_left_out_until_they_write(
    limited: Simulator,
) -> None:
    sim = limited
    op = await operator(sim)
    _, b, _ = await people(sim, [1001, 1002, 1003])
    sim.world.block(1002)
    await compose(op, TEXT, "broadcast.button.all", count=4)
    await run(sim)
    counts = await ledger(sim)
    assert (counts[DeliveryState.SENT], counts[DeliveryState.BLOCKED]) == (3, 1)
    attempts = [c for c in broadcast_calls(sim) if c.params.get("chat_id") == 1002]
    assert [c.error_code for c in attempts] == [403]  # once, never retried
    assert "Blocked the bot: 1" in status_message(op).text
    user = await runtime(sim.app).store.read(lambda tx: tx.load_user(1002))
    assert user is not None
    assert user.blocked_bot
    await compose(op, "Second notice", "broadcast.button.all")
    assert "3 recipients" in op.assert_got("broadcast.preview").text  # left out
    await op.tap_key("filing.button.cancel")
    sim.world.block(1002, False)
    await b.send("/start")  # they write again
    await compose(op, "Third notice", "broadcast.button.all", count=4)
    await run(sim)
    assert sends_to(sim, 1002, "Third notice") == 1


async def test_errors_that_may_come_after_delivery_are_unknown_and_never_resent(
    limited: Simulator,
) -> None:
    """At most once: a 5xx, a 502 or a time-out may come after Telegram delivered the message
    (the fake carries the send out, then answers the error), so such a row is `unknown` and
    never sent again; only answers that prove non-delivery are failed/blocked."""
    sim = limited
    op = await operator(sim)
    users = await people(sim, [1001, 1002, 1003, 1004, 1005])
    sim.world.fault("sendMessage", code=502, delivered=True, chat_id=1001)
    sim.world.fault("sendMessage", code=500, delivered=True, chat_id=1002)
    sim.world.fault("sendMessage", timeout=True, delivered=True, chat_id=1003)
    sim.world.fault("sendMessage", code=500, times=10, chat_id=1004)  # refused, but who knows
    sim.world.fault("sendMessage", code=400, description="Bad Request: chat not found",
                    times=1, chat_id=1005)  # fmt: skip
    await compose(op, TEXT, "broadcast.button.all", count=6)
    await run(sim)
    counts = await ledger(sim)
    assert (counts[DeliveryState.SENT], counts[DeliveryState.UNKNOWN]) == (1, 4)
    assert counts[DeliveryState.FAILED] == 1
    for chat in (1001, 1002, 1003, 1004, 1005):  # one request each, none resent
        assert len([c for c in broadcast_calls(sim) if c.params.get("chat_id") == chat]) == 1
    for user in users[:3]:  # delivered once although the answer was an error
        assert [m.text for m in user.messages].count(TEXT) == 1
    row = await runtime(sim.app).store.read(lambda tx: tx.get_delivery(1, 1005))
    assert row is not None
    assert row.error == "Chat not found"
    assert "Unknown (may have arrived, not resent): 4" in status_message(op).text


async def test_a_failed_ledger_write_is_retried_and_every_row_ends_terminal(
    limited: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = limited
    op = await operator(sim)
    await seed(sim, 2000, 59)
    store = runtime(sim.app).store
    real = store.transact
    failed: list[int] = []

    async def busy(work: Any) -> Any:  # the database busy past its timeout, twice
        if len(failed) < 2 and getattr(work, "keywords", {}).get("outcomes"):
            failed.append(len(work.keywords["outcomes"]))
            raise sqlite3.OperationalError("database is locked")
        return await real(work)

    monkeypatch.setattr(store, "transact", busy)
    await compose(op, TEXT, "broadcast.button.all", count=60)
    await run(sim)
    assert failed == [20, 20]  # the first batch's outcomes, refused twice
    counts = await ledger(sim)
    assert counts[DeliveryState.SENT] == 60
    assert sum(counts.values()) == 60  # nothing left sending, unknown or pending
    assert max(Counter(c.params["chat_id"] for c in broadcast_calls(sim) if c.ok).values()) == 1
    report = status_message(op)
    assert "Sent: 60" in report.text
    assert (await stored(sim)).status is BroadcastStatus.DONE


async def test_a_timeout_after_sending_is_unknown_and_not_resent(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim)
    (user,) = await people(sim, [1001])
    sim.world.fault("sendMessage", timeout=True, delivered=True, chat_id=1001)
    await compose(op, TEXT, "broadcast.button.all", count=2)
    await run(sim)
    counts = await ledger(sim)
    assert (counts[DeliveryState.SENT], counts[DeliveryState.UNKNOWN]) == (1, 1)
    assert [m.text for m in user.messages].count(TEXT) == 1  # delivered once, not resent
    assert "Unknown (may have arrived, not resent): 1" in status_message(op).text


async def test_a_restart_in_the_middle_continues_without_duplicates(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim)
    await seed(sim, 2000, 500)
    await compose(op, TEXT, "broadcast.button.all", count=501)
    await sim.advance(seconds=7)  # about 175 sent, one batch out when the process dies
    before = await ledger(sim)
    assert 100 < before[DeliveryState.SENT] < 300
    in_flight = before[DeliveryState.SENDING]
    assert 0 < in_flight <= runtime(sim.app).settings.broadcast_batch
    await sim.restart()
    await run(sim)
    counts = await ledger(sim)
    assert counts[DeliveryState.UNKNOWN] == in_flight  # the documented policy
    assert counts[DeliveryState.SENT] + counts[DeliveryState.UNKNOWN] == 501
    assert counts[DeliveryState.PENDING] == counts[DeliveryState.SENDING] == 0
    per_chat = Counter(
        c.params["chat_id"]
        for c in sim.world.calls("sendMessage")
        if c.ok and c.params.get("text") == TEXT
    )
    assert max(per_chat.values()) == 1  # nobody got it twice
    assert len(per_chat) >= counts[DeliveryState.SENT]
    assert (await stored(sim)).status is BroadcastStatus.DONE
    report = status_message(op)
    assert f"Unknown (may have arrived, not resent): {in_flight}" in report.text
    assert f"Sent: {counts[DeliveryState.SENT]}" in report.text
    assert too_many(sim) == []


async def test_a_planned_stop_lets_the_batch_in_flight_finish(limited: Simulator) -> None:
    """SIGTERM (the Application's stop, then post_stop): the batch out is recorded before the
    process ends, so the new process carries on and no row is `unknown`."""
    sim = limited
    op = await operator(sim)
    await seed(sim, 2000, 200)
    await compose(op, TEXT, "broadcast.button.all", count=201)
    await sim.advance(seconds=3)
    before = await ledger(sim)
    assert before[DeliveryState.SENDING] > 0  # a batch is out when the stop comes
    await sim.restart(planned=True)
    assert (await ledger(sim))[DeliveryState.UNKNOWN] == 0  # a crash leaves the batch unknown
    await run(sim)
    counts = await ledger(sim)
    assert counts[DeliveryState.SENT] == 201
    assert counts[DeliveryState.UNKNOWN] == 0
    assert max(Counter(c.params["chat_id"] for c in broadcast_calls(sim) if c.ok).values()) == 1
    assert "Sent: 201" in status_message(op).text


async def test_pause_resume_and_cancel(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim)
    await seed(sim, 2000, 300)
    await compose(op, TEXT, "broadcast.button.all", count=301)
    await sim.advance(seconds=2)
    progress = status_message(op)
    assert op.shows(progress, "broadcast.progress")
    await op.tap_key("broadcast.button.pause")
    assert op.last_callback_answer is not None
    assert op.last_callback_answer.text == op.label("broadcast.done_pause")
    await sim.advance(seconds=1)  # the batch that was out is recorded
    paused = await ledger(sim)
    await sim.advance(minutes=5)
    assert await ledger(sim) == paused  # nothing sent while paused
    assert paused[DeliveryState.SENDING] == 0
    message = status_message(op)
    assert op.label("broadcast.button.resume") in message.labels
    await op.tap_key("broadcast.button.resume")
    await sim.advance(seconds=3)
    resumed = await ledger(sim)
    assert resumed[DeliveryState.SENT] > paused[DeliveryState.SENT]
    await op.tap_key("broadcast.button.stop")
    await sim.advance(seconds=2)  # the batch that was out: its unsent rows go back
    final = await ledger(sim)
    assert 0 < final[DeliveryState.SENT] < 301
    assert final[DeliveryState.PENDING] == 301 - final[DeliveryState.SENT]
    b = await stored(sim)
    assert b.status is BroadcastStatus.CANCELLED
    report = status_message(op)
    assert op.shows(report, "broadcast.report")
    assert f"Not sent: {final[DeliveryState.PENDING]}" in report.text
    assert not report.buttons
    await op.tap_raw(report.message_id, "b:resume:1")  # too late
    assert op.last_callback_answer is not None
    assert op.last_callback_answer.show_alert
    assert (await stored(sim)).status is BroadcastStatus.CANCELLED
    assert too_many(sim) == []


async def test_a_cancelled_broadcast_reports_its_final_numbers_once(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim)
    await seed(sim, 2000, 200)
    await compose(op, TEXT, "broadcast.button.all", count=201)
    await sim.advance(seconds=2.5)
    assert (await ledger(sim))[DeliveryState.SENDING] > 0  # a batch is out at the tap
    await op.tap_key("broadcast.button.stop")
    await run(sim)
    await sim.advance(seconds=5)
    final = await ledger(sim)
    reports = [
        c.params["text"]
        for c in sim.world.calls("editMessageText")
        if c.ok and c.params.get("chat_id") == OPERATOR and "Not sent:" in c.params["text"]
    ]
    assert len(reports) == 1, reports  # rendered once, never edited to other numbers
    assert f"Sent: {final[DeliveryState.SENT]}" in reports[0]
    assert f"Not sent: {final[DeliveryState.PENDING]}" in reports[0]
    assert final[DeliveryState.SENDING] == 0


async def test_one_recipient_reads_in_the_singular(limited: Simulator) -> None:
    op = await operator(limited)
    await compose(op, "Hello", "broadcast.button.all", count=1)
    (started,) = [m for m in op.messages if op.shows(m, "broadcast.started")]
    assert "to 1 recipient is starting" in started.text


async def test_someone_talking_during_a_broadcast_gets_prompt_replies(
    limited: Simulator,
) -> None:
    sim = limited
    op = await operator(sim)
    await seed(sim, 2000, 1000)
    talker = sim.user(1001, "talker", language_code="en")
    await compose(op, TEXT, "broadcast.button.all", count=1001)
    await sim.advance(seconds=3)
    delays = []
    for text in ("/start", "/mycomplaints", "/guide", "/settings", "/help"):
        asked = sim.clock.now()
        mark = talker.mark()
        await talker.send(text)
        while not talker.since(mark):
            await sim.advance(seconds=0.05)
        delays.append((sim.clock.now() - asked).total_seconds())
        await sim.advance(seconds=0.3)
    assert max(delays) <= 1.0, delays
    burst = talker.mark()
    for _ in range(8):  # a burst of replies: the broadcast must give way, not trip the limit
        await talker.send("/help")
    assert len(talker.since(burst)) == 8  # all answered at once
    assert (await ledger(sim))[DeliveryState.PENDING] > 0  # the broadcast was still going
    await run(sim)
    assert too_many(sim) == []
    assert (await ledger(sim))[DeliveryState.SENT] == 1001


async def test_the_report_in_chinese(limited: Simulator) -> None:
    sim = limited
    op = await operator(sim, "zh-CN")
    await people(sim, [1001], "zh-CN")
    await compose(op, "今晚维护", "broadcast.button.language", language_button("zh-CN"), count=2)
    await run(sim)
    report = status_message(op)
    assert op.shows(report, "broadcast.report")
    assert "已发送：2" in report.text


async def test_a_stale_or_unknown_broadcast_button(limited: Simulator) -> None:
    op = await operator(limited)
    await op.tap_raw(op.last.message_id, "b:pause:42")
    assert op.last_callback_answer is not None
    assert op.last_callback_answer.show_alert
