"""Complaint numbers: readable, unique, unguessable.

`YYMMDD-XXXX-XXXX`: the submission date in Asia/Shanghai, then 40 random bits in Crockford
base32 (no I, L, O, U: nothing to misread). The random bits come from the caller, so this stays
pure; the wiring passes `secrets.randbits(40)`. Uniqueness is checked against the database.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHANGHAI = ZoneInfo("Asia/Shanghai")
RANDOM_BITS = 40


def format_number(now: datetime, bits: int) -> str:
    chars = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(8)))
    return f"{now.astimezone(SHANGHAI):%y%m%d}-{chars[:4]}-{chars[4:]}"
