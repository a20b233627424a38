"""A claim bundle (issue #21): one folder or zip that answers a marketplace's claim team, or a court, for one
order without PackDesk.

It holds, for every recording of the subject: the original file as recorded (.ts, byte for byte: its SHA-256
is the one the index and the hash chain hold), an .mp4 copy to play (packets copied, nothing re-encoded: the
review's "Export whole" remux, ``services/review.export_clip``), and the evidence sheet PDF; for every pack: its
scans, readable (``scans.csv``, Korea time, UTF-8 with a BOM so Excel reads the Korean), and exactly as the
chain hashed them; the chain links that cover each recording and each pack, each written out field by field
with the formula, so a SHA-256 tool recomputes them; ``SHA256SUMS`` in the format ``sha256sum -c`` reads; and
``검증방법-HOW-TO-VERIFY.txt`` (Korean, then English) saying how to check all of it with standard tools.

A recording whose file is gone is listed with why (``recordings.csv``, the how-to text), never silently left
out. A file whose hash no longer matches its link is still included, and named "altered": the bundle never
claims more than the evidence shows.

Buyer data: no more than the evidence sheet already shows for a claim — the order number, the waybill, and the
recipient's initials on the sheet. No name, phone, address or delivery message: a claim team matches the parcel
by its order and waybill numbers, and the bundle may be forwarded to people who have no need for the rest.

The bundle is built in a hidden staging folder beside the destination and only then renamed into place (a
zip: written under a temporary name, then renamed), so a failure or a full disk never leaves half a bundle
under the final name.

The subject is a list of recordings and packs (``Subject``): ``order_subject`` and ``recording_subject`` find an
order's; ``return_subject`` a return inspection's (kind "return"): the return's own video and the outbound pack
it was linked to with that pack's video, so both films answer one claim, and the inspection's scans with each
item's condition as their own ``return_scans.csv``, and the inspection's chain link (kind ``return``: its scans
with each item's final condition, and its outcome), written out as a pack's is. ``kind``/``label`` name it in
the files. The evidence sheet PDF is drawn by the screens (Qt): the caller passes ``write_sheet``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import av
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from packdesk.core import chain, words
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.digest import file_digest
from packdesk.core.enums import RecordingStatus
from packdesk.core.errors import KnownError
from packdesk.core.filenames import safe_file_part
from packdesk.core.kst import kst
from packdesk.services import returns, review
from packdesk.services.evidence import Evidence, gather, with_frames

log = logging.getLogger("packdesk.claim_bundle")

HOW_TO = "검증방법-HOW-TO-VERIFY.txt"
SUMS = "SHA256SUMS"
SCANS_CSV = "scans.csv"
RETURN_SCANS_CSV = "return_scans.csv"
RECORDINGS_CSV = "recordings.csv"
LINKS_TEXT = "chain/links.txt"
LINKS_JSON = "chain/links.json"
BOM = "\ufeff"

SheetWriter = Callable[[Evidence, Path, str], Path]  # (evidence, pdf path, clip name) -> the pdf written
Progress = Callable[[int, int], None]                # (done, total)


class ClaimBundleError(KnownError):
    """Why no bundle was made: the code selects the words (``core/words/errors.py``)."""


@dataclass(frozen=True)
class Subject:
    """What a bundle answers for: an order (``kind`` "order"), a waybill, or a return inspection ("return":
    its ``inspection_ids``). ``label`` names it in the folder's name and the texts (order numbers, a return
    label: not a person's name)."""

    kind: str
    label: str
    recording_ids: tuple[int, ...]
    pack_session_ids: tuple[int, ...] = ()
    inspection_ids: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.recording_ids or self.pack_session_ids or self.inspection_ids)


# ------------------------------------------------------------------------------------------ finding a subject

def _subject_of_orders(s: Session, order_ids: Iterable[int]) -> Subject:
    """The orders' packs (by their lines' waybills or parcels) and recordings (of those packs, and any other
    recording under the same waybill numbers: one cut short before its pack was known)."""
    ids = sorted(set(order_ids))
    L, P, R, W = m.OrderLine, m.PackSession, m.Recording, m.Waybill
    labels = list(s.scalars(select(m.Order.order_no).where(m.Order.id.in_(ids)).order_by(m.Order.order_no)))
    waybills = select(L.waybill_id).where(L.order_id.in_(ids), L.waybill_id.is_not(None))
    parcels = select(L.parcel_id).where(L.order_id.in_(ids), L.parcel_id.is_not(None))
    packs = list(s.scalars(select(P.id).where(or_(P.waybill_id.in_(waybills), P.parcel_id.in_(parcels)))
                           .order_by(P.id)))
    numbers = select(W.tracking_number).where(W.id.in_(waybills))
    recs = list(s.scalars(select(R.id).where(or_(R.pack_session_id.in_(packs), R.tracking_number.in_(numbers)))
                          .order_by(R.started_at, R.id)))
    return Subject("order", ", ".join(labels), tuple(recs), tuple(packs))


def order_subject(s: Session, order_id: int) -> Subject:
    """The order's packs and recordings (an order on a combined waybill brings the waybill's packs: one box)."""
    if s.get(m.Order, order_id) is None:
        raise ClaimBundleError("order_not_found", detail=f"order {order_id}")
    return _subject_of_orders(s, [order_id])


def recording_subject(s: Session, recording_id: int) -> Subject:
    """The order(s) of the recording's waybill; a recording of no known order: its waybill's packs and
    recordings alone. A return inspection's video: that return's bundle (its scans, and the outbound film)."""
    rec = s.get(m.Recording, recording_id)
    if rec is None:
        raise ClaimBundleError("recording_not_found", recording_id=recording_id)
    inspection = s.scalar(select(m.ReturnInspection.id).where(m.ReturnInspection.key == rec.pack_key))
    if inspection is not None:
        return return_subject(s, inspection)
    L, W, R = m.OrderLine, m.Waybill, m.Recording
    orders = list(s.scalars(select(L.order_id).distinct().join(W, W.id == L.waybill_id)
                            .where(W.tracking_number == rec.tracking_number)))
    if orders:
        subject = _subject_of_orders(s, orders)
        if recording_id in subject.recording_ids:
            return subject
    recs = tuple(s.scalars(select(R.id).where(R.tracking_number == rec.tracking_number).order_by(R.started_at, R.id)))
    packs = tuple(sorted({p for p in s.scalars(select(R.pack_session_id).where(R.id.in_(recs))) if p is not None}))
    return Subject("waybill", rec.tracking_number, recs, packs)


def return_subject(s: Session, inspection_id: int) -> Subject:
    """The return's own recording(s) (filmed under the inspection's key) and the outbound pack the inspection was
    linked to, with that pack's recordings — the two films the review plays side by side. An inspection never
    linked to an original (an unknown label, then cancelled) is its own video and scans alone."""
    RI, R = m.ReturnInspection, m.Recording
    insp = s.get(RI, inspection_id)
    if insp is None:
        raise ClaimBundleError("return_not_found", detail=f"return inspection {inspection_id}")
    own = list(s.scalars(select(R.id).where(R.pack_key == insp.key).order_by(R.started_at, R.id)))
    pack = insp.original_pack_session_id
    outbound = [] if pack is None else list(s.scalars(select(R.id).where(R.pack_session_id == pack)
                                                     .order_by(R.started_at, R.id)))
    return Subject("return", insp.return_code, (*outbound, *own), (pack,) if pack is not None else (), (insp.id,))


# ------------------------------------------------------------------------------------------ what is read

@dataclass(frozen=True)
class Link:
    """One chain link as the bundle writes it: the names and values it covers, and whether they still hash to
    it (``matches``: False when the index was edited since; ``packdesk verify`` names what)."""

    station: str
    seq: int
    kind: str
    version: int
    entry_hash: str
    prev_hash: str
    covers: str                 # "recording 12", "pack 5" or "return 3"
    names: tuple[str, ...]
    fields: list[str]
    scans_text: bytes = b""     # a pack's or a return's link: the bytes its scans_sha256 is the digest of

    @property
    def has_scans(self) -> bool:
        return self.kind in (chain.PACK, chain.RETURN)

    @property
    def matches(self) -> bool:
        return chain.sha256_of_fields(self.fields) == self.entry_hash

    @property
    def file_name(self) -> str:
        return f"chain/{safe_file_part(self.station, 'station')}-{self.seq:06d}.txt"

    @property
    def scans_file_name(self) -> str:
        return f"chain/{safe_file_part(self.station, 'station')}-{self.seq:06d}-scans.txt"


@dataclass(frozen=True)
class _Rec:
    id: int
    tracking_number: str
    order_nos: str
    station: str
    packer_name: str
    started_at: datetime
    ended_at: datetime | None
    path: Path
    sha256: str
    size_bytes: int
    status: RecordingStatus
    deleted: bool
    outcome: str
    pack_session_id: int | None
    recorder: str


@dataclass(frozen=True)
class _Pack:
    id: int
    key: str
    tracking_number: str
    station: str
    packer_name: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    scans: list[review.ScanRow]


@dataclass(frozen=True)
class _Return:
    row: returns.InspectionRow
    recording_ids: tuple[int, ...]           # its own video(s); the others in the bundle are the outbound pack's
    scans: list[returns.ReturnScanRow]       # offsets in its first video
    items: dict[int, tuple[bool, str]]       # line_no -> (sent by the order, its condition as the inspection ended)


@dataclass
class _Read:
    recs: list[_Rec]
    packs: list[_Pack]
    links: list[Link]
    returns: list[_Return] = field(default_factory=list)


def _read_returns(s: Session, inspection_ids: Iterable[int]) -> list[_Return]:
    R, RI = m.Recording, m.ReturnItem
    out: list[_Return] = []
    for iid in sorted(set(inspection_ids)):
        row = returns.inspection_row(s, iid)
        if row is None:
            continue
        videos = list(s.execute(select(R.id, R.started_at).where(R.pack_key == row.key)
                                .order_by(R.started_at, R.id)))
        items = {i.line_no: (i.expected, i.condition) for i in s.execute(
            select(RI.line_no, RI.expected, RI.condition).where(RI.inspection_id == iid))}
        out.append(_Return(row, tuple(v.id for v in videos),
                           returns.inspection_scans(s, iid, videos[0].started_at if videos else None), items))
    return out


def _read(s: Session, subject: Subject) -> _Read:
    R, P, C, W = m.Recording, m.PackSession, m.ChainEntry, m.Waybill
    rec_rows = list(s.scalars(select(R).where(R.id.in_(subject.recording_ids)).order_by(R.started_at, R.id)))
    pack_ids = sorted(set(subject.pack_session_ids) | {r.pack_session_id for r in rec_rows if r.pack_session_id})
    links: list[Link] = []
    for link in s.scalars(select(C).where(C.kind.in_((chain.RECORDING, chain.DELETED)),
                                          C.recording_id.in_(subject.recording_ids)).order_by(C.station, C.seq)):
        rec = next(r for r in rec_rows if r.id == link.recording_id)
        names = chain.LINK_FIELDS_V2 if link.version >= 2 else chain.LINK_FIELDS_V1
        if link.version >= 2 and link.kind == chain.DELETED:
            names = (*names, "deleted_at_utc")
        fields = chain.link_fields(link.prev_hash, rec, link.file_sha256, link.size_bytes, version=link.version,
                                   kind=link.kind)
        links.append(Link(link.station, link.seq, link.kind, link.version, link.entry_hash, link.prev_hash,
                          f"recording {rec.id}", names, fields))
    packs: list[_Pack] = []
    pack_rows = {p.id: p for p in s.scalars(select(P).where(P.id.in_(pack_ids)))}
    for link in s.scalars(select(C).where(C.kind == chain.PACK, C.recording_id.in_(pack_ids))
                          .order_by(C.station, C.seq)):
        ps = pack_rows.get(link.recording_id)
        if ps is None:
            continue
        text = b"".join(chain.scan_line(ev) + b"\n" for ev in chain.pack_scans(s, ps.id))
        fields = chain.pack_link_fields(link.prev_hash, ps, link.file_sha256, link.size_bytes)
        links.append(Link(link.station, link.seq, link.kind, link.version, link.entry_hash, link.prev_hash,
                          f"pack {ps.id}", chain.PACK_LINK_FIELDS, fields, text))
    ret_rows = {r.id: r for r in s.scalars(select(m.ReturnInspection)
                                           .where(m.ReturnInspection.id.in_(subject.inspection_ids)))}
    for link in s.scalars(select(C).where(C.kind == chain.RETURN, C.recording_id.in_(list(ret_rows)))
                          .order_by(C.station, C.seq)):
        ri = ret_rows[link.recording_id]
        text = b"".join(chain.return_scan_line(sc) + b"\n" for sc in chain.return_scans(s, ri.id))
        fields = chain.return_link_fields(link.prev_hash, ri, link.file_sha256, link.size_bytes)
        links.append(Link(link.station, link.seq, link.kind, link.version, link.entry_hash, link.prev_hash,
                          f"return {ri.id}", chain.RETURN_LINK_FIELDS, fields, text))
    numbers: dict[int, str] = {r.id: r.tracking_number for r in s.execute(select(W.id, W.tracking_number).where(
        W.id.in_([p.waybill_id for p in pack_rows.values() if p.waybill_id])))}
    for pid in pack_ids:
        ps = pack_rows.get(pid)
        if ps is None:
            continue
        packs.append(_Pack(ps.id, ps.key, numbers.get(ps.waybill_id or 0, ""), ps.station, ps.packer_name,
                           ps.started_at, ps.ended_at, str(ps.outcome),
                           review.pack_scans(s, ps.id)))
    recs = [_Rec(r.id, r.tracking_number, r.order_nos, r.station, r.packer_name, r.started_at, r.ended_at,
                 Path(r.path), r.sha256, r.size_bytes, r.status, r.deleted_at is not None, str(r.pack_outcome),
                 r.pack_session_id, r.recorder) for r in rec_rows]
    links.sort(key=lambda ln: (ln.station, ln.seq))
    return _Read(recs, packs, links, _read_returns(s, subject.inspection_ids))


# ------------------------------------------------------------------------------------------ the result

# what became of each recording, in the files (both languages: the reader is outside the warehouse)
STATE_TEXT = {
    "ok": ("원본 포함, 해시 일치", "original included, its hash matches"),
    "altered": ("원본 포함, 그러나 해시가 색인과 다름 — 변경된 파일", "original included, but its hash differs "
                "from the index — the file was altered"),
    "unhashed": ("원본 포함, 그러나 색인에 해시가 없음 (체인 밖)", "original included, but the index holds no hash "
                 "for it (not in the chain)"),
    "missing": ("파일 없음 — 원본을 찾을 수 없음", "file missing — the original cannot be found"),
    "deleted": ("보존 기간이 지나 삭제됨 (삭제도 체인에 기록)", "deleted by retention (the deletion is chained)"),
    "failed": ("녹화 실패 — 파일 없음", "the recording failed — no file"),
    "recording": ("아직 녹화 중 — 파일이 닫히지 않아 넣지 않음", "still recording — its file is not closed, not "
                  "included"),
    "external": ("영상은 리얼패킹 프로그램에 있음 — 그곳에서 송장번호로 찾으세요",
                 "the video is kept by the RealPacking program — find it there by the waybill"),
}
UNREADABLE = (av.error.FFmpegError, IndexError)  # a file no demuxer reads, or one with no video stream
EXTERNAL_RECORDERS = ("realpacking",)  # recorders whose videos are kept outside PackDesk (a marker path, no file)


@dataclass(frozen=True)
class BundleEntry:
    """One recording in the bundle: ``state`` is a key of ``STATE_TEXT``; paths are inside the bundle."""

    recording_id: int
    tracking_number: str
    state: str
    original: str = ""
    mp4: str = ""
    sheet: str = ""


@dataclass(frozen=True)
class BundleResult:
    path: Path                    # the folder, or the .zip
    subject: Subject
    entries: list[BundleEntry]
    packs: int
    scans: int
    links: int
    files: list[str] = field(default_factory=list)  # every file listed in SHA256SUMS
    return_scans: int = 0         # rows of return_scans.csv (a return's bundle)

    @property
    def missing(self) -> list[BundleEntry]:
        """Recordings whose original is not in the bundle (each listed in it with why)."""
        return [e for e in self.entries if not e.original]

    @property
    def attention(self) -> list[BundleEntry]:
        """Every recording that is not simply "ok": missing, or included but not as the index says."""
        return [e for e in self.entries if e.state != "ok"]


# ------------------------------------------------------------------------------------------ building

def bundle_name(subject: Subject, at: datetime) -> str:
    """``claim_<order>_<YYYYMMDD-HHMMSS>`` in Korea time: ASCII, so every zip tool keeps it."""
    return f"claim_{safe_file_part(subject.label, subject.kind, 60)}_{kst(at):%Y%m%d-%H%M%S}"


def build(db: Database, subject: Subject, dest_dir: Path, *, as_zip: bool, write_sheet: SheetWriter,
          progress: Progress | None = None, now: datetime | None = None) -> BundleResult:
    """Make the bundle in ``dest_dir`` (a folder, or a ``.zip`` when ``as_zip``). Long: off the UI thread."""
    if subject.empty:
        raise ClaimBundleError("claim_bundle_empty", subject=subject.label)
    at = now or datetime.now(UTC)
    with db.session() as s:
        data = _read(s, subject)
    if not data.recs and not data.packs and not data.returns:
        raise ClaimBundleError("claim_bundle_empty", subject=subject.label)
    name = bundle_name(subject, at)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=dest_dir))
    except OSError as e:
        raise ClaimBundleError("claim_bundle_write_failed", path=str(dest_dir), detail=repr(e)) from e
    part_zip = dest_dir / f".{name}.zip.part"
    try:
        root = staging / name
        root.mkdir()
        entries = _write_contents(db, root, data, subject, at, write_sheet, progress)
        files = _write_sums(root)
        if as_zip:
            final = _free(dest_dir, name, ".zip")
            _zip(root, part_zip, name)
            os.replace(part_zip, final)
        else:
            final = _free(dest_dir, name, "")
            os.replace(root, final)
    except OSError as e:
        raise ClaimBundleError("claim_bundle_write_failed", path=str(dest_dir), detail=repr(e)) from e
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        part_zip.unlink(missing_ok=True)
    result = BundleResult(final, subject, entries, len(data.packs), sum(len(p.scans) for p in data.packs),
                          len(data.links), files, sum(len(r.scans) for r in data.returns))
    log.info("claim bundle %s: %d recording(s) (%d not included), %d pack(s), %d link(s) -> %s", subject.kind,
             len(entries), len(result.missing), result.packs, result.links, final)
    return result


def _free(folder: Path, stem: str, suffix: str) -> Path:
    path, n = folder / f"{stem}{suffix}", 2
    while path.exists():
        path, n = folder / f"{stem}_{n}{suffix}", n + 1
    return path


def _write_contents(db: Database, root: Path, data: _Read, subject: Subject, at: datetime,
                    write_sheet: SheetWriter, progress: Progress | None) -> list[BundleEntry]:
    total, done = len(data.recs) * 3 + 1, 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    entries: list[BundleEntry] = []
    for rec in data.recs:  # a folder each (``recordings/<id>``): two recordings of one second never share a name
        entries.append(_write_recording(db, root, root / "recordings" / str(rec.id), rec, write_sheet, step))
    (root / "chain").mkdir()
    for link in data.links:
        (root / link.file_name).write_bytes("\n".join(link.fields).encode("utf-8"))
        if link.has_scans:
            (root / link.scans_file_name).write_bytes(link.scans_text)
    (root / LINKS_JSON).write_text(json.dumps([_link_json(ln) for ln in data.links], ensure_ascii=False, indent=1),
                                   encoding="utf-8")
    (root / LINKS_TEXT).write_text(_links_text(data.links), encoding="utf-8")
    _write_csv(root / SCANS_CSV, _scan_rows(data.packs))
    _write_csv(root / RECORDINGS_CSV, _recording_rows(data.recs, entries, data.links))
    if data.returns:
        _write_csv(root / RETURN_SCANS_CSV, _return_scan_rows(data.returns))
    (root / HOW_TO).write_text(BOM + _how_to(subject, at, data, entries).replace("\n", "\r\n"), encoding="utf-8")
    step()
    return entries


def _write_recording(db: Database, root: Path, folder: Path, rec: _Rec, write_sheet: SheetWriter,
                     step: Callable[[], None]) -> BundleEntry:
    """The original, its .mp4 copy and its evidence sheet; a file that is gone is named, with why."""
    original = mp4 = ""
    if rec.status == RecordingStatus.RECORDING or rec.recorder in EXTERNAL_RECORDERS:
        state = "external" if rec.recorder in EXTERNAL_RECORDERS else "recording"
        step()
        step()
        clip = "" if state == "recording" else str(rec.path)  # "realpacking:<waybill>": where it is
    elif rec.path.is_file():
        try:
            copied = review.export_clip(rec.path, folder, tracking_number=rec.tracking_number,
                                        started_at=rec.started_at, original=True).path
        except UNREADABLE as e:  # the name wants its length: a file no demuxer reads still goes in, as it is
            log.warning("claim bundle: recording %d is not readable as video (%r); copied as it is", rec.id, e)
            folder.mkdir(parents=True, exist_ok=True)
            copied = _free(folder, f"{safe_file_part(rec.tracking_number)}_{rec.id}_original", rec.path.suffix)
            shutil.copy2(rec.path, copied)
        step()
        digest, _size = file_digest(copied)
        state = "unhashed" if not rec.sha256 else "ok" if digest == rec.sha256 else "altered"
        try:
            mp4 = review.export_clip(rec.path, folder, tracking_number=rec.tracking_number,
                                     started_at=rec.started_at).path.relative_to(root).as_posix()
        except UNREADABLE as e:  # no copy to play; the original is the evidence, and it is in
            log.warning("claim bundle: no MP4 copy of recording %d: %r", rec.id, e)
        for part in folder.glob(".*.part.mp4"):  # what a failed remux left
            part.unlink(missing_ok=True)
        step()
        original = copied.relative_to(root).as_posix()
        clip = copied.name
    else:
        state = "deleted" if rec.deleted else "failed" if rec.status == RecordingStatus.FAILED else "missing"
        log.log(logging.INFO if state == "deleted" else logging.WARNING, "claim bundle: recording %d (%s) has no "
                "file: %s", rec.id, rec.tracking_number, state)
        step()
        step()
        clip = rec.path.name
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(original).stem if original else f"{safe_file_part(rec.tracking_number)}_{rec.id}"
    evidence = gather(db, rec.id)
    if original:
        try:
            evidence = with_frames(evidence)
        except UNREADABLE as e:  # the sheet without pictures: its facts, scans and hashes still hold
            log.warning("claim bundle: no frames for recording %d's sheet: %r", rec.id, e)
    sheet = write_sheet(evidence, folder / f"{stem}_evidence.pdf", clip)
    step()
    return BundleEntry(rec.id, rec.tracking_number, state, original, mp4, sheet.relative_to(root).as_posix())


def _write_sums(root: Path) -> list[str]:
    """``<hex>  <path>``, one a line, paths with "/": what ``sha256sum -c`` (GNU coreutils) reads as is."""
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    for f in files:
        if "\n" in f or "\\" in f:  # sha256sum would escape the line; our names never hold either
            raise ClaimBundleError("claim_bundle_write_failed", path=f, detail="unsafe file name")
    lines = [f"{file_digest(root / f)[0]}  {f}\n" for f in files]
    (root / SUMS).write_bytes("".join(lines).encode("utf-8"))
    return files


def _zip(root: Path, target: Path, name: str) -> None:
    """Videos and PDFs are stored (compressed already); texts deflated. Names are UTF-8 (the zip's flag)."""
    with zipfile.ZipFile(target, "w") as z:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                packed = p.suffix.lower() in (".ts", ".mp4", ".pdf")
                z.write(p, f"{name}/{p.relative_to(root).as_posix()}",
                        compress_type=zipfile.ZIP_STORED if packed else zipfile.ZIP_DEFLATED)


# ------------------------------------------------------------------------------------------ the texts

def _pair(ko: str, en: str) -> str:
    return f"{ko} / {en}"


def _label(namespace: str, value: str) -> str:
    return " / ".join(words.label(namespace, value))


def _time(at: datetime | None) -> str:
    return kst(at).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if at else ""


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text(BOM + buf.getvalue(), encoding="utf-8")


def _scan_rows(packs: list[_Pack]) -> list[list[str]]:
    head = [_pair("포장 ID", "Pack id"), _pair("송장", "Waybill"), _pair("시각 (KST)", "Time (KST)"),
            _pair("종류", "Kind"), _pair("결과", "Result"), _pair("거부 사유", "Why refused"), _pair("상품", "Item"),
            _pair("수량", "Units"), _pair("바코드", "Code scanned"), _pair("스테이션", "Station"),
            _pair("작업자", "Packer"), _pair("스캔 ID", "Scan id")]
    rows = [head]
    for p in packs:
        for sc in p.scans:
            rows.append([str(p.id), p.tracking_number, _time(sc.scanned_at), _label(words.KIND, sc.kind),
                         _pair("수락", "accepted") if sc.accepted else _pair("거부", "refused"),
                         " / ".join(words.reason(sc.reason)) if sc.reason else "", sc.item_name, str(sc.quantity),
                         sc.code, sc.station, sc.packer_name, str(sc.id)])
    return rows


def _offset(ms: int | None) -> str:
    return f"{ms // 60000:02d}:{ms % 60000 / 1000:06.3f}" if ms is not None else ""


def _return_note(sc: returns.ReturnScanRow) -> str:
    """Why a returns scan was refused, or that an item was not what was sent (its message's words); a command's
    stored reason is the command itself, which the code column already shows."""
    if not sc.reason or sc.reason not in words.CATALOGUE:
        return ""
    return " / ".join(words.station_words(sc.reason, {"name": sc.item_name or sc.code, "barcode": sc.code}))


def _return_scan_rows(inspections: list[_Return]) -> list[list[str]]:
    head = [_pair("검수 ID", "Inspection id"), _pair("반품 송장", "Return label"), _pair("원 송장", "Original waybill"),
            _pair("시각 (KST)", "Time (KST)"), _pair("반품 영상 위치", "In the return video"), _pair("종류", "Kind"),
            _pair("결과", "Result"), _pair("사유", "Why"), _pair("상품 번호", "Item #"), _pair("상품", "Item"),
            _pair("바코드", "Code scanned"), _pair("스캔한 상태", "Condition scanned"),
            _pair("상품의 최종 상태", "Item's condition at the end"), _pair("보낸 상품", "Sent by the order"),
            _pair("스테이션", "Station"), _pair("작업자", "Packer"), _pair("스캔 ID", "Scan id")]
    rows = [head]
    for r in inspections:
        for sc in r.scans:
            sent, final = r.items.get(sc.line_no, (None, ""))
            rows.append([str(r.row.id), r.row.return_code, r.row.tracking_number, _time(sc.scanned_at),
                         _offset(sc.offset_ms), _label(words.RETURN_KIND, sc.kind),
                         _pair("수락", "accepted") if sc.accepted else _pair("거부", "refused"), _return_note(sc),
                         str(sc.line_no) if sc.line_no else "", sc.item_name,
                         sc.code, _label(words.CONDITION, sc.condition) if sc.condition else "",
                         _label(words.CONDITION, final) if final else "",
                         "" if sent is None else _pair("예", "yes") if sent else _pair("아니요", "no"),
                         sc.station, sc.packer_name, str(sc.id)])
    return rows


def _recording_rows(recs: list[_Rec], entries: list[BundleEntry], links: list[Link]) -> list[list[str]]:
    head = [_pair("녹화 ID", "Recording id"), _pair("송장", "Waybill"), _pair("주문", "Orders"),
            _pair("스테이션", "Station"), _pair("작업자", "Packer"), _pair("시작 (KST)", "Start (KST)"),
            _pair("끝 (KST)", "End (KST)"), _pair("포장 결과", "Pack outcome"), _pair("상태", "State"),
            _pair("원본", "Original"), _pair("MP4 사본", "MP4 copy"), _pair("증거 자료", "Evidence sheet"),
            _pair("색인의 SHA-256", "SHA-256 in the index"), _pair("체인 링크", "Chain link")]
    rows = [head]
    for rec, e in zip(recs, entries, strict=True):
        link = next((f"{ln.station} #{ln.seq}" for ln in links if ln.covers == f"recording {rec.id}"
                     and ln.kind == chain.RECORDING), "")
        rows.append([str(rec.id), rec.tracking_number, rec.order_nos, rec.station, rec.packer_name,
                     _time(rec.started_at), _time(rec.ended_at), _label(words.OUTCOME, rec.outcome),
                     _pair(*STATE_TEXT[e.state]), e.original, e.mp4, e.sheet, rec.sha256, link])
    return rows


def _link_json(ln: Link) -> dict[str, object]:
    out: dict[str, object] = {"station": ln.station, "seq": ln.seq, "kind": ln.kind, "version": ln.version,
                              "covers": ln.covers, "link_hash": ln.entry_hash, "matches": ln.matches,
                              "preimage_file": ln.file_name,
                              "fields": [{"name": n, "value": v} for n, v in zip(ln.names, ln.fields, strict=True)]}
    if ln.has_scans:
        out["scans_file"] = ln.scans_file_name
    return out


FORMULA_KO = """계산 방법: 링크 해시 = SHA-256( 아래 "필드" 값들을 순서대로 줄바꿈 문자(LF, 0x0A) 하나로 이어 붙인
UTF-8 바이트 ). 마지막 값 뒤에는 줄바꿈이 없습니다. 그 바이트가 그대로 chain/<스테이션>-<번호>.txt 파일에 들어
있으므로 sha256sum (또는 certutil -hashfile … SHA256) 으로 그 파일의 해시를 구하면 링크 해시와 같아야 합니다.
- 녹화 링크(kind recording)의 file_sha256 은 원본 영상(recordings/<녹화 ID>/*.ts)의 SHA-256, size_bytes 는
  그 크기(바이트)입니다.
- 포장 링크(kind pack)의 scans_sha256 은 chain/<스테이션>-<번호>-scans.txt 파일의 SHA-256, scan_count 는 그
  파일의 줄 수입니다. 그 파일의 한 줄이 스캔 하나(JSON: id, 시각(UTC), 바코드, 입력 방식, 종류, 수락 여부,
  사유, 상품 ID, 스테이션, 작업자[, 수량])입니다.
- 반품 검수 링크(kind return)도 같습니다: scans_sha256 은 chain/<스테이션>-<번호>-scans.txt 파일의 SHA-256,
  scan_count 는 그 줄 수. 한 줄이 반품 검수 스캔 하나(JSON: id, 시각(UTC), 바코드, 입력 방식, 종류, 수락 여부,
  사유, 상품 ID, 상품 번호, 스캔한 상태, 보낸 상품인지, 검수를 마칠 때의 상태, 스테이션, 작업자; 상품 번호가
  없는 스캔은 보낸 상품인지와 마칠 때의 상태가 null)입니다. 나머지 필드는 검수 기록(반품 송장, 원 송장 ID, 주문,
  원 포장 ID, 시작, 끝, 결과)입니다.
- prev_hash 는 같은 스테이션 체인의 바로 앞 링크 해시입니다 (첫 링크는 0 이 64개). 앞 링크가 이 자료에
  있으면 그 링크 해시와 같아야 합니다. 체인 전체는 PackDesk 의 'packdesk verify' 가 검사합니다.
- 시각 필드는 UTC (ISO 8601, 마이크로초) 입니다. 한국 시각 = UTC + 9시간."""
FORMULA_EN = """How a link is computed: link hash = SHA-256 of the UTF-8 bytes of the "fields" values below, in
order, joined by one line feed (LF, 0x0A), with no line feed after the last. Those exact bytes are in the file
chain/<station>-<number>.txt, so sha256sum (or certutil -hashfile … SHA256) of that file prints the link hash.
- A recording link (kind recording): file_sha256 is the SHA-256 of the original video (recordings/<id>/*.ts), size_bytes
  its size in bytes.
- A pack link (kind pack): scans_sha256 is the SHA-256 of chain/<station>-<number>-scans.txt, scan_count its
  number of lines; each line is one scan (JSON: id, time (UTC), code, source, kind, accepted, reason, item id,
  station, packer[, units]).
- A return inspection's link (kind return) likewise: scans_sha256 is the SHA-256 of
  chain/<station>-<number>-scans.txt, scan_count its number of lines; each line is one scan of the inspection
  (JSON: id, time (UTC), code, source, kind, accepted, reason, item id, item #, condition scanned, sent by the
  order, the item's condition at the end, station, packer; a scan of no item # has null for the two item
  values). The other fields are the inspection's record (return label, original waybill id, orders, outbound
  pack id, start, end, outcome).
- prev_hash is the hash of the link before it in the same station's chain (64 zeros for the first); when that
  link is in this bundle, the two must be equal. PackDesk's 'packdesk verify' checks the whole chain.
- Times in the fields are UTC (ISO 8601, microseconds). Korea time = UTC + 9 hours."""


def _links_text(links: list[Link]) -> str:
    out = ["체인 링크 / Hash-chain links", "", FORMULA_KO, "", FORMULA_EN, ""]
    for ln in links:
        what = _pair("녹화", "recording") if ln.kind == chain.RECORDING else (
            _pair("포장 (스캔·결과)", "pack (scans, outcome)") if ln.kind == chain.PACK else
            _pair("반품 검수 (스캔·상태·결과)", "return inspection (scans, conditions, outcome)")
            if ln.kind == chain.RETURN else _pair("삭제 기록", "deletion by retention"))
        out += ["-" * 72, f"{ln.station} #{ln.seq}  {what}  ({ln.covers}, version {ln.version})",
                f"link_hash: {ln.entry_hash}", f"preimage_file: {ln.file_name}"]
        if ln.has_scans:
            out.append(f"scans_file: {ln.scans_file_name}")
        if not ln.matches:
            out.append("!! " + _pair("현재 색인이 이 링크와 다릅니다 — 'packdesk verify' 로 확인하세요",
                                     "the index no longer matches this link — check with 'packdesk verify'"))
        out.append("fields:")
        out += [f"  {n:>2}. {name}: {value}" for n, (name, value) in enumerate(zip(ln.names, ln.fields, strict=True),
                                                                                1)]
    return "\n".join(out) + "\n"


def _how_to_returns(data: _Read) -> tuple[str, str]:
    """What a return's bundle holds beyond an order's: which video is the return's and which the outbound
    pack's, its scans' CSV, and whether the inspection has a chain link (one ended before PackDesk chained
    returns has none: said so, so the bundle claims no more than it shows)."""
    if not data.returns:
        return "", ""
    own = {i for r in data.returns for i in r.recording_ids}
    outbound = ", ".join(str(r.id) for r in data.recs if r.id not in own) or "-"
    packs = ", ".join(str(p.id) for p in data.packs) or "-"
    ko, en = ["", "반품 검수"], ["", "The return inspection"]
    for r in data.returns:
        row, mine = r.row, ", ".join(map(str, r.recording_ids)) or "-"
        outcome = words.label(words.OUTCOME, row.outcome.value)
        link = next((ln for ln in data.links if ln.covers == f"return {row.id}"), None)
        ko += [f"- 반품 {row.return_code}: 원 송장 {row.tracking_number or '-'}, 주문 {row.order_nos or '-'}, "
               f"검수 {_time(row.started_at)} (KST), {row.station}, 결과 {outcome.ko}",
               f"  반품 영상 (반품 상자를 연 모습): 녹화 {mine}",
               f"  검수 스캔·상태·결과의 체인 링크: {link.station} #{link.seq} ({link.scans_file_name})" if link else
               "  검수 스캔·상태·결과의 체인 링크: 없음 (PackDesk 가 반품 검수를 체인에 넣기 전에 끝난 검수: 스캔은"
               " PackDesk 색인에 저장된 그대로)"]
        en += [f"- Return {row.return_code}: original waybill {row.tracking_number or '-'}, order "
               f"{row.order_nos or '-'}, inspected {_time(row.started_at)} (KST), {row.station}, {outcome.en}",
               f"  The return's video (the returned box opened): recording {mine}",
               f"  The chain link of its scans, conditions and outcome: {link.station} #{link.seq} "
               f"({link.scans_file_name})" if link else
               "  The chain link of its scans, conditions and outcome: none (it ended before PackDesk chained"
               " return inspections: its scans are as PackDesk's index holds them)"]
    ko += [f"- 출고 영상 (같은 주문을 포장해 보낸 모습): 녹화 {outbound} · 포장 {packs} (scans.csv)",
           "- return_scans.csv : 반품 검수의 모든 스캔 (한국 시각, 반품 영상 속 위치, 상품마다 스캔한 상태와",
           "  최종 상태, 보낸 상품인지). 검수가 끝날 때 그 스캔과 상품마다 최종 상태, 결과가 포장처럼 해시 체인",
           "  링크(kind return)에 들어갔습니다 (아래 3). 반품 영상 원본은 다른 녹화처럼 체인 링크가 있습니다",
           "  (아래 2)."]
    en += [f"- The outbound video (the same order packed and sent): recording {outbound} · pack {packs} (scans.csv)",
           "- return_scans.csv: every scan of the inspection (Korea time, where it is in the return's video, each",
           "  item's condition as scanned and at the end, whether the order sent it). When the inspection ended,",
           "  its scans with each item's final condition and its outcome joined the hash chain, as a pack's do (a",
           "  link of kind return, 3. below); the return's original video has its link like any recording (2.)."]
    return "\n".join(ko), "\n".join(en)


def _how_to(subject: Subject, at: datetime, data: _Read, entries: list[BundleEntry]) -> str:
    made = kst(at).strftime("%Y-%m-%d %H:%M:%S")
    odd = [e for e in entries if e.state != "ok"]
    lines_ko = [f"- 녹화 {e.recording_id} ({e.tracking_number}): {STATE_TEXT[e.state][0]}" for e in odd]
    lines_en = [f"- recording {e.recording_id} ({e.tracking_number}): {STATE_TEXT[e.state][1]}" for e in odd]
    what = {"order": ("주문", "order"), "waybill": ("송장", "waybill"), "return": ("반품", "return")}.get(
        subject.kind, (subject.kind, subject.kind))
    n_scans = sum(len(p.scans) for p in data.packs)
    ret_ko, ret_en = _how_to_returns(data)
    return f"""포장 증거 자료 — 검증 방법
==========================
{what[0]}: {subject.label}
만든 시각: {made} (KST) · PackDesk
녹화 {len(entries)}개 · 포장 {len(data.packs)}회 · 스캔 {n_scans}건 · 체인 링크 {len(data.links)}개

들어 있는 것
녹화마다 recordings/<녹화 ID>/ 폴더 하나:
- *.ts : 녹화된 원본 영상 그대로 (바이트 단위 복사). 이것이 증거 원본입니다.
- *.mp4 : 재생용 사본. 원본의 영상 데이터를 다시 인코딩하지 않고 MP4 로 옮겨 담은 것이라
  파일 해시는 원본과 다릅니다. 판단은 원본(.ts)의 해시로 하세요.
- *_evidence.pdf : 증거 자료 (스캔 기록, 스캔 시점의 화면, 원본 해시와 체인 링크).
그리고
- scans.csv : 모든 스캔 기록 (한국 시각, 엑셀에서 열림). recordings.csv : 녹화 목록과 상태.
- chain/ : 녹화와 스캔을 덮는 해시 체인 링크 (links.txt 에 계산 방법과 값, links.json 은 같은 내용).
- SHA256SUMS : 위 모든 파일의 SHA-256.{ret_ko}
구매자 개인정보는 넣지 않았습니다 (증거 자료의 수령인 이름 첫 글자뿐: 전화번호·주소·배송 메모 없음).

1. 파일이 내보낸 뒤 바뀌지 않았는지
   리눅스:   sha256sum -c SHA256SUMS        (모든 줄이 OK 여야 합니다)
   맥:       shasum -a 256 -c SHA256SUMS
   윈도우:   certutil -hashfile "recordings\\<녹화 ID>\\<파일 이름>" SHA256
             (또는 PowerShell: Get-FileHash -Algorithm SHA256 "recordings\\<녹화 ID>\\<파일 이름>")
             로 나온 값을 SHA256SUMS 의 같은 파일 줄과 비교하세요 (대소문자 무관).
2. 원본 영상이 녹화 당시 그대로인지
   원본(.ts)의 SHA-256 이 chain/links.txt 에서 그 녹화 링크의 file_sha256 과 같아야 합니다. 그 링크는
   녹화 파일이 닫힐 때 만들어졌고, 링크 해시는 chain/<스테이션>-<번호>.txt 의 SHA-256 입니다.
3. 스캔 기록이 포장 당시 그대로인지
   chain/<스테이션>-<번호>-scans.txt 의 SHA-256 이 포장 링크의 scans_sha256 과 같아야 합니다
   (반품 검수 링크도 같습니다).
4. 링크가 이어지는지
   각 링크의 prev_hash 는 같은 스테이션의 바로 앞 링크 해시입니다. 포장이 끝난 링크 바로 다음에 그 녹화의
   링크가 오는 것이 보통입니다.
자세한 계산 방법: chain/links.txt

빠졌거나 확인이 필요한 녹화
{chr(10).join(lines_ko) or "- 없음"}


Packing evidence — how to verify
================================
{what[1].capitalize()}: {subject.label}
Made: {made} (KST, UTC+9) · PackDesk
{words.plural(len(entries), "recording")} · {words.plural(len(data.packs), "pack")} · \
{words.plural(n_scans, "scan")} · {words.plural(len(data.links), "chain link")}

Contents
A folder per recording, recordings/<recording id>/:
- *.ts: the original recording, copied byte for byte. This is the evidence.
- *.mp4: a copy to play. The video data is moved into MP4 without re-encoding, so the file's hash differs
  from the original's by nature; judge by the original (.ts) hashes.
- *_evidence.pdf: its evidence sheet (scans, the picture at each scan, the original's hash and link).
And
- scans.csv: every scan (Korea time; opens in Excel). recordings.csv: the recordings and their state.
- chain/: the hash-chain links that cover the recordings and the scans (links.txt: the formula and the values;
  links.json: the same, for programs).
- SHA256SUMS: the SHA-256 of every file above.{ret_en}
No buyer personal data: only the recipient's initial on the evidence sheets (no phone, address or delivery note).

1. The files are as exported
   Linux:    sha256sum -c SHA256SUMS        (every line must say OK)
   macOS:    shasum -a 256 -c SHA256SUMS
   Windows:  certutil -hashfile "recordings\\<recording id>\\<file name>" SHA256
             (or PowerShell: Get-FileHash -Algorithm SHA256 "recordings\\<recording id>\\<file name>")
             and compare with that file's line in SHA256SUMS (case does not matter).
2. The original videos are as recorded
   An original's (.ts) SHA-256 equals file_sha256 of its recording link in chain/links.txt. That link was made
   when the recording's file closed; its hash is the SHA-256 of chain/<station>-<number>.txt.
3. The scans are as scanned
   The SHA-256 of chain/<station>-<number>-scans.txt equals scans_sha256 of the pack's link (or of the
   return inspection's link).
4. The links follow each other
   Each link's prev_hash is the hash of the link before it at the same station; a recording's link usually
   comes right after its pack's.
The formula in full: chain/links.txt

Recordings missing, or needing attention
{chr(10).join(lines_en) or "- none"}
"""
