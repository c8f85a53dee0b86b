"""Time rules in Asia/Shanghai: working days (mainland-China calendar) and calendar bounds.

Every function takes the time as an argument (aware datetimes; results are in UTC); nothing
here reads a clock. Working days come from `holidays.country_holidays("CN")`, which knows the
public holidays *and* the adjusted working weekends (调休), e.g. in 2026 the National Day golden
week is Oct 1-7 and Saturday Oct 10 is a working day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=64)
def _china(year: int) -> Any:
    """The mainland-China holiday calendar for one year, built on first use.

    One object per year: the library fills `weekend_workdays` only for the years it was asked
    for, so a shared object expanded lazily could answer for a year it has not populated.
    """
    return holidays.country_holidays("CN", years=year)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    return value


def is_working_day(day: date) -> bool:
    """True on a mainland-China working day: Monday-Friday that is not a public holiday (or a
    substituted day off), plus the weekend days that are adjusted working days."""
    return bool(_china(day.year).is_working_day(day))


def _start_of(day: date) -> datetime:
    """00:00 of `day` in Shanghai, in UTC."""
    return datetime.combine(day, time(), tzinfo=SHANGHAI).astimezone(UTC)


def working_days_deadline(start: datetime, days: int) -> datetime:
    """When a window of `days` working days opened at `start` closes, in UTC.

    THE DECISION: counting starts on the day *after* the day of `start` (in Shanghai), so the
    partial day of submission never counts; the window closes at the end (24:00 Asia/Shanghai)
    of the `days`-th working day after it. Weekends and holidays are skipped; adjusted working
    weekends count. Examples:

    - submitted Monday 2026-11-23 09:00 Shanghai, 3 working days: Tue, Wed, Thu -> closes
      Thursday 2026-11-26 24:00 Shanghai = 2026-11-26T16:00Z;
    - submitted on a Saturday: Sunday is skipped, counting starts on Monday.

    `days` == 0 closes at the end of the day of `start`.
    """
    _aware(start, "start")
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    day = start.astimezone(SHANGHAI).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return _start_of(day + timedelta(days=1))


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of the Shanghai calendar day containing `now`, in UTC."""
    day = _aware(now, "now").astimezone(SHANGHAI).date()
    return _start_of(day), _start_of(day + timedelta(days=1))


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of the Shanghai calendar month containing `now`, in UTC.

    2026-11-30T17:00Z is already 1 December in Shanghai: it falls in December's bounds,
    [2026-11-30T16:00Z, 2026-12-31T16:00Z).
    """
    local = _aware(now, "now").astimezone(SHANGHAI)
    first = date(local.year, local.month, 1)
    following = (
        date(local.year + 1, 1, 1) if local.month == 12 else date(local.year, local.month + 1, 1)
    )
    return _start_of(first), _start_of(following)
