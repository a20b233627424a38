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
