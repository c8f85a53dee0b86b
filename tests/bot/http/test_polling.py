"""`complaint-desk run` over real HTTP against the fake's Bot API server: answers, start-up
faults, a failed reply to a tap, and no update lost to SIGKILL or SIGTERM."""

from __future__ import annotations

from pathlib import Path

from tests.bot.http.conftest import BotProcess, FakeServer, WriteLock, label, processed, until

USER = 1001


def start_bot(fake: FakeServer, tmp_path: Path, started: list[BotProcess]) -> BotProcess:
    bot = BotProcess(fake, tmp_path, "run")
    started.append(bot)
    return bot


def say(fake: FakeServer, text: str) -> int:
    return int(fake.sim("text", user=USER, text=text, language="en")["update"]["update_id"])


def replies_after(fake: FakeServer, count: int) -> list[str]:
    return list(until(lambda: fake.texts(USER)[count:], "a reply"))


def test_the_bot_polls_answers_and_stops_on_sigterm_with_its_offset_confirmed(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    bot = start_bot(fake, tmp_path, started)
    say(fake, "/start")
    [menu] = replies_after(fake, 0)
    assert label("menu.button.file") in str(fake.messages(USER)[0]["buttons"])
    assert fake.state()["commands"] == 2  # the menu, published over HTTP
    assert bot.terminate() == 0
    assert fake.state()["pending"] == []  # confirmed before it stopped
    assert menu


def test_start_up_survives_a_5xx_from_set_my_commands(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    fake.sim("fault", method="setMyCommands", code=500, times=1000)
    bot = start_bot(fake, tmp_path, started)
    say(fake, "/start")
    replies_after(fake, 0)
    assert "command menu not published (NetworkError)" in bot.logged()
    tries = fake.calls("setMyCommands")["calls"]
    assert len(tries) == 3  # retried, then given up (the rest of the menu too)
    assert all(call["code"] == 500 for call in tries)


def test_a_failed_reply_to_a_tap_still_reaches_the_user_and_the_tap_is_answered_once(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    start_bot(fake, tmp_path, started)
    say(fake, "/start")
    replies_after(fake, 0)
    fake.sim("fault", method="sendMessage", code=502, chat_id=USER)
    fake.sim("tap", user=USER, label=label("menu.button.file"))
    replies_after(fake, 1)
    calls = fake.calls("answerCallbackQuery")
    assert [c["ok"] for c in calls["calls"]] == [True]
    assert calls["unanswered_callbacks"] == []
    sends = [c["code"] for c in fake.calls("sendMessage")["calls"]]
    assert sends == [None, 502, None]  # the menu; the choice failed once, then arrived


def test_sigkill_between_fetch_and_commit_loses_nothing(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    bot = start_bot(fake, tmp_path, started)
    say(fake, "/start")
    replies_after(fake, 0)
    lock = WriteLock(bot.db)  # the bot's next transaction waits on the database
    update_id = say(fake, "/guide")
    assert fake.sim("wait", update_id=update_id)["seen"]  # fetched, not committed
    bot.kill()
    lock.release()
    assert processed(bot.db, update_id) == 0
    assert fake.texts(USER)[1:] == []
    bot.restart()
    replies_after(fake, 1)  # fetched again: not confirmed before the kill
    assert fake.state()["fetched"][str(update_id)] == 2
    assert processed(bot.db, update_id) == 1
    assert bot.terminate() == 0
    assert len(fake.texts(USER)) == 2  # the menu, then the guide: once


def test_sigterm_finishes_the_update_in_hand(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    bot = start_bot(fake, tmp_path, started)
    say(fake, "/start")
    replies_after(fake, 0)
    lock = WriteLock(bot.db)
    update_id = say(fake, "/guide")
    assert fake.sim("wait", update_id=update_id)["seen"]
    bot.proc.send_signal(15)
    until(lambda: "finishing the updates in hand" in bot.logged(), "the bot to take SIGTERM")
    lock.release()
    assert bot.proc.wait(timeout=60) == 0
    assert processed(bot.db, update_id) == 1
    assert len(fake.texts(USER)) == 2  # answered before it stopped
    assert fake.state()["pending"] == []  # and confirmed


def test_sigkill_after_commit_before_the_reply_then_the_redelivery_sends_the_answer(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    """Issue 10.1: the process dies between commit and reply; the update comes again (its
    offset was never confirmed) and, although the claim stops it running twice, its kept
    answer is sent."""
    bot = start_bot(fake, tmp_path, started)
    say(fake, "/start")
    replies_after(fake, 0)
    fake.sim("fault", method="sendMessage", code=502, times=3, chat_id=USER)
    update_id = say(fake, "/guide")

    def first_try_failed() -> bool:
        return any(c["code"] == 502 for c in fake.calls("sendMessage")["calls"])

    until(first_try_failed, "the reply's first try")
    bot.kill()  # committed (the reply is being sent), not confirmed
    assert processed(bot.db, update_id) == 1
    assert len(fake.texts(USER)) == 1
    bot.restart()
    replies_after(fake, 1)  # the kept answer, sent by the new process
    assert processed(bot.db, update_id) == 1
    assert fake.state()["fetched"][str(update_id)] == 2
    assert bot.terminate() == 0
    assert len(fake.texts(USER)) == 2
