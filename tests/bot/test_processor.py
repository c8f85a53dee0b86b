"""Each user's updates in order; different users at the same time; nothing kept when idle."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.processor import PerUserProcessor

START = datetime(2026, 11, 23, tzinfo=UTC)


def update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "u", is_bot=False)
    message = Message(update_id, START, Chat(user_id, "private"), from_user=user, text="hi")
    return Update(update_id, message=message)


async def test_one_users_updates_run_in_order_and_users_overlap() -> None:
    processor = PerUserProcessor(16)
    log: list[str] = []
    gate = asyncio.Event()

    async def work(name: str, wait: bool = False) -> None:
        log.append(f"{name} start")
        if wait:
            await gate.wait()
        log.append(f"{name} end")

    async with processor:
        a1 = asyncio.create_task(processor.process_update(update(1, 1), work("a1", wait=True)))
        a2 = asyncio.create_task(processor.process_update(update(2, 1), work("a2")))
        b1 = asyncio.create_task(processor.process_update(update(3, 2), work("b1")))
        await asyncio.wait_for(b1, 1)  # Bob is not held up by Alice's slow update
        assert "a2 start" not in log  # Alice's second update waits for her first
        assert processor.users_in_flight == 1
        gate.set()
        await asyncio.gather(a1, a2)
    assert log.index("a1 end") < log.index("a2 start")
    assert log.index("b1 end") < log.index("a1 end")
    assert processor.users_in_flight == 0  # no lock left behind per user
