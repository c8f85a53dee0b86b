"""Times and durations as message references, rendered per language (Asia/Shanghai clock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows.replies import Ref

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(moment: datetime) -> Ref:
    """A date and time, e.g. "21 Nov 18:00" / "11月21日 18:00" (Beijing time)."""
    local = moment.astimezone(SHANGHAI)
    return Ref(
        "time.at",
        {
            "month": Ref(f"time.month.{local.month}"),
            "day": local.day,
            "time": f"{local:%H:%M}",
        },
    )


def span(delta: timedelta) -> Ref:
    """A duration rounded down to minutes: "1 h 12 min", "2 d 3 h", "5 min"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return Ref("time.days_hours", {"d": days, "h": hours})
    if hours:
        return Ref("time.hours_minutes", {"h": hours, "m": mins})
    return Ref("time.minutes", {"m": mins})


def ago(delta: timedelta) -> Ref:
    """How long ago: "5 min ago" / "5分钟前", and "just now" / "刚刚" under a minute."""
    if delta < timedelta(minutes=1):
        return Ref("time.just_now")
    return Ref("time.ago", {"span": span(delta)})
