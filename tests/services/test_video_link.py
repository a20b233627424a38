"""The buyer's video link against a real S3-compatible server on 127.0.0.1 (moto's, behind the signature and
expiry checks it leaves out: ``tests/fakes/s3.py``): an upload that plays as MP4 in a browser, a link that opens
that video alone and expires, opaque object names, a killed upload resumed (its parts not sent twice), bounded
bandwidth, and the keys, the address and the bucket wrong, each said in words."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from packdesk.core import chain
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome
from packdesk.core.recordings import recording_finished, recording_started
from packdesk.services import review, video_link
from packdesk.services.video_link import MIN_PART, Storage, Throttle, VideoLinkError
from tests.children import kill_9
from tests.fakes.s3 import REGION, FakeS3
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
WAYBILL = "612345678905"


@pytest.fixture
def s3() -> Iterator[FakeS3]:
    with FakeS3() as server:
        yield server


@pytest.fixture
def st(s3: FakeS3) -> Storage:
    return Storage(s3.endpoint, s3.bucket(), REGION, s3.access_key, s3.secret_key)


def make_ts(path: Path, frames: int, *, noise: bool) -> Path:
    """An H.264 MPEG-TS like the recorder's; ``noise``: lossless random pictures, ~150 KB a frame, so a few
    seconds make a multipart upload."""
    rng = np.random.default_rng(7)
    with av.open(str(path), "w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast", "qp": "0" if noise else "30"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i in range(frames):
            img = (rng.integers(0, 256, (240, 320, 3), np.uint8) if noise
                   else np.full((240, 320, 3), (i * 3) % 256, np.uint8))
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts, frame.time_base = round(i * 1000 / 30), Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def index(db: Database, path: Path, tracking: str = WAYBILL) -> int:
    """The recording indexed as the station does it (started, then finished with its hash)."""
    key, at = str(uuid.uuid4()), datetime.now(UTC)
    with db.session() as s:
        rid = recording_started(s, pack_key=key, tracking_number=tracking, order_nos="202600000001", station="S1",
                                packer_name="김민수", recorder="opencv", path=str(path), started_at=at)
    sha, size = chain.file_digest(path)
    with db.session() as s:
        recording_finished(s, pack_key=key, path=str(path), started_at=at, ended_at=at + timedelta(seconds=3),
                           frames=0, dropped=0, size_bytes=size, outcome=PackOutcome.COMPLETED, sha256=sha)
    return rid


def plays_as_mp4(data: bytes) -> int:
    """Frames decoded from ``data`` read as MP4; the index (moov) comes before the pictures (mdat): faststart,
    so a phone plays while it downloads."""
    assert data[4:8] == b"ftyp"
    assert 0 < data.find(b"moov") < data.find(b"mdat")
    with av.open(io.BytesIO(data)) as c:  # the format sniffed from the bytes, as a browser does
        assert c.format.name.startswith("mov,mp4")
        return sum(1 for _ in c.decode(c.streams.video[0]))


def frames_in(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


# ------------------------------------------------------------------ upload and link

def test_a_link_opens_the_pack_video_as_mp4_and_nothing_else(db: Database, s3: FakeS3, st: Storage,
                                                              tmp_path: Path) -> None:
    src = make_ts(tmp_path / "pack.ts", 60, noise=False)
    rid = index(db, src)
    got = video_link.video_link(db, rid, st, timedelta(days=7), tmp_path / "work")
    assert got.upload.parts_sent == 1 and not got.upload.already_there
    answer = httpx.get(got.url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
    assert plays_as_mp4(answer.content) == frames_in(src) == 60
    assert timedelta(days=7) - timedelta(seconds=5) < got.expires_at - datetime.now(UTC) <= timedelta(days=7)
    # the name is opaque: no waybill, order or buyer; the same every time for this video
    name = got.key.removeprefix("packdesk/")
    assert len(name) == len("0" * 32 + ".mp4") and all(c in "0123456789abcdef" for c in name[:32])
    assert WAYBILL not in got.key and "202600000001" not in got.key
    # the bucket's other objects stay closed: to anyone without keys, and through this link with another name
    s3.client().put_object(Bucket=st.bucket, Key="packdesk/other.mp4", Body=b"someone else's parcel")
    assert httpx.get(f"{s3.endpoint}/{st.bucket}/packdesk/other.mp4").status_code == 403
    assert httpx.get(f"{s3.endpoint}/{st.bucket}/{got.key}").status_code == 403
    assert httpx.get(got.url.replace(got.key, "packdesk/other.mp4")).status_code == 403
    # a second click uploads nothing and gives a fresh link to the same object
    puts = s3.count("put")
    again = video_link.video_link(db, rid, st, timedelta(hours=1), tmp_path / "work")
    assert again.upload.already_there and again.key == got.key and again.upload.parts_sent == 0
    assert s3.count("put") == puts and s3.count("upload_part") == 0
    assert not list((tmp_path / "work").iterdir())  # the .mp4 copy is gone once it is up


def test_a_link_expires(db: Database, st: Storage, tmp_path: Path) -> None:
    """A link made to last 3 s opens the video, then the storage refuses it (403) from its expiry on."""
    rid = index(db, make_ts(tmp_path / "pack.ts", 30, noise=False))
    made = time.monotonic()
    got = video_link.video_link(db, rid, st, timedelta(seconds=3), tmp_path / "work")
    first = httpx.get(got.url)
    # signed after ``made``, valid 3 s from its signing time's whole second: at least 2 s. Under heavy load the
    # first look may come later than that; the 403 below holds either way
    if time.monotonic() - made < 1.5:
        assert first.status_code == 200
    wait_until(lambda: httpx.get(got.url).status_code == 403, timeout=30, interval=0.2, what="the link to expire")
    assert time.monotonic() - made >= 2.0  # not before its time (second-granular signing dates)
    answer = httpx.get(got.url)
    assert answer.status_code == 403 and b"Request has expired" in answer.content


def test_a_link_lasts_at_most_what_s3_allows(st: Storage) -> None:
    with pytest.raises(VideoLinkError) as e:
        video_link.link(st, "packdesk/x.mp4", timedelta(days=8))
    assert e.value.code == "video_link_lifetime"


def test_a_video_still_recording_is_refused(db: Database, st: Storage, tmp_path: Path) -> None:
    src = make_ts(tmp_path / "pack.ts", 10, noise=False)
    with db.session() as s:
        rid = recording_started(s, pack_key="k", tracking_number=WAYBILL, order_nos="", station="S1", packer_name="",
                                recorder="opencv", path=str(src), started_at=datetime.now(UTC))
    with pytest.raises(VideoLinkError) as e:
        video_link.video_link(db, rid, st, timedelta(days=1), tmp_path / "work")
    assert e.value.code == "video_link_not_finished"


# ------------------------------------------------------------------ multipart, resumed after a kill

@pytest.fixture(scope="module")
def big_ts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = make_ts(tmp_path_factory.mktemp("big") / "big.ts", 90, noise=True)
    assert path.stat().st_size > 2 * MIN_PART  # three parts of 5 MiB
    return path


def test_a_big_video_goes_up_in_parts_with_progress(db: Database, s3: FakeS3, st: Storage, big_ts: Path,
                                                   tmp_path: Path) -> None:
    rid = index(db, big_ts)
    seen: list[tuple[int, int]] = []
    got = video_link.video_link(db, rid, st, timedelta(days=1), tmp_path / "work", part_size=MIN_PART,
                                progress=lambda done, total: seen.append((done, total)))
    assert (got.upload.parts_sent, got.upload.parts_kept) == (3, 0) and s3.count("upload_part") == 3
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == seen[-1][1] == got.upload.size
    assert plays_as_mp4(httpx.get(got.url).content) == 90


def test_an_upload_killed_mid_way_resumes_without_sending_a_part_twice(db: Database, s3: FakeS3, st: Storage,
                                                                       big_ts: Path, tmp_path: Path) -> None:
    """kill -9 while a part is on its way (the upload throttled to 2 MB/s: seconds a part): the next try finds
    the unfinished upload by the object's name, keeps the parts already there, sends the others, and the video
    is whole."""
    rid = index(db, big_ts)
    work = tmp_path / "work"
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'src'}", "PACKDESK_HOME": str(tmp_path / "home"),
           "PACKDESK_TEST_S3_SECRET": st.secret_key}
    child = subprocess.Popen([sys.executable, "-m", "tests.services.video_link_child", db.url, str(rid), st.endpoint,
                              st.bucket, st.region, st.access_key, str(work), str(2_000_000)],
                             cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    client = s3.client()
    key = video_link.object_key(st.prefix, video_link.source(db, rid).sha256)

    def parts_there() -> int:
        uploads = client.list_multipart_uploads(Bucket=st.bucket, Prefix=key).get("Uploads", [])
        return sum(len(client.list_parts(Bucket=st.bucket, Key=key, UploadId=u["UploadId"]).get("Parts", []))
                   for u in uploads)

    try:
        wait_until(lambda: parts_there() >= 1 or child.poll() is not None, timeout=60, interval=0.05,
                   what="the child's first part")
    finally:
        out = kill_9(child)
    assert "started" in out and "finished" not in out
    there = parts_there()  # one, or two on a slow machine; never the object: nothing half there
    assert 1 <= there < 3 and "Contents" not in client.list_objects_v2(Bucket=st.bucket)
    before = s3.count("upload_part")
    got = video_link.video_link(db, rid, st, timedelta(days=1), work, part_size=MIN_PART)
    assert (got.upload.parts_kept, got.upload.parts_sent) == (there, 3 - there)
    assert s3.count("upload_part") - before == 3 - there
    data = httpx.get(got.url).content
    assert len(data) == got.upload.size and plays_as_mp4(data) == 90
    review.playable_copy(big_ts, tmp_path / "same.mp4")
    assert data == (tmp_path / "same.mp4").read_bytes()  # the parts kept are this video's, in their places
    assert client.list_multipart_uploads(Bucket=st.bucket).get("Uploads", []) == []


def test_a_part_that_differs_from_this_pc_s_copy_is_sent_again(db: Database, s3: FakeS3, st: Storage,
                                                               big_ts: Path, tmp_path: Path) -> None:
    """A part left there whose bytes are not ours (its ETag is another MD5) is not trusted: sent again."""
    rid = index(db, big_ts)
    key = video_link.object_key(st.prefix, video_link.source(db, rid).sha256)
    client = s3.client()
    upload_id = client.create_multipart_upload(Bucket=st.bucket, Key=key)["UploadId"]
    client.upload_part(Bucket=st.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x" * MIN_PART)
    got = video_link.video_link(db, rid, st, timedelta(days=1), tmp_path / "work", part_size=MIN_PART)
    assert (got.upload.parts_kept, got.upload.parts_sent) == (0, 3)
    assert plays_as_mp4(httpx.get(got.url).content) == 90


def test_the_throttle_bounds_the_bytes_a_second() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    t = Throttle(1000.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(40):
        t.take(100)
    assert 3.7 <= now[0] <= 3.76  # 4000 bytes at 1000 B/s, less the quarter-second burst
    free = Throttle(None, clock=lambda: now[0], sleep=sleep)
    n = len(slept)
    free.take(10**9)
    assert len(slept) == n


def test_an_upload_can_be_stopped_and_resumes_later(db: Database, s3: FakeS3, st: Storage, big_ts: Path,
                                                    tmp_path: Path) -> None:
    rid = index(db, big_ts)
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        cancel.set()  # after the first part

    with pytest.raises(VideoLinkError) as e:
        video_link.video_link(db, rid, st, timedelta(days=1), tmp_path / "work", part_size=MIN_PART,
                              progress=progress, cancel=cancel)
    assert e.value.code == "video_link_cancelled"
    got = video_link.video_link(db, rid, st, timedelta(days=1), tmp_path / "work", part_size=MIN_PART)
    assert (got.upload.parts_kept, got.upload.parts_sent) == (1, 2)


# ------------------------------------------------------------------ what goes wrong, in words

def test_wrong_keys_are_said_as_such(db: Database, s3: FakeS3, st: Storage, tmp_path: Path) -> None:
    rid = index(db, make_ts(tmp_path / "pack.ts", 10, noise=False))
    for wrong in (Storage(st.endpoint, st.bucket, st.region, st.access_key, "not-the-secret"),
                  Storage(st.endpoint, st.bucket, st.region, "NOSUCHKEY", st.secret_key)):
        with pytest.raises(VideoLinkError) as e:
            video_link.check(wrong)
        assert e.value.code == "video_link_keys_refused" and e.value.params["endpoint"] == st.endpoint
        with pytest.raises(VideoLinkError) as e:
            video_link.video_link(db, rid, wrong, timedelta(days=1), tmp_path / "work")
        assert e.value.code == "video_link_keys_refused"
        assert wrong.secret_key not in e.value.detail and wrong.secret_key not in repr(wrong)
    assert "Contents" not in s3.client().list_objects_v2(Bucket=st.bucket)


def test_an_unreachable_storage_and_a_missing_bucket_are_said(db: Database, s3: FakeS3, st: Storage,
                                                              tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(VideoLinkError) as e:
        video_link.check(Storage(f"http://127.0.0.1:{port}", st.bucket, st.region, st.access_key, st.secret_key))
    assert e.value.code == "video_link_unreachable"
    rid = index(db, make_ts(tmp_path / "pack.ts", 10, noise=False))
    missing = Storage(st.endpoint, "no-such-bucket-here", st.region, st.access_key, st.secret_key)
    for call in (lambda: video_link.check(missing),
                 lambda: video_link.video_link(db, rid, missing, timedelta(days=1), tmp_path / "work")):
        with pytest.raises(VideoLinkError) as e:
            call()
        assert e.value.code == "video_link_bucket_missing" and e.value.params["bucket"] == "no-such-bucket-here"


def test_storage_is_read_from_the_keyring_and_refused_when_not_set_up() -> None:
    with pytest.raises(VideoLinkError) as e:
        video_link.storage("https://s3.example", "packs", "")
    assert e.value.code == "video_link_not_set_up"
    video_link.save_keys(" AK ", "SK")
    got = video_link.storage("https://s3.example", "packs", "")
    assert (got.access_key, got.secret_key, got.region) == ("AK", "SK", "us-east-1")
    assert "SK" not in repr(got)
