"""What goes on a claim's evidence sheet, gathered from the index, the chain and the video itself.

A seller answers "the item was missing" with one file a customer can read: the waybill, the order, the
recipient's initials (not the full name), who packed it where and when, every scan with its time, a
frame from the video at each item scan, and the original file's SHA-256 with its chain link, so the
video can be proven unaltered (``packdesk verify``); and the pack's own link, which covers the scans printed
and the outcome (``core/chain.py``), so an edited scan is caught the same way. Rendering is ``ui/evidence_sheet.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import av
import numpy as np
from sqlalchemy import select

from packdesk.core import chain
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ScanKind


@dataclass(frozen=True)
class EvidenceScan:
    at: datetime
    offset_s: float  # seconds into the video (the video starts with the pre-roll, before the scan)
    code: str
    kind: ScanKind
    accepted: bool
    reason: str
    item_name: str
    quantity: int = 1  # units the scan counted (a multi-pack's count confirmed by the item)


@dataclass
class Evidence:
    recording_id: int
    tracking_number: str
    order_nos: str
    recipient_initials: str
    station: str
    packer_name: str
    started_at: datetime
    ended_at: datetime | None
    path: Path
    size_bytes: int
    sha256: str
    chain_seq: int | None
    chain_hash: str
    chain_prev: str
    outcome: str
    scans: list[EvidenceScan] = field(default_factory=list)
    pack_chain_seq: int | None = None  # the pack's link: its scans and outcome
    pack_chain_hash: str = ""
    frames: dict[int, np.ndarray] = field(default_factory=dict)  # index in ``scans`` -> BGR frame


def initials(name: str) -> str:
    """"홍길동" -> "홍**": enough to recognise a parcel, not enough to expose a customer."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def gather(db: Database, recording_id: int) -> Evidence:
    with db.session() as s:
        rec = s.get_one(m.Recording, recording_id)
        link = s.scalars(select(m.ChainEntry).where(m.ChainEntry.recording_id == recording_id,
                                                    m.ChainEntry.kind == chain.RECORDING)).first()
        recipient = ""
        scans: list[EvidenceScan] = []
        pack_link = None
        if rec.pack_session_id is not None:
            pack_link = s.scalars(select(m.ChainEntry).where(m.ChainEntry.recording_id == rec.pack_session_id,
                                                             m.ChainEntry.kind == chain.PACK)).first()
            recipient = s.scalar(
                select(m.Order.recipient_name).join(m.OrderLine, m.OrderLine.order_id == m.Order.id)
                .join(m.PackSession, m.PackSession.waybill_id == m.OrderLine.waybill_id)
                .where(m.PackSession.id == rec.pack_session_id).limit(1)) or ""
            rows = s.execute(
                select(m.ScanEvent, m.Item.name).outerjoin(m.Item, m.Item.id == m.ScanEvent.item_id)
                .where(m.ScanEvent.pack_session_id == rec.pack_session_id).order_by(m.ScanEvent.scanned_at)).all()
            scans = [EvidenceScan(ev.scanned_at, (ev.scanned_at - rec.started_at).total_seconds(), ev.code, ev.kind,
                                  ev.accepted, ev.reason, name or "", ev.quantity or 1) for ev, name in rows]
        return Evidence(rec.id, rec.tracking_number, rec.order_nos, initials(recipient), rec.station,
                        rec.packer_name, rec.started_at, rec.ended_at, Path(rec.path), rec.size_bytes, rec.sha256,
                        link.seq if link else None, link.entry_hash if link else "", link.prev_hash if link else "",
                        rec.pack_outcome.value, scans, pack_link.seq if pack_link else None,
                        pack_link.entry_hash if pack_link else "")


def frames_at(path: Path, offsets: list[float]) -> list[np.ndarray | None]:
    """The first frame at or after each offset (seconds from the first frame), decoded once in order."""
    wanted = sorted((o, i) for i, o in enumerate(offsets))
    out: list[np.ndarray | None] = [None] * len(offsets)
    if not wanted:
        return out
    k = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None  # a demuxed stream has one (frames' pts count in it)
        first: float | None = None
        last: np.ndarray | None = None
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * stream.time_base)
            first = t if first is None else first
            last = frame.to_ndarray(format="bgr24")
            while k < len(wanted) and t - first >= wanted[k][0] - 1e-3:
                out[wanted[k][1]] = last
                k += 1
            if k == len(wanted):
                break
        while k < len(wanted) and last is not None:  # a scan after the last frame: the last frame
            out[wanted[k][1]] = last
            k += 1
    return out


def with_frames(ev: Evidence) -> Evidence:
    """Add the frame at each item scan (what a customer disputes: was this item in the box?)."""
    picks = [i for i, sc in enumerate(ev.scans) if sc.kind in (ScanKind.ITEM, ScanKind.WAYBILL) and sc.accepted]
    if ev.path.is_file() and picks:
        for i, frame in zip(picks, frames_at(ev.path, [max(0.0, ev.scans[i].offset_s) for i in picks]), strict=True):
            if frame is not None:
                ev.frames[i] = frame
    return ev
