"""An in-memory Telegram for tests and the console: the world, its HTTP seam, and transcripts."""

from bot.fake.models import (
    ApiError,
    Call,
    CallbackAnswer,
    FakeButton,
    FakeFile,
    FakeMessage,
    FakeTap,
    FakeUser,
)
from bot.fake.request import FakeRequest
from bot.fake.transcript import render_transcript
from bot.fake.world import FakeTelegram

__all__ = [
    "ApiError",
    "Call",
    "CallbackAnswer",
    "FakeButton",
    "FakeFile",
    "FakeMessage",
    "FakeRequest",
    "FakeTap",
    "FakeTelegram",
    "FakeUser",
    "render_transcript",
]
