"""A claim, end to end, through the product's own functions: an order packed at the station with recording on —
a first pack cancelled half-way, the parcel packed again — the second video kept for the claim, the first
deleted by retention; then the order's claim bundle exported with the real evidence sheets, and checked as a
claim team would with standard tools: ``sha256sum -c``, the originals against the index, the chain links
recomputed from their written text, the scans in Korea time, the deleted video named, not skipped."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import av
import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.enums import RecordingStatus
from packdesk.core.kst import kst
from packdesk.core.models import utcnow
from packdesk.services import claim_bundle as cb
from packdesk.services import review
from packdesk.services.retention import purge_old_videos
from packdesk.ui.evidence_sheet import write_evidence_sheet
from tests.services.test_claim_bundle import read_csv, recompute_links
from tests.ui.conftest import Packer
from tests.ui.test_recording_gui import recording_settings

pytestmark = [pytest.mark.gui, pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum")]
MUG, TUMBLER = BARCODE["MUG-WH-01"], BARCODE["TMB-500"]


def test_an_order_packed_twice_exports_a_bundle_anyone_can_check(make_station, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                 expect_warnings) -> None:
    st = make_station(recording_settings(tmp_path))
    p = Packer(qtbot, st)
    camera = st.service.recorder
    qtbot.waitUntil(lambda: camera.frames_captured >= 35, timeout=30_000)  # the recorder process is up

    def film(frames: int = 10) -> None:
        n0 = camera.frames_captured
        qtbot.waitUntil(lambda: camera.frames_captured >= n0 + frames, timeout=5000)

    def recordings() -> list[m.Recording]:
        st.service.worker.wait_idle(5)
        with st.db.session() as s:
            return list(s.scalars(select(m.Recording).where(m.Recording.status == RecordingStatus.COMPLETE)
                                  .order_by(m.Recording.id)))

    p.scan("PD-PACKER-001")
    p.scan(Scenario.SIMPLE)
    film()
    p.scan(MUG)
    p.scan("PD-CMD-CANCEL")
    p.scan("PD-CMD-CANCEL")  # an item was in: asked twice
    qtbot.waitUntil(lambda: len(recordings()) == 1, timeout=10_000)
    p.scan(Scenario.SIMPLE)
    for code in (MUG, TUMBLER, MUG):
        film()
        p.scan(code)
    assert "포장 완료" in p.banner()
    qtbot.waitUntil(lambda: len(recordings()) == 2, timeout=10_000)
    first, second = recordings()

    with st.db.session() as s:  # the claim's video is kept; retention then takes the other one
        review.set_keep(s, second.id, True)
        order_id = s.scalar(select(m.Order.id).where(m.Order.order_no == "202600000001"))
    assert purge_old_videos(st.db, older_than_days=30, now=utcnow() + timedelta(days=60)).deleted == 1
    assert not Path(first.path).exists() and Path(second.path).exists()

    with st.db.session() as s:
        subject = cb.order_subject(s, order_id)  # type: ignore[arg-type]
    assert subject.recording_ids == (first.id, second.id) and len(subject.pack_session_ids) == 2
    result = cb.build(st.db, subject, tmp_path / "claims", as_zip=False, write_sheet=write_evidence_sheet)
    root = result.path

    run = subprocess.run(["sha256sum", "-c", cb.SUMS], cwd=root, capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout.count(": OK") == len(result.files), run.stdout + run.stderr
    gone, kept = result.entries
    assert (gone.state, gone.original, gone.mp4) == ("deleted", "", "")
    assert kept.state == "ok"
    assert hashlib.sha256((root / kept.original).read_bytes()).hexdigest() == second.sha256
    with av.open(str(root / kept.mp4)) as mp4:
        assert mp4.streams.video[0].codec_context.name == "h264" and sum(1 for _ in mp4.decode(video=0)) > 10
    for entry, rec in ((gone, first), (kept, second)):  # each recording's real sheet: its waybill and hash
        text = pdfium.PdfDocument(str(root / entry.sheet))[0].get_textpage().get_text_range()
        assert Scenario.SIMPLE in text and rec.sha256 in text.replace("\r", "").replace("\n", "")

    links = recompute_links(root)
    kinds = sorted((ln["kind"], ln["covers"]) for ln in links)
    assert kinds == sorted([("pack", f"pack {subject.pack_session_ids[0]}"),
                            ("pack", f"pack {subject.pack_session_ids[1]}"),
                            ("recording", f"recording {first.id}"), ("recording", f"recording {second.id}"),
                            ("deleted", f"recording {first.id}")])  # the deletion by retention is chained too

    scans = read_csv(root / "scans.csv")[1:]
    with st.db.session() as s:
        events = list(s.scalars(select(m.ScanEvent).where(m.ScanEvent.pack_session_id.in_(subject.pack_session_ids))
                                .order_by(m.ScanEvent.pack_session_id, m.ScanEvent.scanned_at, m.ScanEvent.id)))
    assert [r[8] for r in scans] == [Scenario.SIMPLE, MUG, "PD-CMD-CANCEL", "PD-CMD-CANCEL",
                                     Scenario.SIMPLE, MUG, TUMBLER, MUG] == [e.code for e in events]
    assert [r[2] for r in scans] == [kst(e.scanned_at).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] for e in events]
    rows = read_csv(root / "recordings.csv")[1:]
    assert rows[0][8].startswith("보존 기간이 지나 삭제됨") and rows[1][8].startswith("원본 포함, 해시 일치")
    how = (root / cb.HOW_TO).read_text(encoding="utf-8-sig")
    assert f"recording {first.id} ({Scenario.SIMPLE}): deleted by retention" in how
