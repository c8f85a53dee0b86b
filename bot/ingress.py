"""Updates in, confirmed only after commit: what polling (bot/polling.py) and the webhook
(bot/serve.py) share.

PTB's own ingress confirms an update before it is handled (its poller advances the offset at
fetch, its webhook answers 200 before handling), so a process that dies in between loses it.
Here `feed()` runs one update through the Application (the per-user processor, the handlers,
the error handler) and says whether its transaction committed. The handler reports that on a
`Receipt` that lives in a context variable for the duration of that one update: the handler
runs in the caller's task (PTB awaits blocking handlers in place), so it is the caller's.

Outcomes: "handled" (committed; replies were then sent or failed, an apology followed),
"duplicate" (the claim had it already), "resent" (a duplicate whose kept answer was not known
to be delivered: sent again, flows/redelivery.py), "ignored" (not for the desk: groups, edits...),
"failed" (nothing committed: the caller must not confirm it, so Telegram delivers it again).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.metrics import METRICS

log = logging.getLogger("complaint_desk.ingress")

COMMITTED = frozenset({"handled", "duplicate", "resent", "ignored"})


@dataclass
class Receipt:
    outcome: str = "failed"

    @property
    def committed(self) -> bool:
        return self.outcome in COMMITTED


_RECEIPT: ContextVar[Receipt | None] = ContextVar("complaint_desk_receipt", default=None)


def report(outcome: str) -> None:
    """Called by the update handler: the update's transaction committed (or was not needed)."""
    receipt = _RECEIPT.get()
    if receipt is not None:
        receipt.outcome = outcome


def kind_of(update: Update) -> str:
    for kind in ("message", "callback_query", "edited_message", "channel_post", "my_chat_member"):
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


async def feed(app: Application[Any, Any, Any, Any, Any, Any], update: Update) -> Receipt:
    """Handle one update in order with the same user's others; its receipt says if it committed."""
    receipt = Receipt()
    token = _RECEIPT.set(receipt)
    started = time.perf_counter()
    try:
        await app.update_processor.process_update(update, app.process_update(update))
    finally:
        _RECEIPT.reset(token)
    METRICS.observe_update(kind_of(update), receipt.outcome, time.perf_counter() - started)
    if not receipt.committed:
        log.warning("update %s not committed: it will be delivered again", update.update_id)
    return receipt


@contextlib.asynccontextmanager
async def running(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """Start the Application as `run_polling` would (post_init included), stop it after."""
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        try:
            yield
        finally:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
