import threading
from datetime import timedelta

from packdesk.services.schedule import Jobs


def test_daily_job_also_runs_soon_after_start_and_survives_errors(expect_warnings) -> None:  # type: ignore[no-untyped-def]
    ran = threading.Event()
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        ran.set()
        raise RuntimeError("boom")  # logged, never kills the scheduler

    from tests.waiting import wait_until

    jobs = Jobs()
    jobs.daily("t", job, hour=3, first_run_in=timedelta(milliseconds=50))
    jobs.start()
    try:
        assert ran.wait(5)
        names = {j.id for j in jobs.scheduler.get_jobs()}
        assert "t" in names  # the daily one stays scheduled
        wait_until(lambda: any("scheduled job t failed" in r.getMessage() for r in expect_warnings.records),
                   what="the failure to be logged")
    finally:
        jobs.stop()
    assert calls == [1]


def test_daily_times_are_korea_time_and_weekdays_only_skips_the_weekend() -> None:
    from datetime import UTC, datetime

    jobs = Jobs()
    jobs.daily("collect-09:00", lambda: None, hour=9, minute=0, weekdays_only=True)
    trigger = jobs.scheduler.get_job("collect-09:00").trigger
    friday_evening_utc = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # Friday 21:00 in Korea
    monday_9_kst = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, friday_evening_utc) == monday_9_kst
    jobs.daily("every-day", lambda: None, hour=9)
    every = jobs.scheduler.get_job("every-day").trigger
    assert every.get_next_fire_time(None, friday_evening_utc) == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
