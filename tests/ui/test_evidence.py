"""The evidence sheet: gathered from a real recorded pack, the frame at each item scan is the right one
(read by its burned-in clock), and the PDF renders with one picture per scan and the file's hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import RecordingStatus, ScanKind
from packdesk.core.kst import kst
from packdesk.devices.opencv_recorder import Overlay, ascii_label
from packdesk.devices.recorder import RecordingJob
from packdesk.services.evidence import gather, initials, with_frames
from packdesk.services.settings import CameraSettings, RecordingSettings, Settings
from packdesk.ui.evidence_sheet import write_evidence_sheet
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui


def clock_second(frame: np.ndarray, around, overlay: Overlay) -> object:  # type: ignore[no-untyped-def]
    """Which second the frame's burned-in clock shows: the candidate whose rendering matches best."""
    w = frame.shape[1]
    region = (slice(0, overlay.band), slice(w - 260, w - 24))  # the clock, in the band above the picture
    best = None
    for delta in range(-3, 4):
        t = around + timedelta(seconds=delta)
        drawn = Overlay(overlay_job, (w, frame.shape[0] - overlay.band), ascii_label).band_image(t)
        err = float(np.mean(np.abs(drawn[:, region[1]].astype(int) - frame[region].astype(int))))
        if best is None or err < best[0]:
            best = (err, t.replace(microsecond=0))
    return best[1]  # type: ignore[index]


overlay_job = RecordingJob("x", "601000000033", "S", "p", datetime.now(UTC))


def test_evidence_sheet_from_a_real_pack(make_station, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    st = make_station(Settings(recorder="opencv", camera=CameraSettings(source="synthetic", pre_roll_s=1.0),
                               recording=RecordingSettings(video_root=str(tmp_path / "v"), min_free_gb=0.1)))
    cam = st.service.recorder  # the recorder process publishes its camera's frame count
    qtbot.waitUntil(lambda: cam.frames_captured >= 35, timeout=30_000)  # that process started, a full pre-roll
    p = Packer(qtbot, st)
    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    for code in (BARCODE["MUG-WH-01"], BARCODE["TMB-500"], BARCODE["MUG-WH-01"]):
        n0 = cam.frames_captured
        qtbot.waitUntil(lambda n0=n0: cam.frames_captured >= n0 + 40, timeout=5000)  # > 1 s between scans
        p.scan(code)
    assert "포장 완료" in p.banner()

    def rec_id() -> int | None:
        st.service.worker.wait_idle(5)
        with st.db.session() as s:
            return s.scalar(select(m.Recording.id).where(m.Recording.status == RecordingStatus.COMPLETE))

    qtbot.waitUntil(lambda: rec_id() is not None, timeout=10_000)
    ev = with_frames(gather(st.db, rec_id()))  # type: ignore[arg-type]
    items = [i for i, sc in enumerate(ev.scans) if sc.kind is ScanKind.ITEM]
    assert len(items) == 3 and all(i in ev.frames for i in items)
    assert ev.recipient_initials[1:] == "*" * (len(ev.recipient_initials) - 1) and len(ev.recipient_initials) >= 2
    assert initials("홍길동") == "홍**" and initials("") == ""
    assert ev.sha256 and ev.order_nos == "202600000001"
    assert (ev.pack_chain_seq, ev.chain_seq) == (1, 2)  # the pack (scans, outcome) when it ended, then its video
    probe = Overlay(overlay_job, (640, 480), ascii_label)
    for i in items:
        at = kst(ev.scans[i].at)
        shown = clock_second(ev.frames[i], at, probe)
        # the frame nearest the scan: on a loaded machine frames are sparse, and one taken just before a
        # scan that came right after a second's turn still shows the previous second
        allowed = {(at + timedelta(milliseconds=d)).replace(microsecond=0) for d in (-500, 0, 1000)}
        assert shown in allowed, f"scan at {at} shows {shown}"
    frames = [ev.frames[i] for i in items]
    assert not np.array_equal(frames[0], frames[2])  # seconds apart: different pictures

    pdf = write_evidence_sheet(ev, tmp_path / "evidence.pdf", "601000000011_clip.mp4")
    doc = pdfium.PdfDocument(str(pdf))
    images = sum(1 for page in doc for obj in page.get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE)
    text = "".join(page.get_textpage().get_text_range() for page in doc)
    assert images == len(ev.frames) >= 4  # the waybill scan and the three item scans
    flat = text.replace("\r", "").replace("\n", "")
    assert ev.sha256 in flat and ev.chain_hash in flat and "601000000011_clip.mp4" in text
    assert ev.pack_chain_hash in flat and ev.pack_chain_hash != ev.chain_hash

    # the pages as PNG, and each picture in the PDF read back: it shows its scan's second on the burned-in clock
    for n, page in enumerate(doc):
        assert cv2.imwrite(str(tmp_path / f"evidence-{n + 1}.png"), page.render(scale=1.5).to_numpy()[:, :, :3])
    assert (tmp_path / "evidence-1.png").stat().st_size > 10_000

    def bgr(bitmap) -> np.ndarray:  # type: ignore[no-untyped-def]
        a = bitmap.to_numpy()
        return a[:, :, :3] if bitmap.mode in ("BGR", "BGRA", "BGRX") else a[:, :, 2::-1]

    pictures = [bgr(obj.get_bitmap(render=False))
                for page in doc for obj in page.get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    for i, picture in zip(sorted(ev.frames), pictures, strict=True):
        assert picture.shape[:2] == (480 + probe.band, 640)  # the frame as filmed: the band above the picture
        at = kst(ev.scans[i].at)  # the frame itself: the second it shows, checked against the scan above
        assert clock_second(np.ascontiguousarray(picture), at, probe) == clock_second(ev.frames[i], at, probe), \
            f"picture {i}"
    doc.close()


def test_the_sheet_says_why_a_scan_was_refused_and_how_the_pack_ended_in_words(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A claim's reader sees "수량 초과 / Too many" and "완료 / completed", never the stored codes."""
    from packdesk.services.evidence import Evidence, EvidenceScan

    at = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    scans = [EvidenceScan(at, 1.0, "601000000011", ScanKind.WAYBILL, True, "", ""),
             EvidenceScan(at + timedelta(seconds=3), 4.0, "8801234567890", ScanKind.ITEM, True, "", "머그컵"),
             EvidenceScan(at + timedelta(seconds=5), 6.0, "8801234567890", ScanKind.ITEM, False, "too_many", "머그컵")]
    ev = Evidence(1, "601000000011", "202600000001", "홍**", "STATION-1", "김민수", at, at + timedelta(seconds=9),
                  tmp_path / "601000000011.ts", 1234, "ab" * 32, None, "", "", "completed", scans)
    doc = pdfium.PdfDocument(str(write_evidence_sheet(ev, tmp_path / "e.pdf", "601000000011_clip.mp4")))
    text = "".join(page.get_textpage().get_text_range() for page in doc).replace("\r", "")
    doc.close()
    assert "수량 초과 / Too many" in text and "상품 / item: 머그컵" in text and "송장 / waybill: 601000000011" in text
    assert "결과 / Outcome: 완료 / completed" in text
    assert "too_many" not in text and "Outcome: completed" not in text
