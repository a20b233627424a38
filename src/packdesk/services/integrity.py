"""Proving recordings unaltered: re-hash every file and walk every station's hash chain.

Problems are named so a supervisor can act on each:
- ``altered``: the file's SHA-256 or size differs from its chain link (a flipped byte, a truncation, a swap);
- ``missing``: the file is gone and retention did not delete it;
- ``row_changed``: the index row no longer matches its link (waybill, station, times or id edited);
- ``row_missing``: a link points at an index row that was deleted;
- ``chain_broken``: a link is missing or its previous-hash does not follow (a link deleted or forged);
- ``unchained``: a closed recording with a hash but no link;
- ``unindexed``: a video file under the video folder that no index row names;
- ``deleted_unrecorded``: a row marked deleted with no deletion link: a file removed and its row marked
  "deleted by retention" by hand (retention chains every deletion it makes);
- ``chain_truncated``: the station's chain ends before the head this PC last saw (its anchor file): the
  newest links, rows and files were removed together;
- ``scans_changed``: a pack's scan events differ from its chain link (a scan edited, deleted, added or
  moved to another pack): what the evidence sheet prints is no longer what was scanned;
- ``outcome_changed``: a pack's outcome (its session row, or its recording's index row) is not the one
  chained; ``pack_changed``: another field of the pack's session row (waybill, parcel, packer, start, end);
- ``pack_missing``: a pack link points at a pack session that was deleted.
A pack that ended after its station's first pack link and has none is ``unchained`` too (packs ended before
the chain covered packs have no link, and are not reported).
A return inspection's link is checked the same way, the problem naming the inspection (``inspection_id``):
``scans_changed`` (a return scan edited, deleted or added, or an item line's final condition or "sent by the
order" edited), ``outcome_changed`` (the inspection's outcome), ``return_changed`` (another field of its row:
return code, original order, packer, start, end), ``return_missing`` (a chained inspection deleted), and
``unchained`` for an inspection ended after its station's first return link with none (inspections ended
before the chain covered returns have no link, and are not reported).

The anchor (``chain-anchor.json`` in the data folder, kept by the running station every 30 s) holds each
station's last (seq, hash) seen on this PC; someone able to edit the database, the files *and* that file
could still rewrite history, which anchoring the head outside the PC (printed, sent daily) would close.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.chain import (
    DELETED,
    GENESIS,
    NO_SCANS,
    PACK,
    RETURN,
    SCAN_COLUMNS,
    file_digest,
    head,
    link_hash,
    pack_link_hash,
    return_link_hash,
    return_scans_digest,
    return_scans_query,
    scans_digest,
)
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome, RecordingStatus

log = logging.getLogger("packdesk.integrity")
VIDEO_SUFFIXES = {".ts", ".mp4", ".mkv"}


@dataclass(frozen=True)
class Problem:
    kind: str
    detail: str
    recording_id: int | None = None
    path: str = ""
    pack_session_id: int | None = None
    inspection_id: int | None = None


@dataclass
class VerifyReport:
    checked_files: int = 0
    checked_links: int = 0
    checked_packs: int = 0  # pack links among the links: packs whose scans and outcome were checked
    checked_returns: int = 0  # return inspections' links among them
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
           station: str | None = None, anchors: Mapping[str, tuple[int, str]] | None = None) -> VerifyReport:
    """Files are hashed on several threads (hashlib releases the GIL), so hashing keeps up with the disk;
    the chain is walked in order as the digests come in. ``station``: that station's chain and files only
    (on a shared database the others' files are on their own PCs); ``None``: every station."""
    report = VerifyReport()
    with db.session() as s:
        q = select(m.ChainEntry).order_by(m.ChainEntry.station, m.ChainEntry.seq)
        links = s.scalars(q if station is None else q.where(m.ChainEntry.station == station)).all()
        every_rec = {r.id: r for r in s.scalars(select(m.Recording))}
        packs, pack_scans, unlinked_packs = _packs(s, station)
        inspections, inspection_scans, unlinked_returns = _returns(s, station)
    # a row deleted from the index is found by its link (row_missing); one of this station is checked here
    recs = every_rec if station is None else {i: r for i, r in every_rec.items() if r.station == station}
    linked_ids = {ln.recording_id for ln in links if ln.kind not in (PACK, RETURN)}
    recs.update((i, every_rec[i]) for i in linked_ids if i in every_rec)
    total = len(links)
    pool = cf.ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 1),
                                 thread_name_prefix="packdesk-verify")
    digests = [pool.submit(_digest, recs[ln.recording_id].path)
               if ln.kind not in (DELETED, PACK, RETURN) and ln.recording_id in recs else None for ln in links]
    linked: set[int] = set()
    deletions: set[int] = set()                       # recordings whose deletion by retention is chained
    gone: list[tuple[m.Recording, m.ChainEntry]] = []  # files not found: judged once every link is read
    prev_by_station: dict[str, tuple[int, str]] = {}
    hashes: dict[tuple[str, int], str] = {}
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
        hashes[(link.station, link.seq)] = link.entry_hash
        if link.kind == PACK:
            report.checked_packs += 1
            _check_linked(_PACK, link, packs.get(link.recording_id),
                          pack_scans.get(link.recording_id, (NO_SCANS, 0)), report)
            if progress:
                progress(i, total)
            continue
        if link.kind == RETURN:
            report.checked_returns += 1
            _check_linked(_RETURN, link, inspections.get(link.recording_id),
                          inspection_scans.get(link.recording_id, (NO_SCANS, 0)), report)
            if progress:
                progress(i, total)
            continue
        rec = recs.get(link.recording_id)
        linked.add(link.recording_id)
        if rec is None:
            report.problems.append(Problem("row_missing", f"{link.station} #{link.seq}: index row "
                                                          f"{link.recording_id} deleted", link.recording_id))
        else:
            if link_hash(link.prev_hash, rec, link.file_sha256, link.size_bytes, version=link.version,
                         kind=link.kind) != link.entry_hash:
                was = _chained_outcome(link, rec) if link.version >= 2 else None
                if was is not None:
                    report.problems.append(Problem("outcome_changed", f"index row {rec.id} ({rec.tracking_number})"
                                                                      f": outcome {rec.pack_outcome}, chained as "
                                                                      f"{was}", rec.id, rec.path))
                else:
                    report.problems.append(Problem("row_changed", f"index row {rec.id} ({rec.tracking_number}) "
                                                                  "differs from its chain link", rec.id, rec.path))
            if link.kind == DELETED:
                deletions.add(rec.id)
            else:
                future = digests[i - 1]
                got = future.result() if future else None
                if got is None:
                    gone.append((rec, link))
                else:
                    _check_file(rec, link, got, report)
        if progress:
            progress(i, total)
    for f in digests:
        if f is not None:
            f.cancel()
    pool.shutdown(wait=True)
    for rec, link in gone:
        if rec.id in deletions or (rec.deleted_at is not None and link.version < 2):
            continue  # deleted by retention (before chain version 2, deletions were not chained)
        kind = "deleted_unrecorded" if rec.deleted_at is not None else "missing"
        what = "is gone, its row marked deleted with no deletion link" if rec.deleted_at else "is gone"
        report.problems.append(Problem(kind, f"{rec.path} {what}", rec.id, rec.path))
    for name, (seq, expected) in (anchors or {}).items():
        if (station is not None and name != station) or cancelled():
            continue
        last = prev_by_station.get(name, (0, GENESIS))[0]
        if last < seq or hashes.get((name, seq)) != expected:
            report.problems.append(Problem("chain_truncated", f"{name}: this PC saw link #{seq} ({expected[:12]}…); "
                                                              f"the chain now ends at #{last}"))
    for sid, key in unlinked_packs:
        report.problems.append(Problem("unchained", f"pack {sid} ({key}) ended with no chain link",
                                       pack_session_id=sid))
    for iid, key in unlinked_returns:
        report.problems.append(Problem("unchained", f"return inspection {iid} ({key}) ended with no chain link",
                                       inspection_id=iid))
    for rec in recs.values():
        if rec.sha256 and rec.id not in linked and rec.status in (RecordingStatus.COMPLETE, RecordingStatus.RECOVERED):
            report.problems.append(Problem("unchained", f"recording {rec.id} ({rec.tracking_number}) has no chain "
                                                        "link", rec.id, rec.path))
    if video_root is not None and video_root.is_dir():  # a shared folder holds every station's files
        known = {str(Path(r.path).resolve()) for r in every_rec.values()}
        for file in sorted(video_root.rglob("*")):
            if file.is_file() and file.suffix.lower() in VIDEO_SUFFIXES and str(file.resolve()) not in known:
                report.problems.append(Problem("unindexed", f"{file} is not in the index", None, str(file)))
    for p in report.problems:
        log.warning("verify: %s: %s", p.kind, p.detail)
    return report


def _packs(s: Session, station: str | None
           ) -> tuple[dict[int, m.PackSession], dict[int, tuple[str, int]], list[tuple[int, str]]]:
    """The chained packs' sessions, their scans' (digest, count), read in one pass in id order, and the ended
    packs without a link that should have one (ended after their station's first pack link)."""
    C, P, E = m.ChainEntry, m.PackSession, m.ScanEvent
    chained = select(C.recording_id).where(C.kind == PACK)
    if station is not None:
        chained = chained.where(C.station == station)
    packs = {p.id: p for p in s.scalars(select(P).where(P.id.in_(chained)))}
    stream = s.execute(select(E.pack_session_id, *SCAN_COLUMNS).where(E.pack_session_id.in_(chained))
                       .order_by(E.pack_session_id, E.id).execution_options(yield_per=2000))
    scans = {sid: scans_digest(evs) for sid, evs in groupby(stream, key=lambda ev: ev.pack_session_id)
             if sid is not None}
    return packs, scans, _unlinked(s, PACK, P, station)


def _returns(s: Session, station: str | None
             ) -> tuple[dict[int, m.ReturnInspection], dict[int, tuple[str, int]], list[tuple[int, str]]]:
    """As ``_packs``, for return inspections: the chained ones, their scans' (digest, count), and those ended
    after their station's first return link with none."""
    C, RI = m.ChainEntry, m.ReturnInspection
    chained = select(C.recording_id).where(C.kind == RETURN)
    if station is not None:
        chained = chained.where(C.station == station)
    inspections = {r.id: r for r in s.scalars(select(RI).where(RI.id.in_(chained)))}
    stream = s.execute(return_scans_query().where(m.ReturnScan.inspection_id.in_(chained))
                       .execution_options(yield_per=2000))
    scans = {iid: return_scans_digest(rows) for iid, rows in groupby(stream, key=lambda r: r.inspection_id)
             if iid is not None}
    return inspections, scans, _unlinked(s, RETURN, RI, station)


def _unlinked(s: Session, kind: str, rows: type[m.PackSession] | type[m.ReturnInspection], station: str | None
              ) -> list[tuple[int, str]]:
    """(id, key) of the ended packs or inspections that have no link of ``kind`` although they ended after their
    station's first one (before it, the chain had no such links: nothing to miss)."""
    C = m.ChainEntry
    first = select(C.station, func.min(C.recording_id).label("first")).where(C.kind == kind).group_by(C.station)
    if station is not None:
        first = first.where(C.station == station)
    unlinked: list[tuple[int, str]] = []
    for name, first_id in s.execute(first).all():
        unlinked += [(r.id, r.key) for r in s.execute(
            select(rows.id, rows.key).where(rows.station == name, rows.id > first_id,
                                            rows.outcome != PackOutcome.OPEN,
                                            rows.id.not_in(select(C.recording_id).where(C.kind == kind,
                                                                                        C.station == name)))
            .order_by(rows.id))]
    return unlinked


def _chained_outcome(link: m.ChainEntry, rec: m.Recording) -> PackOutcome | None:
    """The outcome a recording's link was made with, when the row differs from it in its outcome alone."""
    for o in PackOutcome:
        if o != rec.pack_outcome and link_hash(link.prev_hash, rec, link.file_sha256, link.size_bytes,
                                               version=link.version, kind=link.kind, outcome=o) == link.entry_hash:
            return o
    return None


@dataclass(frozen=True)
class _Linked:
    """What a pack's or a return inspection's link is checked with, and the words its problems are told in."""

    kind: str                   # "pack" | "return": the problems' codes (pack_missing, return_changed, ...)
    row: str                    # the row named when it is gone
    scans: str                  # what the scans are, when they differ
    fields: str                 # what the link covers besides the scans
    link_hash: Callable[..., str]
    id_field: str               # the Problem field naming the row
    key_field: str              # the row's column that people know it by

    def describe(self, row: Any) -> str:
        return f"{self.kind} {row.id} ({getattr(row, self.key_field)}, {row.started_at:%Y-%m-%d %H:%M})"


_PACK = _Linked("pack", "pack session", "scan event(s) now, {chained} chained; the scans differ from their chain link",
                "the pack (waybill, parcel, packer, start, end or its link's scan digest)", pack_link_hash,
                "pack_session_id", "key")
_RETURN = _Linked("return", "return inspection",
                  "return scan(s) now, {chained} chained; its scans or their items' conditions differ from their "
                  "chain link",
                  "the inspection (return code, original order, packer, start, end or its link's scan digest)",
                  return_link_hash, "inspection_id", "return_code")


def _check_linked(what: _Linked, link: m.ChainEntry, row: m.PackSession | m.ReturnInspection | None,
                  got: tuple[str, int], report: VerifyReport) -> None:
    """A pack's or return inspection's link against its scans and its row, each difference named: the row gone,
    the scans changed, the outcome changed (the link's hash matches another outcome), anything else changed."""
    def problem(kind: str, detail: str, row_id: int) -> None:  # a report's kind of problem, not a message code
        pack_id, inspection_id = (row_id, None) if what.id_field == "pack_session_id" else (None, row_id)
        report.problems.append(Problem(kind, detail, pack_session_id=pack_id, inspection_id=inspection_id))

    if row is None:
        problem(f"{what.kind}_missing", f"{link.station} #{link.seq}: {what.row} {link.recording_id} deleted",
                link.recording_id)
        return
    said = what.describe(row)
    if got != (link.file_sha256, link.size_bytes):
        problem("scans_changed", f"{said}: {got[1]} " + what.scans.format(chained=link.size_bytes), row.id)
    if what.link_hash(link.prev_hash, row, link.file_sha256, link.size_bytes) == link.entry_hash:
        return
    was = next((o for o in PackOutcome if o != row.outcome and what.link_hash(
        link.prev_hash, row, link.file_sha256, link.size_bytes, outcome=o) == link.entry_hash), None)
    if was is not None:
        problem("outcome_changed", f"{said}: outcome {row.outcome}, chained as {was}", row.id)
    else:
        problem(f"{what.kind}_changed", f"{said}: {what.fields} differs from its chain link", row.id)


def _digest(path: str) -> tuple[str, int] | None:
    p = Path(path)
    return file_digest(p) if p.is_file() else None


def _check_file(rec: m.Recording, link: m.ChainEntry, got: tuple[str, int], report: VerifyReport) -> None:
    path = Path(rec.path)
    digest, size = got
    report.checked_files += 1
    report.bytes_hashed += size
    if (digest, size) != (link.file_sha256, link.size_bytes):
        report.problems.append(Problem("altered", f"{path}: {size} bytes, sha256 {digest[:12]}…, chain says "
                                                  f"{link.size_bytes} bytes, {link.file_sha256[:12]}…", rec.id,
                                       rec.path))


# ------------------------------------------------------------------ the anchor: this PC's memory of the head

ANCHOR_FILE = "chain-anchor.json"


def read_anchors(path: Path) -> dict[str, tuple[int, str]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {k: (int(v["seq"]), str(v["hash"])) for k, v in raw.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def update_anchor(db: Database, station: str, path: Path) -> str:
    """Remember the station's chain head on this PC. "ok" (unchanged), "advanced", or "truncated": the chain
    ends before, or differs at, the remembered head; then the anchor is left as it is (it is the evidence)
    and the problem logged. Atomic write."""
    anchors = read_anchors(path)
    with db.session() as s:
        now = head(s, station)
        seen = anchors.get(station)
        if seen is not None:
            at_seen = s.scalar(select(m.ChainEntry.entry_hash).where(m.ChainEntry.station == station,
                                                                     m.ChainEntry.seq == seen[0]))
            if now is None or now[0] < seen[0] or at_seen != seen[1]:
                log.error("hash chain of %s ends at %s, before the head this PC saw (#%s): recordings were "
                          "removed with their links", station, now[0] if now else 0, seen[0])
                return "truncated"
    if now is None or now == seen:
        return "ok"
    anchors[station] = now
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({k: {"seq": v[0], "hash": v[1]} for k, v in anchors.items()}, indent=1),
                   encoding="utf-8")
    os.replace(tmp, path)
    return "advanced"
