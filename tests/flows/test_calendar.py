"""Time rules in Asia/Shanghai: mainland-China working days, day and month bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from flows.calendar import (
    SHANGHAI,
    day_bounds,
    is_working_day,
    month_bounds,
    working_days_deadline,
)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def test_ordinary_weekdays_and_weekends() -> None:
    """Monday to Friday work, Saturday and Sunday rest, in an ordinary week."""
    week = [date(2026, 11, 23) + timedelta(days=i) for i in range(7)]
    assert [is_working_day(d) for d in week] == [True] * 5 + [False] * 2


def test_national_day_golden_week_2026() -> None:
    """Oct 1-7, 2026 are days off (holidays, a Sunday and substituted days); Oct 8 works again;
    the adjusted Saturday Oct 10 and Sunday Sep 20 are working days."""
    golden_week = [date(2026, 10, d) for d in range(1, 8)]
    assert not any(is_working_day(d) for d in golden_week)
    assert is_working_day(date(2026, 10, 8))
    assert date(2026, 10, 10).weekday() == 5
    assert is_working_day(date(2026, 10, 10))
    assert is_working_day(date(2026, 9, 20))
    assert not is_working_day(date(2026, 10, 11))


def test_the_documented_example() -> None:
    """Submitted Monday 2026-11-23 09:00 Shanghai, 3 working days: Tue, Wed, Thu -> closes at
    Thursday 24:00 Shanghai = 2026-11-26T16:00Z."""
    assert working_days_deadline(sh(2026, 11, 23, 9), 3) == datetime(2026, 11, 26, 16, tzinfo=UTC)


def test_the_day_of_submission_never_counts() -> None:
    """Whether filed at 00:01 or at 23:59, counting starts the next day."""
    early = working_days_deadline(sh(2026, 11, 23, 0, 1), 1)
    late = working_days_deadline(sh(2026, 11, 23, 23, 59), 1)
    assert early == late == sh(2026, 11, 25).astimezone(UTC)


def test_across_a_normal_weekend() -> None:
    """Thursday + 3 working days: Fri, (Sat, Sun skipped) Mon, Tue -> end of Tuesday."""
    assert working_days_deadline(sh(2026, 11, 19, 15), 3) == sh(2026, 11, 25).astimezone(UTC)


def test_across_the_golden_week() -> None:
    """Filed Wed Sep 30: Oct 1-7 are off, so Oct 8 and 9 are the first two working days."""
    assert working_days_deadline(sh(2026, 9, 30, 10), 2) == sh(2026, 10, 10).astimezone(UTC)


def test_across_an_adjusted_working_saturday() -> None:
    """Filed Wed Sep 30, 3 working days: Oct 8, Oct 9 and the working Saturday Oct 10 -> the
    window closes at the end of Saturday (2026-10-10T16:00Z), not on Monday."""
    deadline = working_days_deadline(sh(2026, 9, 30, 10), 3)
    assert deadline == datetime(2026, 10, 10, 16, tzinfo=UTC)
    assert deadline.tzinfo is UTC


def test_an_adjusted_working_sunday_counts() -> None:
    """Filed Friday Sep 18: the working Sunday Sep 20 is the first working day."""
    assert working_days_deadline(sh(2026, 9, 18, 10), 1) == sh(2026, 9, 21).astimezone(UTC)


def test_submitted_on_a_saturday() -> None:
    """Filed Saturday Nov 28: Sunday is skipped, counting starts Monday -> Mon, Tue, Wed."""
    assert working_days_deadline(sh(2026, 11, 28, 12), 3) == sh(2026, 12, 3).astimezone(UTC)


def test_the_shanghai_day_decides_not_the_utc_day() -> None:
    """2026-11-27T17:00Z is Saturday 01:00 in Shanghai (Friday in UTC): counted like Saturday."""
    saturday = datetime(2026, 11, 27, 17, tzinfo=UTC)
    assert working_days_deadline(saturday, 3) == working_days_deadline(sh(2026, 11, 28, 12), 3)


def test_deadlines_across_a_year_end() -> None:
    """Filed Wed 2026-12-30, 2 working days: Dec 31, then New Year's Day 2027 (a holiday) and
    the weekend are skipped -> Monday Jan 4 closes the window; the cache spans both years."""
    assert not is_working_day(date(2027, 1, 1))
    assert working_days_deadline(sh(2026, 12, 30, 10), 2) == sh(2027, 1, 5).astimezone(UTC)


def test_naive_times_and_negative_windows_are_refused() -> None:
    """Time is always aware; a window cannot be negative."""
    with pytest.raises(ValueError, match="aware"):
        working_days_deadline(datetime(2026, 11, 23, 9), 3)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        working_days_deadline(sh(2026, 11, 23, 9), -1)
    with pytest.raises(ValueError, match="aware"):
        month_bounds(datetime(2026, 11, 23, 9))  # noqa: DTZ001


def test_month_bounds_follow_shanghai_not_utc() -> None:
    """2026-11-30T17:00Z is already Dec 1 (01:00) in Shanghai: its month is December, from
    2026-11-30T16:00Z to 2026-12-31T16:00Z; one hour earlier it is still November."""
    start, end = month_bounds(datetime(2026, 11, 30, 17, tzinfo=UTC))
    assert (start, end) == (
        datetime(2026, 11, 30, 16, tzinfo=UTC),
        datetime(2026, 12, 31, 16, tzinfo=UTC),
    )
    assert start.tzinfo is UTC
    assert end.tzinfo is UTC
    november = month_bounds(datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC))
    assert november == (datetime(2026, 10, 31, 16, tzinfo=UTC), start)


def test_month_bounds_in_december_end_in_the_next_year() -> None:
    """December's end is January 1 of the next year, 00:00 Shanghai."""
    _, end = month_bounds(sh(2026, 12, 15))
    assert end == datetime(2026, 12, 31, 16, tzinfo=UTC)


def test_day_bounds_follow_shanghai() -> None:
    """The Shanghai day of 2026-11-23T17:00Z is Nov 24: [Nov 23 16:00Z, Nov 24 16:00Z)."""
    assert day_bounds(datetime(2026, 11, 23, 17, tzinfo=UTC)) == (
        datetime(2026, 11, 23, 16, tzinfo=UTC),
        datetime(2026, 11, 24, 16, tzinfo=UTC),
    )
