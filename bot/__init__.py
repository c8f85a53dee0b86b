"""Adapters and wiring: Telegram (PTB), the fake Telegram, the simulator, the console."""

import os

# PTB 22 reports RetryAfter.retry_after as a timedelta only with this set (and warns otherwise).
os.environ.setdefault("PTB_TIMEDELTA", "1")
