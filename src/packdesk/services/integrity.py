"""Proving recordings unaltered: re-hash every file and walk every station's hash chain.

Problems are named so a supervisor can act on each:
- ``altered``: the file's SHA-256 or size differs from its chain link (a flipped byte, a truncation, a swap);
- ``missing``: the file is gone and retention did not delete it;
- ``row_changed``: the index row no longer matches its link (waybill, station, times or id edited);
- ``row_missing``: a link points at an index row that was deleted;
- ``chain_broken``: a link is missing or its previous-hash does not follow (a link deleted or forged);
- ``unchained``: a closed recording with a hash but no link;
- ``unindexed``: a video file under the video folder that no index row names.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.chain import GENESIS, file_digest, link_hash
from packdesk.core.db import Database
from packdesk.core.enums import RecordingStatus

log = logging.getLogger("packdesk.integrity")
VIDEO_SUFFIXES = {".ts", ".mp4", ".mkv"}


@dataclass(frozen=True)
class Problem:
    kind: str
    detail: str
    recording_id: int | None = None
    path: str = ""


@dataclass
class VerifyReport:
    checked_files: int = 0
    checked_links: int = 0
    bytes_hashed: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.problems:
            out[p.kind] = out.get(p.kind, 0) + 1
        return out


Progress = Callable[[int, int], None]  # (done, total)


def verify(db: Database, video_root: Path | None = None, *, progress: Progress | None = None,
           cancelled: Callable[[], bool] = lambda: False, workers: int | None = None,
           station: str | None = None) -> VerifyReport:
    """Files are hashed on several threads (hashlib releases the GIL), so hashing keeps up with the disk;
    the chain is walked in order as the digests come in. ``station``: that station's chain and files only
    (on a shared database the others' files are on their own PCs); ``None``: every station."""
    report = VerifyReport()
    with db.session() as s:
        q = select(m.ChainEntry).order_by(m.ChainEntry.station, m.ChainEntry.seq)
        links = s.scalars(q if station is None else q.where(m.ChainEntry.station == station)).all()
        every_rec = {r.id: r for r in s.scalars(select(m.Recording))}
    # a row deleted from the index is found by its link (row_missing); one of this station is checked here
    recs = every_rec if station is None else {i: r for i, r in every_rec.items() if r.station == station}
    linked_ids = {ln.recording_id for ln in links}
    recs.update((i, every_rec[i]) for i in linked_ids if i in every_rec)
    total = len(links)
    pool = cf.ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 1),
                                 thread_name_prefix="packdesk-verify")
    digests = [pool.submit(_digest, recs[ln.recording_id].path) if ln.recording_id in recs else None
               for ln in links]
    linked: set[int] = set()
    prev_by_station: dict[str, tuple[int, str]] = {}
    for i, link in enumerate(links, 1):
        if cancelled():
            break
        report.checked_links += 1
        seq, prev = prev_by_station.get(link.station, (0, GENESIS))
        if link.seq != seq + 1 or link.prev_hash != prev:
            report.problems.append(Problem("chain_broken", f"{link.station} #{link.seq}: expected #{seq + 1} "
                                                           f"after {prev[:12]}…, found prev {link.prev_hash[:12]}…",
                                           link.recording_id))
        prev_by_station[link.station] = (link.seq, link.entry_hash)
        rec = recs.get(link.recording_id)
        linked.add(link.recording_id)
        if rec is None:
            report.problems.append(Problem("row_missing", f"{link.station} #{link.seq}: index row "
                                                          f"{link.recording_id} deleted", link.recording_id))
        else:
            if link_hash(link.prev_hash, rec, link.file_sha256, link.size_bytes) != link.entry_hash:
                report.problems.append(Problem("row_changed", f"index row {rec.id} ({rec.tracking_number}) "
                                                              "differs from its chain link", rec.id, rec.path))
            future = digests[i - 1]
            _check_file(rec, link, future.result() if future else None, report)
        if progress:
            progress(i, total)
    for f in digests:
        if f is not None:
            f.cancel()
    pool.shutdown(wait=True)
    for rec in recs.values():
        if rec.sha256 and rec.id not in linked and rec.status in (RecordingStatus.COMPLETE, RecordingStatus.RECOVERED):
            report.problems.append(Problem("unchained", f"recording {rec.id} ({rec.tracking_number}) has no chain "
                                                        "link", rec.id, rec.path))
    if video_root is not None and video_root.is_dir():  # a shared folder holds every station's files
        known = {str(Path(r.path).resolve()) for r in every_rec.values()}
        for f in sorted(video_root.rglob("*")):
            if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES and str(f.resolve()) not in known:
                report.problems.append(Problem("unindexed", f"{f} is not in the index", None, str(f)))
    for p in report.problems:
        log.warning("verify: %s: %s", p.kind, p.detail)
    return report


def _digest(path: str) -> tuple[str, int] | None:
    p = Path(path)
    return file_digest(p) if p.is_file() else None


def _check_file(rec: m.Recording, link: m.ChainEntry, got: tuple[str, int] | None, report: VerifyReport) -> None:
    path = Path(rec.path)
    if got is None:
        if rec.deleted_at is None:
            report.problems.append(Problem("missing", f"{path} is gone", rec.id, rec.path))
        return
    digest, size = got
    report.checked_files += 1
    report.bytes_hashed += size
    if (digest, size) != (link.file_sha256, link.size_bytes):
        report.problems.append(Problem("altered", f"{path}: {size} bytes, sha256 {digest[:12]}…, chain says "
                                                  f"{link.size_bytes} bytes, {link.file_sha256[:12]}…", rec.id,
                                       rec.path))
