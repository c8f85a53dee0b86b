"""Telegram's flood limits, as the fake world enforces them (off unless
`FakeTelegram.enforce_limits()` is called: the broadcast tests and the console turn them on).

Telegram publishes no exact algorithm ("about 30 messages per second", "avoid more than one
message per second in a chat; short bursts are allowed"), so the fake enforces this model:

- A call to a chat within `reply_window` (10 s) of the user's own last message or button tap
  there is a *reply*; any other call is *unsolicited* (broadcasts, notifications, a status
  message nobody asked about just now). Telegram's published limits are about bulk sending;
  answering people is tolerated at much higher rates (grammY's flood notes), and a scripted
  conversation on a frozen virtual clock would otherwise trip them.
- Overall: every call that carries a `chat_id` (sends, edits, deletes...) counts, replies
  included. An unsolicited call when `overall` (30) calls were already made in the trailing
  `window` (1 s) is answered 429 with `retry_after` = the whole seconds until the oldest of
  them leaves the window (at least 1). So replies eat into the budget a broadcast may use.
- Per chat, for unsolicited message sends (`send*` but sendChatAction, copyMessage,
  forwardMessage): a burst of `chat_burst` (3) is allowed, then one per `chat_interval` (1 s)
  (a token bucket of 3 refilled at 1/s). Beyond that: 429 with `retry_after` = the whole
  seconds until a token is back.
- A call refused with 429 does not count.

So a sender that keeps to 1 message a second per chat and, counting replies, to under 30
calls a second overall never sees a 429.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_SECOND = 1_000_000


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


def is_message_send(method: str) -> bool:
    name = method.lower()
    return name.startswith(("send", "copymessage", "forwardmessage")) and name != "sendchataction"


@dataclass
class FloodLimits:
    overall: int = 30
    window: float = 1.0
    chat_burst: int = 3
    chat_interval: float = 1.0
    reply_window: float = 10.0
    refused: int = 0  # 429s answered so far
    _calls: deque[int] = field(default_factory=deque, repr=False)
    _chat_tat: dict[int, int] = field(default_factory=dict, repr=False)  # GCRA per chat
    _user_seen: dict[int, int] = field(default_factory=dict, repr=False)

    def user_acted(self, chat_id: int, now: datetime) -> None:
        """The user wrote or tapped a button in their chat: answers to it are replies."""
        self._user_seen[chat_id] = _us(now)

    def check(self, method: str, params: dict[str, Any], now: datetime) -> int | None:
        """None if the call may go ahead (it is then counted), else its `retry_after`."""
        raw = params.get("chat_id")
        if raw is None:
            return None
        at = _us(now)
        window = round(self.window * _SECOND)
        while self._calls and self._calls[0] <= at - window:
            self._calls.popleft()
        chat = _chat(raw)
        reply = chat is not None and self._is_reply(chat, at)
        if not reply and len(self._calls) >= self.overall:
            return self._refuse(self._calls[0] + window - at)
        if chat is not None and is_message_send(method) and not reply:
            interval = round(self.chat_interval * _SECOND)
            tat = max(self._chat_tat.get(chat, at), at)
            allowed_from = tat - (self.chat_burst - 1) * interval
            if allowed_from > at:
                return self._refuse(allowed_from - at)
            self._chat_tat[chat] = tat + interval
        self._calls.append(at)
        return None

    def _is_reply(self, chat: int, at: int) -> bool:
        seen = self._user_seen.get(chat)
        return seen is not None and at - seen <= round(self.reply_window * _SECOND)

    def _refuse(self, wait_us: int) -> int:
        self.refused += 1
        return max(1, math.ceil(wait_us / _SECOND))


def _chat(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
