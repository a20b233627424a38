"""Korea time, the warehouse's clock for everything people read: the screens, the video overlay, the
recordings' folders and file names, exports and reports. The database keeps UTC.

A fixed +09:00 offset rather than ``ZoneInfo("Asia/Seoul")``: Korea has kept no daylight saving time since
1988, so the two agree for every date PackDesk handles, and a fixed offset needs no tz database (a Windows
Python has none without the ``tzdata`` package). It also keeps a station whose Windows clock is set to
another zone, or this Linux build machine on UTC, writing the same times the review shows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")


def kst(at: datetime) -> datetime:
    """``at`` (aware) in Korea time."""
    return at.astimezone(KST)


def kst_text(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """``at`` as people read it (Korea time, ``fmt``); "" for no time."""
    return at.astimezone(KST).strftime(fmt) if at else ""
