"""The claim bundle (issue #21) without Qt: an order packed twice at the station service (a pack cancelled, then
packed again), each pack with a real recording indexed and chained as the station does; exported as a folder
and as a zip, then checked the way a claim team would — ``sha256sum -c``, the links recomputed with hashlib from
the written text alone, the scans' CSV read as Excel would — and a recording whose file is gone is named."""

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
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.kst import kst
from packdesk.core.recordings import recording_finished, recording_started
from packdesk.core.station import Msg
from packdesk.devices.recorder import RecordingFinished
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
    LF, UTF-8; a recording link's file_sha256 is its original's; a pack link's scans_sha256 is its scans file's,
    scan_count its lines; prev_hash is the link before (when the bundle has it). Returns the links."""
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
        elif ln["kind"] == "pack":
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
