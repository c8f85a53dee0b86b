"""`complaint-desk serve` over real HTTP: the fake posts updates to the webhook it was given;
the secret is checked, an update is answered 200 only after commit (5xx before, so it comes
again), /healthz and /metrics tell the truth."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from bot.serve import HEADER, secret_path
from tests.bot.http.conftest import (
    SECRET,
    BotProcess,
    FakeServer,
    WriteLock,
    free_port,
    label,
    processed,
    until,
)

USER = 1001


def start_server(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> tuple[BotProcess, httpx.Client]:
    port = free_port()
    bot = BotProcess(
        fake,
        tmp_path,
        "serve",
        WEBHOOK_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_PORT=str(port),
    )
    started.append(bot)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)

    def up() -> bool:
        try:
            return client.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    until(up, "the webhook server")
    return bot, client


def test_updates_arrive_by_webhook_and_are_answered(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    bot, client = start_server(fake, tmp_path, started)
    state = fake.state()
    assert state["webhook"] == str(client.base_url.join(secret_path(SECRET)))
    [call] = fake.calls("setWebhook")["calls"]
    assert call["params"]["secret_token"] == SECRET
    assert call["params"]["max_connections"] == "40"
    assert call["params"]["allowed_updates"] == ["message", "callback_query"]
    update = fake.sim("text", user=USER, text="/start", language="en")["update"]
    until(lambda: fake.texts(USER), "the menu")
    assert fake.state()["deliveries"] == [[update["update_id"], 200]]
    metrics = client.get("/metrics").text
    assert 'complaint_desk_updates_total{kind="message",outcome="handled"} 1.0' in metrics
    assert "complaint_desk_outbox_backlog 0.0" in metrics
    assert bot.terminate() in (0, -15)  # uvicorn re-raises the signal after a clean stop
    assert "stopped: requests in hand finished" in bot.logged()
    client.close()


def test_a_wrong_secret_is_refused_and_changes_nothing(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    bot, client = start_server(fake, tmp_path, started)
    update = fake.sim("text", user=USER, text="/start", language="en", hand_over=False)["update"]
    path = secret_path(SECRET)
    assert client.post(path, json=update, headers={HEADER: "guess"}).status_code == 403
    assert client.post(path, json=update).status_code == 403
    assert "wrong or missing secret token" in bot.logged()
    assert processed(bot.db, update["update_id"]) == 0
    assert fake.texts(USER) == []
    assert client.post(path, json=update, headers={HEADER: SECRET}).status_code == 200
    assert processed(bot.db, update["update_id"]) == 1
    client.close()


def test_an_update_that_cannot_commit_is_answered_5xx_and_comes_again(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    bot, client = start_server(fake, tmp_path, started)
    lock = WriteLock(bot.db)  # held past the store's busy time-out: the transaction fails
    update = fake.sim("text", user=USER, text="/start", language="en")["update"]
    uid = update["update_id"]
    until(lambda: [s for u, s in fake.state()["deliveries"] if u == uid], "a first delivery")
    lock.release()

    def statuses() -> list[int]:
        return [s for u, s in fake.state()["deliveries"] if u == uid]

    until(lambda: 200 in statuses(), "a later delivery to succeed")
    assert statuses()[0] == 500
    assert statuses()[-1] == 200
    assert processed(bot.db, uid) == 1
    texts = fake.texts(USER)  # an apology for the failed try, then the answer
    assert label("errors.internal") in texts[0]
    assert label("menu.button.file") in str(fake.messages(USER)[-1]["buttons"])
    client.close()


def test_healthz_goes_503_when_the_database_is_gone_and_back_to_200(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    bot, client = start_server(fake, tmp_path, started)
    moved = bot.db.with_suffix(".away")
    bot.db.rename(moved)
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["problems"][0].startswith("database:")
    moved.rename(bot.db)
    assert client.get("/healthz").status_code == 200
    client.close()


def test_sigterm_finishes_the_update_in_hand(
    fake: FakeServer, tmp_path: Path, started: list[BotProcess]
) -> None:
    bot, client = start_server(fake, tmp_path, started)
    lock = WriteLock(bot.db)  # the update's transaction waits on it
    uid = fake.sim("text", user=USER, text="/start", language="en")["update"]["update_id"]
    assert fake.sim("wait", update_id=uid)["seen"]  # its POST is in the server's hands
    bot.proc.send_signal(15)

    def closed() -> bool:  # uvicorn stops accepting first, then finishes what it holds
        try:  # a bare connection: /healthz would wait behind the update on the store
            socket.create_connection(("127.0.0.1", client.base_url.port or 0), timeout=5).close()
        except OSError:
            return True
        return False

    until(closed, "the server to stop accepting")
    lock.release()
    assert bot.proc.wait(timeout=60) in (0, -15)
    assert fake.state()["deliveries"] == [[uid, 200]]  # answered after commit, not cut off
    assert processed(bot.db, uid) == 1
    assert len(fake.texts(USER)) == 1
    client.close()
