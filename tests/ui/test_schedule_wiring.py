"""The collection times in the settings become the scheduler's jobs (every day or Mon-Fri), gated by the
connectivity monitor; no times, or collection off, no jobs."""

from __future__ import annotations

import pytest

from packdesk.services.settings import CollectionSettings, Settings

pytestmark = pytest.mark.gui


def cron(job) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.name: str(f) for f in job.trigger.fields}


def test_collection_times_become_jobs(make_station) -> None:  # type: ignore[no-untyped-def]
    st = make_station(Settings(recorder="off", collection=CollectionSettings(times=["13:30", "09:00"],
                                                                               weekdays_only=True)))
    jobs = {j.id: j for j in st.jobs.scheduler.get_jobs() if j.id.startswith("collect-")}
    assert sorted(jobs) == ["collect-09:00", "collect-13:30"]
    assert cron(jobs["collect-13:30"])["hour"] == "13" and cron(jobs["collect-13:30"])["minute"] == "30"
    assert all(cron(j)["day_of_week"] == "mon-fri" for j in jobs.values())
    assert all("gated" in j.func.__qualname__ for j in jobs.values())  # skipped while offline, made up after
    follow_up = st.jobs.scheduler.get_job("collection-follow-up")  # a time another station left unfinished
    assert follow_up is not None and "gated" in follow_up.func.__qualname__


def test_every_day_and_off(make_station) -> None:  # type: ignore[no-untyped-def]
    daily = make_station(Settings(recorder="off", collection=CollectionSettings(times=["16:00"])))
    (job,) = [j for j in daily.jobs.scheduler.get_jobs() if j.id.startswith("collect-")]
    assert cron(job)["day_of_week"] == "*"
    daily.close()
    off = make_station(Settings(recorder="off", collection=CollectionSettings(enabled=False)))
    assert not [j for j in off.jobs.scheduler.get_jobs() if j.id.startswith("collect")]
