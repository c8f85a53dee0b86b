"""The log holds ids, kinds and outcomes: never the token (at any level, DEBUG included),
never what people wrote or their names."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from telegram.request import BaseRequest

from bot import logs
from bot.app import AnyApp, build_application
from bot.clock import FakeClock
from bot.config import Settings
from bot.i18n import Translator
from bot.simulator import Simulator
from tests.conftest import START
from tests.flows.conversations import DESCRIPTION, TARGETS, file, operator

TOKEN = "987654321:AAH-secret-token-never-logged"
NAME = "Zhang Weiwei-Unique"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger configured as the CLI does, at DEBUG, into a buffer; restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    quiet = {name: logging.getLogger(name).level for name in (*logs.QUIET, *logs.QUIET_ALWAYS)}
    stream = io.StringIO()
    logs.configure("DEBUG", [TOKEN], stream)
    yield stream
    root.handlers[:], _ = saved
    root.setLevel(saved[1])
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


async def test_a_whole_conversation_at_debug_logs_no_token_text_or_name(
    settings: Settings, translator: Translator, captured: io.StringIO
) -> None:
    with_token = settings.model_copy(update={"telegram_bot_token": SecretStr(TOKEN)})

    async def factory(request: BaseRequest, clock: FakeClock) -> AnyApp:
        return build_application(with_token, clock=clock, request=request, translator=translator)

    async with await Simulator.start(factory, clock=FakeClock(START), translator=translator) as sim:
        user = sim.user(301, NAME, language_code="en")
        number = await file(user)
        op = await operator(sim)
        await op.send(f"/open {number}")
        await user.send("💥 \ud800 odd input")  # a lone surrogate, cleaned at the edge
    logging.getLogger("complaint_desk").error("token in a message: %s", TOKEN)
    written = captured.getvalue()
    assert written, "DEBUG logging wrote nothing: the test would prove nothing"
    for secret in (TOKEN, DESCRIPTION, TARGETS["friend_report"], NAME):
        assert secret not in written
    assert logs.REDACTED in written


def test_a_traceback_with_the_token_is_redacted(captured: io.StringIO) -> None:
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        logging.getLogger("complaint_desk").exception("send failed")
    written = captured.getvalue()
    assert "RuntimeError" in written
    assert TOKEN not in written
