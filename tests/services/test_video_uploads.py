"""The video upload queue against the fake S3 (a real S3-compatible server on 127.0.0.1): every completed pack of
this station uploaded once and never again; the storage away (unreachable, wrong keys) retried with a backoff and
the pass stopped; a video gone said and not retried; and, like the dispatch outbox, a process killed mid-upload
(kill -9) whose successor resumes it without sending a part twice, and one killed after the storage had the
whole video but before the queue knew, whose successor sends nothing."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import PackOutcome, UploadState
from packdesk.core.models import utcnow
from packdesk.services import video_link
from packdesk.services.video_link import MIN_PART, Storage
from packdesk.services.video_uploads import QueueProgress, UploadQueue
from tests.children import kill_9
from tests.fakes.s3 import REGION, FakeS3
from tests.services.test_video_link import index, make_ts
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def s3() -> Iterator[FakeS3]:
    with FakeS3() as server:
        yield server


@pytest.fixture
def st(s3: FakeS3) -> Storage:
    return Storage(s3.endpoint, s3.bucket(), REGION, s3.access_key, s3.secret_key)


@pytest.fixture(scope="module")
def big_ts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("big") / "big.ts", 90, noise=True)


def states(db: Database) -> dict[int, UploadState]:
    with db.session() as s:
        return {rid: state for rid, state in s.execute(select(m.VideoUpload.recording_id, m.VideoUpload.state))}


def stored(s3: FakeS3, st: Storage) -> list[str]:
    return [o["Key"] for o in s3.client().list_objects_v2(Bucket=st.bucket).get("Contents", [])]


def test_every_completed_pack_of_this_station_goes_up_once(db: Database, s3: FakeS3, st: Storage,
                                                          tmp_path: Path) -> None:
    done = [index(db, make_ts(tmp_path / f"p{i}.ts", 10 + i, noise=False), tracking=f"60000000000{i}")
            for i in range(3)]
    other = make_ts(tmp_path / "other.ts", 10, noise=False)
    from tests.services.test_video_link import chain, recording_finished, recording_started  # the index's own

    with db.session() as s:  # another station's pack (its file is on that PC) and an abandoned pack: not queued
        recording_started(s, pack_key="elsewhere", tracking_number="600000000099", order_nos="", station="S2",
                          packer_name="", recorder="opencv", path=str(other), started_at=utcnow())
        recording_started(s, pack_key="gave-up", tracking_number="600000000098", order_nos="", station="S1",
                          packer_name="", recorder="opencv", path=str(other), started_at=utcnow())
    sha, size = chain.file_digest(other)
    for key in ("elsewhere", "gave-up"):
        with db.session() as s:
            recording_finished(s, pack_key=key, path=str(other), started_at=utcnow(), ended_at=utcnow(), frames=0,
                               dropped=0, size_bytes=size, sha256=sha,
                               outcome=PackOutcome.COMPLETED if key == "elsewhere" else PackOutcome.ABANDONED)
    seen: list[QueueProgress] = []
    queue = UploadQueue(db, lambda: st, station="S1", work_dir=tmp_path / "work", on_progress=seen.append)
    report = queue.run_once()
    assert (report.queued, report.uploaded, report.retry) == (3, 3, 0)
    assert states(db) == {rid: UploadState.DONE for rid in done}
    assert len(stored(s3, st)) == 3 and s3.count("put") == 1 + 3  # the bucket, then each video once
    assert seen[-1] == QueueProgress(0, 0) and any(p.bytes_total and p.bytes_done == p.bytes_total for p in seen)
    with db.session() as s:
        keys = s.scalars(select(m.VideoUpload.object_key)).all()
    assert sorted(keys) == sorted(stored(s3, st))
    again = queue.run_once()  # nothing new, nothing twice
    assert (again.queued, again.uploaded) == (0, 0) and s3.count("put") == 4
    url, _ = video_link.link(st, keys[0], timedelta(hours=1))
    assert httpx.get(url).status_code == 200


def test_the_storage_away_waits_with_a_backoff_and_catches_up(db: Database, s3: FakeS3, st: Storage,
                                                             tmp_path: Path) -> None:
    for i in range(2):
        index(db, make_ts(tmp_path / f"p{i}.ts", 10, noise=False), tracking=f"60000000001{i}")
    clock = Clock()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    away = [Storage(f"http://127.0.0.1:{port}", st.bucket, st.region, st.access_key, st.secret_key)]
    queue = UploadQueue(db, lambda: away[0], station="S1", work_dir=tmp_path / "work", clock=clock,
                        rng=lambda: 0.5)
    report = queue.run_once()
    assert (report.uploaded, report.retry, report.problem) == (0, 1, "video_link_unreachable")  # one try, then stop
    assert set(states(db).values()) == {UploadState.PENDING}
    away[0] = Storage(st.endpoint, st.bucket, st.region, st.access_key, "wrong-secret")
    assert queue.run_once().uploaded == 0  # the first row waits out its backoff: the second is tried
    with db.session() as s:
        errors = sorted(s.scalars(select(m.VideoUpload.last_error_code)).all())
    assert errors == ["video_link_keys_refused", "video_link_unreachable"]
    assert stored(s3, st) == []
    away[0] = st  # fixed; still in the backoff: nothing yet
    assert queue.run_once().uploaded == 0
    clock.now += timedelta(hours=1)
    assert queue.run_once().uploaded == 2 and set(states(db).values()) == {UploadState.DONE}


def test_a_video_gone_is_failed_not_retried(db: Database, st: Storage, tmp_path: Path) -> None:
    path = make_ts(tmp_path / "p.ts", 10, noise=False)
    rid = index(db, path)
    path.unlink()  # retention, or moved
    queue = UploadQueue(db, lambda: st, station="S1", work_dir=tmp_path / "work")
    assert queue.run_once().failed == 1 and states(db) == {rid: UploadState.FAILED}
    assert queue.run_once().failed == 0


def test_the_storage_not_set_up_leaves_the_queue_waiting(db: Database, tmp_path: Path) -> None:
    index(db, make_ts(tmp_path / "p.ts", 10, noise=False))
    queue = UploadQueue(db, lambda: video_link.storage("", "", ""), station="S1", work_dir=tmp_path / "work")
    report = queue.run_once()
    assert (report.queued, report.problem) == (1, "video_link_not_set_up")
    assert set(states(db).values()) == {UploadState.PENDING}


def test_closing_stops_the_upload_on_its_way_and_the_next_start_resumes_it(db: Database, s3: FakeS3, st: Storage,
                                                                         big_ts: Path, tmp_path: Path) -> None:
    rid = index(db, big_ts)
    queue: UploadQueue

    def progress(p: QueueProgress) -> None:
        if p.bytes_done:  # a part is up: the app is closing
            queue.close()

    queue = UploadQueue(db, lambda: st, station="S1", work_dir=tmp_path / "work", part_size=MIN_PART,
                        on_progress=progress)
    report = queue.run_once()
    assert (report.uploaded, report.problem) == (0, "video_link_cancelled") and states(db)[rid] is UploadState.PENDING
    assert queue.run_once().uploaded == 0  # closed: no new pass
    later = UploadQueue(db, lambda: st, station="S1", work_dir=tmp_path / "work", part_size=MIN_PART)
    again = later.run_once()
    assert (again.uploaded, again.parts_kept, again.parts_sent) == (1, 1, 2)


def run_child(db: Database, st: Storage, tmp_path: Path, rate: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'src'}", "PACKDESK_HOME": str(tmp_path / "home"),
           "PACKDESK_TEST_S3_SECRET": st.secret_key}
    return subprocess.Popen([sys.executable, "-m", "tests.services.video_uploads_child", db.url, "S1", st.endpoint,
                             st.bucket, st.region, st.access_key, str(tmp_path / "work"), str(rate)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)


def part_md5s(path: Path) -> list[str]:
    """The ETag S3 gives each part of ``path`` as the queue sends it (its MD5): what a kept part must match."""
    data = path.read_bytes()
    return ['"' + hashlib.md5(data[i:i + MIN_PART], usedforsecurity=False).hexdigest() + '"'
            for i in range(0, len(data), MIN_PART)]


def test_process_killed_mid_upload_then_restarted(db: Database, s3: FakeS3, st: Storage, big_ts: Path,
                                                  tmp_path: Path) -> None:
    """kill -9 while a part of three is on its way (2 MB/s: seconds a part): the row is left UPLOADING, the
    storage holds the parts sent and no object. The restarted queue takes the row back, keeps those parts,
    sends the rest: the video is whole, each part sent once; the next pass sends nothing."""
    rid = index(db, big_ts)
    child = run_child(db, st, tmp_path, 2_000_000)
    client = s3.client()

    def parts_there() -> int:
        ups = client.list_multipart_uploads(Bucket=st.bucket).get("Uploads", [])
        return sum(len(client.list_parts(Bucket=st.bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", []))
                   for u in ups)

    wait_until(lambda: parts_there() >= 1 or child.poll() is not None, timeout=60, interval=0.05,
               what="the child's first part")
    out = kill_9(child)
    assert "started" in out and "finished" not in out
    there = parts_there()
    assert states(db) == {rid: UploadState.UPLOADING} and stored(s3, st) == [] and 1 <= there < 3
    # what the storage and the work folder (its parts' MD5s) held when the queue started: said if the parts are not
    # kept (this failed twice in CI, on PostgreSQL under load, 2026-12-07: none kept, three sent, with the
    # killed upload and its part 1 still there; the part's ETag against the work file's says whether what was
    # stored is what the file holds)
    left = {u["UploadId"][:12]: (str(u.get("Initiated")), [(p["PartNumber"], p["ETag"], p["Size"]) for p in
            client.list_parts(Bucket=st.bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", [])])
            for u in client.list_multipart_uploads(Bucket=st.bucket).get("Uploads", [])}
    work = {f.name: (f.stat().st_size, part_md5s(f)) for f in (tmp_path / "work").iterdir()} \
        if (tmp_path / "work").is_dir() else {}
    before = s3.count("upload_part")
    queue = UploadQueue(db, lambda: st, station="S1", work_dir=tmp_path / "work", part_size=MIN_PART)
    report = queue.run_once()
    assert (report.recovered, report.uploaded, report.parts_kept, report.parts_sent) == (1, 1, there, 3 - there), \
        f"{report}; uploads left: {left}; work folder: {work}"
    assert s3.count("upload_part") - before == 3 - there and states(db) == {rid: UploadState.DONE}
    (key,) = stored(s3, st)
    url, _ = video_link.link(st, key, timedelta(hours=1))
    assert len(httpx.get(url).content) == client.head_object(Bucket=st.bucket, Key=key)["ContentLength"]
    again = queue.run_once()
    assert (again.uploaded, again.parts_sent) == (0, 0) and s3.count("upload_part") - before == 3 - there


def test_killed_after_the_storage_had_it_all_nothing_is_sent_again(db: Database, s3: FakeS3, st: Storage,
                                                                  tmp_path: Path) -> None:
    """The worst moment: the video complete in the storage, the row still UPLOADING (killed before it was
    marked). The next process finds the object by its name and marks it done without sending a byte."""
    rid = index(db, make_ts(tmp_path / "p.ts", 20, noise=False))
    queue = UploadQueue(db, lambda: st, station="S1", work_dir=tmp_path / "work")
    assert queue.run_once().uploaded == 1
    with db.session() as s:
        s.execute(update(m.VideoUpload).values(state=UploadState.UPLOADING, uploaded_at=None))
    puts = s3.count("put")
    restarted = UploadQueue(db, lambda: st, station="S1", work_dir=tmp_path / "work")
    report = restarted.run_once()
    assert (report.recovered, report.uploaded, report.parts_sent) == (1, 1, 0)
    assert s3.count("put") == puts and states(db) == {rid: UploadState.DONE} and len(stored(s3, st)) == 1
