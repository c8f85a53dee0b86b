"""Fixtures for the fake Telegram's own tests.

- `bot`: a real PTB Bot (through an Application) talking to the module's `world` fixture.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.ext import ApplicationBuilder

from bot.fake.request import FakeRequest
from bot.fake.world import FakeTelegram


@pytest.fixture
async def bot(world: FakeTelegram) -> AsyncIterator[Bot]:
    app = (
        ApplicationBuilder()
        .token("123:TEST")
        .request(FakeRequest(world))
        .get_updates_request(FakeRequest(world))
        .updater(None)
        .build()
    )
    async with app:
        yield app.bot
