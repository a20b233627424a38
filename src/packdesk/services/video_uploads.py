"""The video upload queue: every completed pack's video to the seller's storage by itself (settings:
``video_link.auto_upload``), so the buyer's link is ready before anyone asks (``services/video_link.py``).

The queue is the ``video_uploads`` table, one row per recording (a unique key: queued once), and survives
restarts and outages the way the dispatch outbox does (``services/dispatch.py``):

1. A pass first queues this station's completed packs of the last ``lookback`` (7 days: what a link can still
   serve) that have no row yet. Each station uploads its own recordings: the files are on its disk.
2. A row is claimed (PENDING -> UPLOADING, a conditional ``UPDATE ... WHERE state = 'pending'``) and committed
   before any byte is sent; after the upload it is DONE (only ``WHERE state = 'uploading'``), never claimed again.
3. UPLOADING found by a process that is not uploading it (the first pass after a start: a crash or kill -9 left
   it; or older than ``lease``) goes back to PENDING and is uploaded again, which costs nothing twice: the object's
   name is the video's (an object found there is complete and not sent again) and a multipart upload resumes
   from the parts the storage kept.
4. The storage away (unreachable, keys refused, bucket missing): the row goes back to PENDING with a backoff
   (``dispatch.backoff_delay``) and the pass stops; the rest wait. A video gone (retention, moved) is FAILED.

Threads: ``run_once`` runs on APScheduler's pool (app.py), never the UI thread or the station's DB thread;
every database write is one short transaction with no network call inside. Bandwidth is bounded by one
``Throttle`` for every upload; progress (bytes of the video being uploaded) reaches ``on_progress``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from packdesk.core import models as m
from packdesk.core.db import Database, changed_rows
from packdesk.core.enums import PackOutcome, RecordingStatus, UploadState
from packdesk.core.errors import KnownError
from packdesk.core.models import utcnow
from packdesk.services import video_link
from packdesk.services.dispatch import backoff_delay
from packdesk.services.review import ReviewError
from packdesk.services.video_link import PART_SIZE, Storage, Throttle, VideoLinkError

log = logging.getLogger("packdesk.video_uploads")

PASS_EVERY_S = 60
STORAGE_AWAY = {"video_link_unreachable", "video_link_keys_refused", "video_link_bucket_missing",
                "video_link_not_set_up", "video_link_failed", "video_link_cancelled"}


@dataclass(frozen=True)
class QueueProgress:
    """What the status bar shows: how many wait, and the video on its way (bytes)."""

    waiting: int
    failed: int
    recording_id: int | None = None
    bytes_done: int = 0
    bytes_total: int = 0


@dataclass
class QueueReport:
    queued: int = 0          # new rows this pass
    uploaded: int = 0        # DONE this pass (sent, or found complete in the storage)
    parts_sent: int = 0
    parts_kept: int = 0      # parts an earlier, killed try had sent
    retry: int = 0           # back to PENDING with a backoff
    failed: int = 0
    recovered: int = 0       # UPLOADING rows a dead process left, back to PENDING
    problem: str = ""        # the storage's trouble that stopped the pass (an error code), if any


class UploadQueue:
    def __init__(self, db: Database, storage: Callable[[], Storage], *, station: str, work_dir: Path,
                 part_size: int = PART_SIZE, throttle: Throttle | None = None,
                 on_progress: Callable[[QueueProgress], None] | None = None,
                 clock: Callable[[], datetime] = utcnow, rng: Callable[[], float] = random.random,
                 base_delay: float = 30.0, max_delay: float = 1800.0, lease: timedelta = timedelta(minutes=30),
                 lookback: timedelta = timedelta(days=7)) -> None:
        """``storage``: called at each pass (the keys are read from the keyring then; a refusal is a retry)."""
        self.db, self.storage, self.station, self.work_dir = db, storage, station, work_dir
        self.part_size, self.throttle = part_size, throttle or Throttle(None)
        self.on_progress, self.clock, self.rng = on_progress, clock, rng
        self.base_delay, self.max_delay, self.lease, self.lookback = base_delay, max_delay, lease, lookback
        self.cancel = threading.Event()  # ``close``: the upload on its way stops at its next read
        self._pass = threading.Lock()
        self._recovered = False

    # -- running -----------------------------------------------------------------------------------------
    def run_once(self) -> QueueReport:
        """One pass: recover, queue what is new, upload what is due until the storage says no."""
        report = QueueReport()
        if self.cancel.is_set() or not self._pass.acquire(blocking=False):
            return report
        try:
            self._recover(report)
            report.queued = self.enqueue_new()
            try:
                st = self.storage()
            except KnownError as e:
                report.problem = e.code
                log.info("video uploads wait: %s (%s)", e.code, e.detail)
                return report
            while not self.cancel.is_set():
                row = self._claim()
                if row is None:
                    break
                if not self._upload(st, *row, report):
                    break
        finally:
            self._pass.release()
            self.publish()
        return report

    def close(self) -> None:
        """No new passes; an upload on its way stops at its next read and resumes at the next start."""
        self.cancel.set()

    # -- the queue ---------------------------------------------------------------------------------------
    def enqueue_new(self) -> int:
        """Queue this station's completed packs of the last ``lookback`` that have no row yet."""
        R, U = m.Recording, m.VideoUpload
        since = self.clock() - self.lookback
        with self.db.session() as s:
            ids = s.scalars(select(R.id).where(
                R.station == self.station, R.started_at >= since, R.status == RecordingStatus.COMPLETE,
                R.pack_outcome == PackOutcome.COMPLETED, R.sha256 != "", R.deleted_at.is_(None),
                ~exists().where(U.recording_id == R.id)).order_by(R.id)).all()
        added = 0
        for rid in ids:  # one short transaction each: a row queued meanwhile (the unique key) is no error
            try:
                with self.db.session() as s:
                    s.add(U(recording_id=rid, station=self.station, state=UploadState.PENDING))
                added += 1
            except IntegrityError:
                pass
        if added:
            log.info("%d completed pack video(s) queued for upload", added)
        return added

    def _recover(self, report: QueueReport) -> None:
        U = m.VideoUpload
        now = self.clock()
        cond = U.updated_at < now - self.lease
        if not self._recovered:
            cond = U.station == self.station  # the first pass: nothing of ours is on its way yet
        with self.db.session() as s:
            report.recovered = changed_rows(s.execute(
                update(U).where(U.state == UploadState.UPLOADING, cond)
                .values(state=UploadState.PENDING, next_attempt_at=None, updated_at=now)))
        self._recovered = True
        if report.recovered:
            log.info("%d video upload(s) cut off before (a restart or a crash): resumed", report.recovered)

    def _claim(self) -> tuple[int, int] | None:
        """The next due row of this station, claimed and committed: (row id, recording id)."""
        U = m.VideoUpload
        now = self.clock()
        with self.db.session() as s:
            row = s.execute(select(U.id, U.recording_id).where(
                U.station == self.station, U.state == UploadState.PENDING,
                (U.next_attempt_at.is_(None)) | (U.next_attempt_at <= now)).order_by(U.id).limit(1)).first()
            if row is None:
                return None
            claimed = changed_rows(s.execute(update(U).where(U.id == row.id, U.state == UploadState.PENDING)
                                             .values(state=UploadState.UPLOADING, attempts=U.attempts + 1,
                                                     updated_at=now)))
        return (row.id, row.recording_id) if claimed == 1 else self._claim()

    def _upload(self, st: Storage, row_id: int, recording_id: int, report: QueueReport) -> bool:
        """Upload one claimed row; False: the storage is away, stop the pass."""
        last_part = [0]

        def progress(done: int, total: int) -> None:
            if done - last_part[0] >= self.part_size or done == total:  # one write a part
                last_part[0] = done
                self._set(row_id, bytes_done=done, bytes_total=total)
            self.publish(recording_id, done, total)

        try:
            src = video_link.source(self.db, recording_id)
            done = video_link.upload(st, src, self.work_dir, part_size=self.part_size, throttle=self.throttle,
                                     progress=progress, cancel=self.cancel)
        except ReviewError as e:  # the file is gone: no link can be made, no retry helps
            self._finish(row_id, UploadState.FAILED, error=e.code)
            report.failed += 1
            log.info("video of recording %s not uploaded: %s", recording_id, e.code)
            return True
        except VideoLinkError as e:
            cancelled = e.code == "video_link_cancelled"
            self._retry(row_id, e.code, now=cancelled)
            report.retry += 1
            report.problem = e.code
            log.info("video upload of recording %s waits: %s (%s)", recording_id, e.code, e.detail)
            return e.code not in STORAGE_AWAY
        except Exception:
            log.exception("video upload of recording %s failed (our bug): retried later", recording_id)
            self._retry(row_id, "error")
            report.retry += 1
            return False
        self._finish(row_id, UploadState.DONE, key=done.key, size=done.size)
        report.uploaded += 1
        report.parts_sent += done.parts_sent
        report.parts_kept += done.parts_kept
        return True

    # -- writes (each one short transaction, only on a row this process claimed) ------------------------------
    def _set(self, row_id: int, **values: object) -> None:
        U = m.VideoUpload
        with self.db.session() as s:
            s.execute(update(U).where(U.id == row_id, U.state == UploadState.UPLOADING)
                      .values(updated_at=self.clock(), **values))

    def _finish(self, row_id: int, state: UploadState, *, key: str = "", size: int = 0, error: str = "") -> None:
        U = m.VideoUpload
        now = self.clock()
        values: dict[str, object] = {"state": state, "last_error_code": error, "updated_at": now}
        if state is UploadState.DONE:
            values |= {"object_key": key, "bytes_done": size, "bytes_total": size, "uploaded_at": now}
        with self.db.session() as s:
            s.execute(update(U).where(U.id == row_id, U.state == UploadState.UPLOADING).values(**values))

    def _retry(self, row_id: int, code: str, *, now: bool = False) -> None:
        U = m.VideoUpload
        with self.db.session() as s:
            attempts = s.scalar(select(U.attempts).where(U.id == row_id)) or 1
            at = self.clock() if now else self.clock() + backoff_delay(attempts, self.base_delay, self.max_delay,
                                                                       self.rng)
            s.execute(update(U).where(U.id == row_id, U.state == UploadState.UPLOADING)
                      .values(state=UploadState.PENDING, next_attempt_at=at, last_error_code=code,
                              updated_at=self.clock()))

    # -- what people see -----------------------------------------------------------------------------------
    def counts(self) -> dict[UploadState, int]:
        U = m.VideoUpload
        with self.db.session() as s:
            rows = s.execute(select(U.state, func.count()).where(U.station == self.station).group_by(U.state)).all()
        return {state: n for state, n in rows}

    def publish(self, recording_id: int | None = None, done: int = 0, total: int = 0) -> None:
        if self.on_progress is None:
            return
        try:
            c = self.counts()
        except Exception:
            log.info("video upload counts unavailable", exc_info=True)
            return
        self.on_progress(QueueProgress(c.get(UploadState.PENDING, 0) + c.get(UploadState.UPLOADING, 0),
                                       c.get(UploadState.FAILED, 0), recording_id, done, total))
