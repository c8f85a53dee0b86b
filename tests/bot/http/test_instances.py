"""Several `serve` instances on one PostgreSQL database (issue 12): a round-robin sender posts
interleaved updates of 200 users to three instances, each user's in order, some twice (one
after the other, to another instance) and some to two instances at once. Every user's final
state equals the single-instance run of the same script, and their transcript holds every reply
of that run, in order (a duplicate may bring its kept answer again); no update is applied
twice."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from bot.serve import HEADER, secret_path
from tests import pg
from tests.bot.http.conftest import SECRET, BotProcess, FakeServer, free_port, label, until
from tests.flows.conversations import TARGETS, type_button

USERS = 200
FIRST_USER = 6_000_000_000  # Telegram ids need 64 bits


def script(user: int) -> list[tuple[str, dict[str, Any]]]:
    """One user's updates: start, file, pick a type, go on, name the target."""
    return [
        ("text", {"text": "/start"}),
        ("tap", {"label": label("menu.button.file")}),
        ("tap", {"label": label("filing.button.type", **type_button("friend_report"))}),
        ("tap", {"label": label("filing.button.proceed")}),
        ("text", {"text": f"{TARGETS['friend_report']}_{user % 7}"}),
    ]


class Sender:
    """Posts updates to the instances in turn, as a load balancer would."""

    def __init__(self, ports: list[int]) -> None:
        # A connection per request: a kept-alive one may be closed by the server just as a
        # request goes out (a reset that says nothing about the bot).
        fresh = httpx.Limits(max_keepalive_connections=0)
        self.clients = [
            httpx.Client(base_url=f"http://127.0.0.1:{p}", timeout=120, limits=fresh) for p in ports
        ]
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self.posted = 0
        self.statuses: list[int] = []

    def next_client(self) -> httpx.Client:
        with self._lock:
            return self.clients[next(self._turn) % len(self.clients)]

    def post(self, update: dict[str, Any], client: httpx.Client | None = None) -> int:
        client = client or self.next_client()
        status = client.post(secret_path(SECRET), json=update, headers={HEADER: SECRET})
        with self._lock:
            self.posted += 1
            self.statuses.append(status.status_code)
        return status.status_code

    def close(self) -> None:
        for client in self.clients:
            client.close()


def run_script(fake: FakeServer, sender: Sender, *, duplicates: bool) -> dict[str, int]:
    counts = {"updates": 0, "twice_in_turn": 0, "twice_at_once": 0}
    lock = threading.Lock()

    def one_user(index: int) -> None:
        user = FIRST_USER + index
        for step, (action, body) in enumerate(script(user)):
            update = fake.sim(action, user=user, language="en", hand_over=False, **body)["update"]
            n = index * 10 + step
            if duplicates and n % 11 == 3:  # to two instances at once
                a, b = sender.next_client(), sender.next_client()
                with ThreadPoolExecutor(2) as pair:
                    both = list(pair.map(partial(sender.post, update), (a, b)))
                assert both == [200, 200]
                kind = "twice_at_once"
            else:
                assert sender.post(update) == 200
                kind = ""
                if duplicates and n % 7 == 2:  # again later, to another instance
                    assert sender.post(update) == 200
                    kind = "twice_in_turn"
            with lock:
                counts["updates"] += 1
                if kind:
                    counts[kind] += 1

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one_user, range(USERS)))
    return counts


def final_states(dsn: str) -> dict[int, tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT user_id, state, nonce, version, draft FROM users").fetchall()
    states = {}
    for user_id, state, nonce, version, draft in rows:
        parsed = json.loads(draft) if draft else {}
        states[int(user_id)] = (state, nonce, version, parsed.get("type_id"), parsed.get("target"))
    return states


def processed_count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT COUNT(*) FROM processed_updates").fetchone()
    assert row is not None
    return int(row[0])


def transcripts(fake: FakeServer) -> dict[int, list[str]]:
    return {FIRST_USER + i: fake.texts(FIRST_USER + i) for i in range(USERS)}


def is_subsequence(wanted: list[str], got: list[str]) -> bool:
    rest = iter(got)
    return all(any(text == seen for seen in rest) for text in wanted)


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    pg.require_server()
    with pg.scratch_database() as many, pg.scratch_database() as one:
        yield many, one


def start_instances(
    fake: FakeServer, tmp: Path, dsn: str, count: int, stack: ExitStack
) -> list[int]:
    ports = []
    for i in range(count):
        port = free_port()
        home = tmp / f"instance{i}"
        home.mkdir()
        bot = BotProcess(
            fake,
            home,
            "serve",
            COMPLAINT_DESK_DB=dsn,
            WEBHOOK_URL=f"http://127.0.0.1:{port}",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_PORT=str(port),
        )
        stack.callback(bot.stop)
        ports.append(port)

        def up(port: int = port) -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        until(up, f"instance {i}")
    return ports


def test_three_instances_on_postgresql_equal_one(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    many_dsn, one_dsn = databases
    with ExitStack() as stack:
        (tmp_path / "one").mkdir()
        fake_one = FakeServer(tmp_path / "one")
        stack.callback(fake_one.close)
        sender_one = Sender(start_instances(fake_one, tmp_path / "one", one_dsn, 1, stack))
        stack.callback(sender_one.close)
        single = run_script(fake_one, sender_one, duplicates=False)

        (tmp_path / "many").mkdir()
        fake = FakeServer(tmp_path / "many")
        stack.callback(fake.close)
        sender = Sender(start_instances(fake, tmp_path / "many", many_dsn, 3, stack))
        stack.callback(sender.close)
        multi = run_script(fake, sender, duplicates=True)

        expected = final_states(one_dsn)
        assert len(expected) == USERS
        assert final_states(many_dsn) == expected  # same states, same versions: none applied twice
        assert processed_count(many_dsn) == multi["updates"] == single["updates"]
        # Every reply arrived, in order. A duplicate that came before the first delivery's
        # answer was known to be sent gets that answer again (at least once: flows/redelivery.py).
        again = 0
        many, one = transcripts(fake), transcripts(fake_one)
        for user, texts in one.items():
            assert is_subsequence(texts, many[user]), user
            again += len(many[user]) - len(texts)
        assert fake.calls("answerCallbackQuery")["unanswered_callbacks"] == []
        duplicates = multi["twice_in_turn"] + multi["twice_at_once"]
        assert duplicates > 100
        assert sender.posted == multi["updates"] + duplicates
        assert again <= duplicates
        print(
            f"\nmulti-instance: {multi['updates']} updates of {USERS} users, "
            f"{sender.posted} deliveries to 3 instances, {duplicates} duplicates delivered "
            f"({multi['twice_in_turn']} in turn, {multi['twice_at_once']} at once), "
            f"duplicates applied: {processed_count(many_dsn) - multi['updates']}, "
            f"answers sent again: {again}"
        )
