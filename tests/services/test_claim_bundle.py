"""The claim bundle (issue #21) without Qt: an order packed twice at the station service (a pack cancelled, then
packed again), each pack with a real recording indexed and chained as the station does; exported as a folder
and as a zip, then checked the way a claim team would — ``sha256sum -c``, the links recomputed with hashlib from
the written text alone, the scans' CSV read as Excel would — and a recording whose file is gone is named. A
return inspected on camera brings its own video beside its outbound pack's, and its scans as their own CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import av
import pytest
from sqlalchemy import delete, select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome
from packdesk.core.kst import kst
from packdesk.core.recordings import recording_finished, recording_started
from packdesk.core.returns import RMsg
from packdesk.core.station import Msg
from packdesk.devices.recorder import RecordingFinished, RecordingJob
from packdesk.services import claim_bundle as cb
from packdesk.services.evidence import Evidence
from tests.services.test_integrity import videos  # noqa: F401 (a module fixture: four real recordings)
from tests.services.test_station_service import Rig

MUG, TUMBLER = BARCODE["MUG-WH-01"], BARCODE["TMB-500"]
SHA256SUM = shutil.which("sha256sum")


@dataclass
class Packed:
    db: Database
    order_id: int
    recordings: list[int]   # the cancelled pack's, then the completed pack's
    packs: list[int]


def fake_sheet(ev: Evidence, path: Path, clip: str) -> Path:
    """The PDF is drawn by the screens (Qt); here a stand-in that says what it was given."""
    path.write_bytes(f"%PDF-1.4 sheet of {ev.recording_id} for {clip} sha {ev.sha256}".encode())
    return path


@pytest.fixture
def packed(demo_db: Database, videos: list[RecordingFinished], tmp_path: Path) -> Iterator[Packed]:  # noqa: F811
    rig = Rig(demo_db)
    try:
        rig.scan("PD-PACKER-001", Scenario.SIMPLE, MUG, "PD-CMD-CANCEL", "PD-CMD-CANCEL")
        assert rig.message is Msg.PACK_CANCELLED
        rig.scan(Scenario.SIMPLE, MUG, TUMBLER, MUG)
        assert rig.message is Msg.PACK_COMPLETE
    finally:
        rig.worker.close()
    with demo_db.session() as s:
        packs = list(s.execute(select(m.PackSession.id, m.PackSession.key, m.PackSession.outcome)
                               .order_by(m.PackSession.id)))
        order_id = s.scalar(select(m.Order.id).where(m.Order.order_no == "202600000001"))
    assert len(packs) == 2 and order_id is not None
    for (_, key, outcome), ev in zip(packs, videos, strict=False):  # each pack's video, as the recorder closes it
        dst = tmp_path / "v" / ev.path.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(ev.path.read_bytes())
        with demo_db.session() as s:
            recording_started(s, pack_key=key, tracking_number=Scenario.SIMPLE, order_nos="202600000001",
                              station="S1", packer_name="김민수", recorder="opencv", path=str(dst),
                              started_at=ev.started_at)
        with demo_db.session() as s:
            recording_finished(s, pack_key=key, path=str(dst), started_at=ev.started_at, ended_at=ev.ended_at,
                               frames=ev.frames, dropped=ev.dropped, size_bytes=ev.size_bytes, outcome=outcome,
                               sha256=ev.sha256)
    with demo_db.session() as s:
        recs = list(s.scalars(select(m.Recording.id).order_by(m.Recording.id)))
    yield Packed(demo_db, order_id, recs, [p.id for p in packs])


def subject(p: Packed) -> cb.Subject:
    with p.db.session() as s:
        return cb.order_subject(s, p.order_id)


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode()), "Excel reads Korean from a CSV only with a BOM"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_order_with_two_packs_finds_both_recordings(packed: Packed) -> None:
    sub = subject(packed)
    assert (sub.kind, sub.label) == ("order", "202600000001")
    assert list(sub.recording_ids) == packed.recordings and list(sub.pack_session_ids) == packed.packs
    with packed.db.session() as s:  # from one recording in the review: the same order, the same bundle
        assert cb.recording_subject(s, packed.recordings[1]) == sub


@pytest.mark.skipif(SHA256SUM is None, reason="coreutils sha256sum")
def test_a_folder_bundle_checks_with_sha256sum_and_holds_every_piece(packed: Packed, tmp_path: Path) -> None:
    steps: list[tuple[int, int]] = []
    result = cb.build(packed.db, subject(packed), tmp_path / "out", as_zip=False, write_sheet=fake_sheet,
                      progress=lambda d, t: steps.append((d, t)))
    root = result.path
    assert root.is_dir() and root.parent == tmp_path / "out" and root.name.startswith("claim_202600000001_")
    assert [p.name for p in (tmp_path / "out").iterdir()] == [root.name]  # no staging left behind
    assert steps[-1][0] == steps[-1][1] and len(steps) == steps[-1][1]
    run = subprocess.run([SHA256SUM, "-c", cb.SUMS], cwd=root, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count(": OK") == len(result.files) == len((root / cb.SUMS).read_text().splitlines())
    assert {"scans.csv", "recordings.csv", cb.HOW_TO, "chain/links.txt", "chain/links.json"} <= set(result.files)

    with packed.db.session() as s:
        recs = {r.id: r for r in s.scalars(select(m.Recording))}
    assert [e.state for e in result.entries] == ["ok", "ok"]
    for e in result.entries:
        assert sha(root / e.original) == recs[e.recording_id].sha256  # the original, byte for byte
        assert e.original.endswith(".ts") and e.mp4.endswith(".mp4")
        with av.open(str(root / e.mp4)) as mp4, av.open(str(root / e.original)) as ts:  # every frame, as is
            assert sum(1 for _ in mp4.demux(mp4.streams.video[0]) if _.size) == \
                sum(1 for _ in ts.demux(ts.streams.video[0]) if _.size)
        assert (root / e.sheet).read_bytes().endswith(recs[e.recording_id].sha256.encode())

    scans = read_csv(root / "scans.csv")
    assert scans[0][:3] == ["포장 ID / Pack id", "송장 / Waybill", "시각 (KST) / Time (KST)"]
    with packed.db.session() as s:
        events = list(s.scalars(select(m.ScanEvent).where(m.ScanEvent.pack_session_id.in_(packed.packs))
                                .order_by(m.ScanEvent.pack_session_id, m.ScanEvent.scanned_at, m.ScanEvent.id)))
    assert len(scans) - 1 == len(events) == result.scans == 4 + 4  # waybill, mug, cancel ×2; waybill + 3 items
    for row, ev in zip(scans[1:], events, strict=True):
        assert row[0] == str(ev.pack_session_id) and row[-1] == str(ev.id) and row[8] == ev.code
        assert row[2] == kst(ev.scanned_at).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    assert any("머그컵" in row[6] for row in scans[1:])  # the item's name, in Korean, read back through the BOM

    rows = read_csv(root / "recordings.csv")
    assert [r[0] for r in rows[1:]] == [str(i) for i in packed.recordings]
    how = (root / cb.HOW_TO).read_text(encoding="utf-8-sig")
    assert how.index("검증 방법") < how.index("how to verify") and "sha256sum -c SHA256SUMS" in how
    assert "certutil -hashfile" in how and "- 없음" in how and "- none" in how
    with packed.db.session() as s:  # no buyer data beyond what the evidence sheet shows
        order = s.get_one(m.Order, packed.order_id)
        private = [v for v in (order.recipient_name, order.buyer_name, order.recipient_phone, order.address)
                   if v]
    assert private
    for f in result.files:
        if f.endswith((".txt", ".csv", ".json")) or f == cb.SUMS:
            text = (root / f).read_text(encoding="utf-8-sig")
            assert not [v for v in private if v in text], f


def recompute_links(root: Path) -> list[dict]:  # type: ignore[type-arg]
    """What chain/links.txt says, followed with hashlib alone: link hash = SHA-256 of the field values joined by
    LF, UTF-8; a recording link's file_sha256 is its original's; a pack's or a return inspection's link's
    scans_sha256 is its scans file's, scan_count its lines; prev_hash is the link before (when the bundle has
    it). Returns the links."""
    text = (root / "chain/links.txt").read_text(encoding="utf-8")
    assert "joined by one line feed (LF, 0x0A)" in text and "줄바꿈 문자(LF, 0x0A)" in text
    links = json.loads((root / "chain/links.json").read_text(encoding="utf-8"))
    originals = {r[0]: r for r in read_csv(root / "recordings.csv")[1:]}
    for ln in links:
        values = [f["value"] for f in ln["fields"]]
        fields = {f["name"]: f["value"] for f in ln["fields"]}
        computed = hashlib.sha256("\n".join(values).encode("utf-8")).hexdigest()
        assert computed == ln["link_hash"] and ln["matches"]
        assert sha(root / ln["preimage_file"]) == ln["link_hash"]  # what `sha256sum chain/S1-….txt` prints
        assert f"link_hash: {ln['link_hash']}" in text and f"{ln['station']} #{ln['seq']}" in text
        for n, value in enumerate(values, 1):  # the text lists the same values, numbered
            assert f"{n:>2}. {ln['fields'][n - 1]['name']}: {value}\n" in text
        if ln["kind"] == "recording" and originals[fields["recording_id"]][9]:
            original = root / originals[fields["recording_id"]][9]
            assert sha(original) == fields["file_sha256"] and original.stat().st_size == int(fields["size_bytes"])
        elif ln["kind"] in ("pack", "return"):
            assert f"scans_file: {ln['scans_file']}" in text
            scans = root / ln["scans_file"]
            assert sha(scans) == fields["scans_sha256"]
            assert len(scans.read_bytes().splitlines()) == int(fields["scan_count"])
    for ln in links:  # each link follows the one before it
        prev = next((x for x in links if (x["station"], x["seq"]) == (ln["station"], ln["seq"] - 1)), None)
        if prev is not None or ln["seq"] == 1:
            assert ln["fields"][0]["value"] == (prev["link_hash"] if prev else "0" * 64)
    return links  # type: ignore[no-any-return]


def test_the_chain_links_recompute_from_the_written_text_alone(packed: Packed, tmp_path: Path) -> None:
    root = cb.build(packed.db, subject(packed), tmp_path, as_zip=False, write_sheet=fake_sheet).path
    links = recompute_links(root)
    assert [ln["kind"] for ln in links] == ["pack", "pack", "recording", "recording"]
    assert [ln["seq"] for ln in links] == [1, 2, 3, 4]
    with packed.db.session() as s:  # and they are the chain's own links, not made up at export
        stored = {c.entry_hash for c in s.scalars(select(m.ChainEntry))}
    assert {ln["link_hash"] for ln in links} == stored


@pytest.mark.skipif(SHA256SUM is None, reason="coreutils sha256sum")
def test_a_missing_file_is_listed_in_a_zip_bundle(packed: Packed, tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    with packed.db.session() as s:
        gone = Path(s.get_one(m.Recording, packed.recordings[0]).path)
    gone.unlink()
    out = tmp_path / "out"
    result = cb.build(packed.db, subject(packed), out, as_zip=True, write_sheet=fake_sheet)
    assert result.path.suffix == ".zip" and [p.name for p in out.iterdir()] == [result.path.name]
    first = result.entries[0]
    assert (first.recording_id, first.state, first.original) == (packed.recordings[0], "missing", "")
    assert [e.recording_id for e in result.missing] == [packed.recordings[0]]
    with zipfile.ZipFile(result.path) as z:
        names = z.namelist()
        assert all(n.startswith(result.path.stem + "/") for n in names)
        z.extractall(tmp_path / "x")
    root = tmp_path / "x" / result.path.stem
    run = subprocess.run([SHA256SUM, "-c", cb.SUMS], cwd=root, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = read_csv(root / "recordings.csv")
    assert rows[1][8] == "파일 없음 — 원본을 찾을 수 없음 / file missing — the original cannot be found"
    assert rows[1][11]  # its evidence sheet is still there: the hash and the link the index holds
    how = (root / cb.HOW_TO).read_text(encoding="utf-8-sig")
    assert f"recording {packed.recordings[0]} ({Scenario.SIMPLE}): file missing" in how
    folders = {int(d.name): sorted(f.suffix for f in d.iterdir()) for d in (root / "recordings").iterdir()}
    assert folders == {packed.recordings[0]: [".pdf"], packed.recordings[1]: [".mp4", ".pdf", ".ts"]}


def test_a_failure_leaves_no_half_bundle(packed: Packed, tmp_path: Path) -> None:
    def full_disk(ev: Evidence, path: Path, clip: str) -> Path:
        raise OSError(28, "No space left on device")

    out = tmp_path / "out"
    for as_zip in (False, True):
        with pytest.raises(cb.ClaimBundleError) as e:
            cb.build(packed.db, subject(packed), out, as_zip=as_zip, write_sheet=full_disk)
        assert e.value.code == "claim_bundle_write_failed"
        assert list(out.iterdir()) == []


def test_an_order_never_packed_has_nothing_to_export(demo_db: Database, tmp_path: Path) -> None:
    with demo_db.session() as s:
        oid = s.scalar(select(m.Order.id).where(m.Order.order_no == "202600000001"))
        sub = cb.order_subject(s, oid)  # type: ignore[arg-type]
    assert sub.empty
    with pytest.raises(cb.ClaimBundleError) as e:
        cb.build(demo_db, sub, tmp_path / "out", as_zip=False, write_sheet=fake_sheet)
    assert (e.value.code, e.value.params) == ("claim_bundle_empty", {"subject": "202600000001"})
    assert not (tmp_path / "out").exists()


def test_an_altered_file_and_a_video_kept_elsewhere_are_named_not_passed_off(packed: Packed, tmp_path: Path) -> None:
    """The bundle never claims more than the evidence shows: an original whose bytes changed since it was
    chained goes in named "altered"; a RealPacking video (no file here, a marker path) is named with where it is."""
    with packed.db.session() as s:
        first = s.get_one(m.Recording, packed.recordings[0])
        path, key = Path(first.path), first.pack_key
        recording_started(s, pack_key=key, tracking_number=Scenario.SIMPLE, order_nos="202600000001", station="S1",
                          packer_name="김민수", recorder="realpacking", path=f"realpacking:{Scenario.SIMPLE}",
                          started_at=first.started_at)
    with packed.db.session() as s:
        recording_finished(s, pack_key=key, path=f"realpacking:{Scenario.SIMPLE}", started_at=first.started_at,
                           ended_at=first.ended_at, frames=0, dropped=0, size_bytes=0,
                           outcome=first.pack_outcome)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = cb.build(packed.db, subject(packed), tmp_path / "out", as_zip=False, write_sheet=fake_sheet)
    states = {e.recording_id: e.state for e in result.entries}
    assert list(states.values()).count("external") == 1
    assert states[packed.recordings[0]] == "altered" and states[packed.recordings[1]] == "ok"
    assert [e.state for e in result.missing] == ["external"]
    assert sorted(e.state for e in result.attention) == ["altered", "external"]
    how = (result.path / cb.HOW_TO).read_text(encoding="utf-8-sig")
    assert f"recording {packed.recordings[0]} ({Scenario.SIMPLE}): original included, but its hash differs" in how
    assert "kept by the RealPacking program" in how
    links = json.loads((result.path / "chain/links.json").read_text(encoding="utf-8"))
    altered = next(ln for ln in links if ln["covers"] == f"recording {packed.recordings[0]}")
    entry = next(e for e in result.entries if e.recording_id == packed.recordings[0])
    assert sha(result.path / entry.original) != altered["fields"][1]["value"]  # the link tells the change


def test_an_original_no_player_reads_still_goes_in_as_it_is(packed: Packed, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                            expect_warnings) -> None:
    """Overwritten with bytes no demuxer reads: no MP4 copy and no pictures can be made, yet the file itself is
    the evidence of what happened to it — in the bundle, named "altered", its sheet written without frames."""
    with packed.db.session() as s:
        path = Path(s.get_one(m.Recording, packed.recordings[1]).path)
    path.write_bytes(b"\x47" + bytes(range(256)) * 400)
    result = cb.build(packed.db, subject(packed), tmp_path / "out", as_zip=False, write_sheet=fake_sheet)
    entry = result.entries[1]
    assert (entry.state, entry.mp4) == ("altered", "") and entry.sheet
    assert (result.path / entry.original).read_bytes() == path.read_bytes()
    assert [p.name for p in (result.path / "recordings").rglob(".*")] == []  # no remux left half-made
    assert result.entries[0].state == "ok" and result.entries[0].mp4


# ------------------------------------------------------------------ a return's bundle: both films, its own scans

@dataclass
class Returned:
    db: Database
    inspection_id: int
    pack: int
    outbound: int    # the outbound pack's recording
    returned: int    # the return's own recording
    video_start: datetime


def index_video(db: Database, job: RecordingJob, ev: RecordingFinished, folder: Path) -> int:
    """A real file indexed and chained under ``job``'s key as the recorder's events do at the station."""
    dst = folder / f"{job.pack_key}.ts"
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(ev.path.read_bytes())
    with db.session() as s:
        recording_started(s, pack_key=job.pack_key, tracking_number=job.tracking_number,
                          order_nos=",".join(job.order_nos), station=job.station, packer_name=job.packer_name,
                          recorder="opencv", path=str(dst), started_at=job.started_at)
    with db.session() as s:
        recording_finished(s, pack_key=job.pack_key, path=str(dst), started_at=job.started_at,
                           ended_at=job.started_at + (ev.ended_at - ev.started_at), frames=ev.frames,
                           dropped=ev.dropped, size_bytes=ev.size_bytes, outcome=PackOutcome.COMPLETED,
                           sha256=ev.sha256)
    with db.session() as s:
        return s.scalars(select(m.Recording.id).where(m.Recording.pack_key == job.pack_key)).one()


@pytest.fixture
def returned(demo_db: Database, videos: list[RecordingFinished], tmp_path: Path) -> Iterator[Returned]:  # noqa: F811
    """The order packed on camera; back days later under a courier's label PackDesk does not know, linked by its
    waybill, opened on camera: a condition scanned before any item (refused), the mug marked damaged then
    corrected to good, a tea set the order never sent."""
    rig = Rig(demo_db)
    try:
        rig.scan("PD-PACKER-001", Scenario.SIMPLE, MUG, TUMBLER, MUG)
        assert rig.message is Msg.PACK_COMPLETE
        pack_job = rig.recorder.jobs[-1]
        rig.scan("PD-CMD-RETURNS", "RT-777", Scenario.SIMPLE, "PD-RET-OK", MUG, "PD-RET-DAMAGED", "PD-RET-OK",
                 BARCODE["TEA-GR"], "PD-RET-OTHER", "PD-CMD-COMPLETE")
        assert rig.svc.returns.state.message.code is RMsg.COMPLETE
        return_job = rig.recorder.jobs[-1]
    finally:
        rig.worker.close()
    outbound = index_video(demo_db, pack_job, videos[0], tmp_path / "v")
    back = index_video(demo_db, return_job, videos[1], tmp_path / "v")
    with demo_db.session() as s:
        insp = s.scalars(select(m.ReturnInspection)).one()
        iid, pack = insp.id, insp.original_pack_session_id
        assert pack is not None and insp.key == return_job.pack_key
    yield Returned(demo_db, iid, pack, outbound, back, return_job.started_at)


def test_a_return_subject_is_its_own_video_and_its_outbound_packs(returned: Returned, demo_db: Database) -> None:
    with demo_db.session() as s:
        sub = cb.return_subject(s, returned.inspection_id)
        with pytest.raises(cb.ClaimBundleError) as e:
            cb.return_subject(s, returned.inspection_id + 99)
    assert (sub.kind, sub.label) == ("return", "RT-777")
    assert sub.recording_ids == (returned.outbound, returned.returned) and sub.pack_session_ids == (returned.pack,)
    assert sub.inspection_ids == (returned.inspection_id,) and e.value.code == "return_not_found"
    with demo_db.session() as s:  # the return's recording picked in the review: the same return bundle
        assert cb.recording_subject(s, returned.returned) == sub
        assert cb.recording_subject(s, returned.outbound).kind == "order"


@pytest.mark.skipif(SHA256SUM is None, reason="coreutils sha256sum")
def test_a_return_bundle_holds_both_films_and_the_returns_scans(returned: Returned, tmp_path: Path) -> None:
    with returned.db.session() as s:
        sub = cb.return_subject(s, returned.inspection_id)
    result = cb.build(returned.db, sub, tmp_path / "out", as_zip=False, write_sheet=fake_sheet)
    root = result.path
    assert root.name.startswith("claim_RT-777_")
    run = subprocess.run([SHA256SUM, "-c", cb.SUMS], cwd=root, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count(": OK") == len(result.files) and cb.RETURN_SCANS_CSV in result.files

    # both videos, each the original byte for byte with a copy to play, and both chained
    with returned.db.session() as s:
        recs = {r.id: r for r in s.scalars(select(m.Recording))}
    assert [(e.recording_id, e.state) for e in result.entries] == [(returned.outbound, "ok"), (returned.returned, "ok")]
    for e in result.entries:
        assert sha(root / e.original) == recs[e.recording_id].sha256 and e.mp4.endswith(".mp4")
    links = recompute_links(root)
    assert sorted(ln["covers"] for ln in links) == sorted(
        [f"pack {returned.pack}", f"recording {returned.outbound}", f"recording {returned.returned}",
         f"return {returned.inspection_id}"])
    link = next(ln for ln in links if ln["kind"] == "return")
    fields = {f["name"]: f["value"] for f in link["fields"]}
    assert (fields["inspection_id"], fields["return_code"], fields["outcome"], fields["scan_count"]) == (
        str(returned.inspection_id), "RT-777", "completed", "9")
    # each line of its scans file is one return scan: the condition scanned, then the item's at the end
    lines = [json.loads(x) for x in (root / link["scans_file"]).read_bytes().splitlines()]
    assert [(x[4], x[8], x[9], x[10], x[11]) for x in lines] == [
        ("return", 0, "", None, None), ("original", 0, "", None, None), ("condition", 0, "", None, None),
        ("item", 1, "", True, "ok"), ("condition", 1, "damaged", True, "ok"), ("condition", 1, "ok", True, "ok"),
        ("item", 2, "", False, "other_product"), ("condition", 2, "other_product", False, "other_product"),
        ("command", 0, "", None, None)]
    assert result.packs == 1 and len(read_csv(root / "scans.csv")) - 1 == result.scans == 4  # waybill + 3 items

    # the return's scans, as stored, in Korea time, placed in the return's video, each item's condition
    rows = read_csv(root / cb.RETURN_SCANS_CSV)
    head = rows[0]
    assert head[:4] == ["검수 ID / Inspection id", "반품 송장 / Return label", "원 송장 / Original waybill",
                        "시각 (KST) / Time (KST)"]
    col = {h.split(" / ")[1]: i for i, h in enumerate(head)}
    with returned.db.session() as s:
        stored = list(s.scalars(select(m.ReturnScan).where(m.ReturnScan.inspection_id == returned.inspection_id)
                                .order_by(m.ReturnScan.scanned_at, m.ReturnScan.id)))
    assert len(rows) - 1 == len(stored) == result.return_scans == 9
    for row, sc in zip(rows[1:], stored, strict=True):
        assert (row[0], row[1], row[2]) == (str(returned.inspection_id), "RT-777", Scenario.SIMPLE)
        assert row[3] == kst(sc.scanned_at).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        assert (row[col["Code scanned"]], row[col["Scan id"]]) == (sc.code, str(sc.id))
        ms = round((sc.scanned_at - returned.video_start).total_seconds() * 1000)
        assert row[col["In the return video"]] == f"{ms // 60000:02d}:{ms % 60000 / 1000:06.3f}"
    said = [(r[col["Kind"]], r[col["Result"]], r[col["Item #"]], r[col["Condition scanned"]],
             r[col["Item's condition at the end"]], r[col["Sent by the order"]]) for r in rows[1:]]
    ok, damaged, other = "정상 / Good", "파손 / Damaged", "다른 상품 / Other product"
    assert said == [
        ("반품 송장 / return label", "수락 / accepted", "", "", "", ""),
        ("원 주문 / original order", "수락 / accepted", "", "", "", ""),
        ("상태 / condition", "거부 / refused", "", "", "", ""),
        ("상품 / item", "수락 / accepted", "1", "", ok, "예 / yes"),
        ("상태 / condition", "수락 / accepted", "1", damaged, ok, "예 / yes"),
        ("상태 / condition", "수락 / accepted", "1", ok, ok, "예 / yes"),
        ("상품 / item", "수락 / accepted", "2", "", other, "아니요 / no"),
        ("상태 / condition", "수락 / accepted", "2", other, other, "아니요 / no"),
        ("명령 / command", "수락 / accepted", "", "", "", ""),
    ]
    assert rows[3][col["Why"]].startswith("상품을 먼저 스캔한 뒤") and "Scan the item first" in rows[3][col["Why"]]
    assert "머그컵" in rows[4][col["Item"]] and rows[7][col["Why"]].startswith("보낸 상품이 아닙니다")

    # the how-to says which film is which, and which link covers the return's scans
    how = (root / cb.HOW_TO).read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    assert "반품: RT-777" in how and "Return: RT-777" in how
    assert f"반품 영상 (반품 상자를 연 모습): 녹화 {returned.returned}" in how
    assert f"recording {returned.outbound} · pack {returned.pack} (scans.csv)" in how
    assert "return_scans.csv: every scan of the inspection" in how and "no\n  hash-chain link" not in how
    said = f"{link['station']} #{link['seq']} ({link['scans_file']})"
    assert f"검수 스캔·상태·결과의 체인 링크: {said}" in how
    assert f"The chain link of its scans, conditions and outcome: {said}" in how
    with returned.db.session() as s:  # no buyer data beyond what the order's bundle shows
        order = s.scalars(select(m.Order).where(m.Order.order_no == "202600000001")).one()
        private = [v for v in (order.recipient_name, order.buyer_name, order.recipient_phone, order.address) if v]
    assert private
    for f in result.files:
        if f.endswith((".txt", ".csv", ".json")) or f == cb.SUMS:
            assert not [v for v in private if v in (root / f).read_text(encoding="utf-8-sig")], f


def test_a_return_ended_before_returns_were_chained_says_it_has_no_link(returned: Returned, tmp_path: Path) -> None:
    """An inspection that ended before PackDesk chained returns has no return link (simulated by removing it;
    the bundle recomputes only the links it holds, so the gap left does not matter here): its bundle still
    builds, and says the inspection has no link."""
    with returned.db.session() as s:
        s.execute(delete(m.ChainEntry).where(m.ChainEntry.kind == "return"))
        sub = cb.return_subject(s, returned.inspection_id)
    root = cb.build(returned.db, sub, tmp_path / "out", as_zip=False, write_sheet=fake_sheet).path
    assert "return" not in [ln["kind"] for ln in recompute_links(root)]
    how = (root / cb.HOW_TO).read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    assert "검수 스캔·상태·결과의 체인 링크: 없음" in how
    assert "The chain link of its scans, conditions and outcome: none (it ended before" in how
