"""Bot API calls made through PTB's transport, answered as Telegram's JSON (no PTB objects).

PTB's typed methods (`bot.send_message`, `query.answer`...) parse every answer into PTB objects
(`Message`, its `Chat`, `User`, entities, keyboard...). The desk reads nothing of most answers,
and at most a `message_id` of the others, so that parsing was the largest single cost of an
update. `call` keeps everything else of PTB's path: `Bot._post` drops `None` parameters and
applies defaults, `ExtBot._do_post` passes the call through the rate limiter (bot/pacer.py)
with its `rate_limit_args`, the request serializes parameters and raises PTB's own errors
(BadRequest, Forbidden, RetryAfter, TimedOut...) from Telegram's envelope. Only the last step,
building objects from the result, is left out.

`Bot._post` and `ExtBot._merge_api_rl_kwargs` are private to python-telegram-bot, pinned at
22.8 in pyproject.toml; this module is the only place that touches them, and
tests/bot/test_transport.py fails if either changes shape.

Keyboards are built as the JSON payload Telegram takes (`inline_keyboard`), not as PTB
`InlineKeyboardMarkup`/`InlineKeyboardButton` objects that would be turned back into it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from telegram import Bot
from telegram.ext import ExtBot

JSONDict = dict[str, Any]
Keyboard = JSONDict  # {"inline_keyboard": [[{"text": ..., "callback_data": ...}, ...], ...]}


def inline_keyboard(rows: Iterable[Iterable[tuple[str, str]]]) -> Keyboard | None:
    """The `reply_markup` payload of rows of (label, callback data); None when empty."""
    keyboard = [[{"text": text, "callback_data": data} for text, data in row] for row in rows]
    return {"inline_keyboard": keyboard} if keyboard else None


async def call(bot: Bot, method: str, params: JSONDict, rate_limit_args: Any = None) -> Any:
    """Make `method` with `params` (None values dropped); Telegram's `result`, as JSON."""
    data = dict(params)
    if rate_limit_args is not None:
        merged = ExtBot._merge_api_rl_kwargs(None, rate_limit_args)  # pinned seam
        data.update(cast(JSONDict, merged))
    return await bot._post(method, data)  # the pinned seam (docstring)
