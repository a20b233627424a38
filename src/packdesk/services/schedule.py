"""Background jobs on APScheduler: one instance per job, missed runs coalesced (a PC that was off at 03:30
runs the purge once when it is back, not once per missed day)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from packdesk.core.kst import KST

log = logging.getLogger("packdesk.schedule")


Gate = Callable[[str, Callable[[], None]], Callable[[], None]]  # e.g. ConnectivityMonitor.gated


class Jobs:
    def __init__(self) -> None:
        self.scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                           "misfire_grace_time": 6 * 3600})

    def daily(self, name: str, fn: Callable[[], object], hour: int, minute: int = 0,
              first_run_in: timedelta | None = None, weekdays_only: bool = False, gate: Gate | None = None) -> None:
        # the hours people set are Korea time (core/kst.py), whatever zone the PC's clock is in
        trigger = CronTrigger(hour=hour, minute=minute, day_of_week="mon-fri" if weekdays_only else "*",
                              timezone=KST)
        self.scheduler.add_job(self._gated(name, fn, gate), trigger, id=name, replace_existing=True)
        if first_run_in is not None:
            self.scheduler.add_job(self._gated(name, fn, gate), DateTrigger(datetime.now().astimezone() + first_run_in),
                                   id=f"{name}-startup", replace_existing=True)

    def every(self, name: str, fn: Callable[[], object], seconds: float, first_run_in: float | None = None,
              gate: Gate | None = None) -> None:
        """``fn`` every ``seconds`` (first after ``first_run_in`` s, default one interval); a run still going
        when the next is due is not doubled (max_instances=1) and missed ones are coalesced into one. ``gate``:
        what decides whether a run goes ahead (the connectivity monitor's: skipped offline, made up after)."""
        first = datetime.now().astimezone() + timedelta(seconds=seconds if first_run_in is None else first_run_in)
        self.scheduler.add_job(self._gated(name, fn, gate), IntervalTrigger(seconds=seconds), id=name,
                               replace_existing=True, next_run_time=first, misfire_grace_time=max(1, int(seconds)))

    @classmethod
    def _gated(cls, name: str, fn: Callable[[], object], gate: Gate | None) -> Callable[[], None]:
        safe = cls._safe(name, fn)
        return safe if gate is None else gate(name, safe)

    @staticmethod
    def _safe(name: str, fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception("scheduled job %s failed", name)
        return run

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
