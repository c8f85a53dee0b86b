"""Bookkeeping after a message was sent (after commit): outbox rows done, users who blocked the
bot. ("Delivery" in flows/ means one recipient's row of a broadcast's ledger, nothing else.)"""

from __future__ import annotations

from datetime import datetime

from flows.ports import Tx


def sent(tx: Tx, notification_id: int | None, now: datetime) -> None:
    if notification_id is not None:
        tx.mark_sent([notification_id], now)


def blocked(tx: Tx, user_id: int, notification_id: int | None, now: datetime) -> None:
    """Telegram said 403: remember it (they are left out of broadcasts until they write)."""
    sent(tx, notification_id, now)
    user = tx.load_user(user_id)
    if user is not None and not user.blocked_bot:
        tx.save_user(
            user.model_copy(
                update={"blocked_bot": True, "version": user.version + 1, "updated_at": now}
            ),
            user.version,
        )
