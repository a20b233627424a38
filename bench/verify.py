"""Verification throughput: ``packdesk verify``'s hashing against plainly reading the same files.

Makes N video-sized files (random bytes: incompressible like video), indexes and chains them as the
station does, then in one run times ``cat FILES > /dev/null`` and ``verify()`` over the same files,
twice each, alternating (so the page cache treats both alike). Target: verify >= 80 % of the read rate.

    .venv/bin/python bench/verify.py [--files 1000] [--mb 1.0] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _result

from packdesk.core.chain import file_digest
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import PackOutcome
from packdesk.core.recordings import recording_finished, recording_started
from packdesk.services.integrity import verify


def drop_caches(really: bool = True) -> bool:
    """Read from the disk, not from memory: a supervisor verifies files that are not in the page cache. (Not in
    a quick run: dropping the whole machine's cache in CI would slow everything else on it.)"""
    if not really:
        return False
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000, help="recordings (1,000 as in the issue)")
    ap.add_argument("--mb", type=float, default=1.0, help="size of each (a 1-minute pack at 640x480 is ~0.7 MB)")
    _result.add_arguments(ap)
    a = ap.parse_args()
    if a.quick:
        a.files, a.mb = min(a.files, 20), min(a.mb, 0.05)
    run = _result.start("verify", a, {"files": a.files, "mb_each": a.mb})
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "videos"
        db = Database.open(sqlite_url(Path(tmp) / "db.sqlite3"), create=True)
        size = int(a.mb * 1e6)
        t0 = datetime.now(UTC)
        files = []
        for i in range(a.files):
            p = root / f"2026-11-{1 + i % 28:02d}" / f"7{i:011d}_120000.ts"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(os.urandom(size))
            files.append(p)
            digest, n = file_digest(p)
            with db.session() as s:
                recording_started(s, pack_key=f"k{i}", tracking_number=p.stem[:12], order_nos="", station="S1",
                                  packer_name="p", recorder="opencv", path=str(p), started_at=t0 + timedelta(seconds=i))
            with db.session() as s:
                recording_finished(s, pack_key=f"k{i}", path=str(p), started_at=t0 + timedelta(seconds=i),
                                   ended_at=t0 + timedelta(seconds=i + 60), frames=1800, dropped=0, size_bytes=n,
                                   outcome=PackOutcome.COMPLETED, sha256=digest)
        total = a.files * size
        cat_s, ver_s = [], []
        for _ in range(2):
            cold = drop_caches(not a.quick)
            t = time.perf_counter()
            with open(os.devnull, "wb") as devnull:
                for k in range(0, len(files), 200):  # argv length limits
                    subprocess.run(["cat", *map(str, files[k:k + 200])], stdout=devnull, check=True)
            cat_s.append(time.perf_counter() - t)
            drop_caches(not a.quick)
            t = time.perf_counter()
            report = verify(db, root)
            ver_s.append(time.perf_counter() - t)
            assert report.ok, report.problems[:3]
        db.close()
    cat_rate = total / min(cat_s) / 1e6
    ver_rate = total / min(ver_s) / 1e6
    result = {"total_mb": round(total / 1e6, 1),
              "cache": "cold (dropped before each pass)" if cold else "warm (could not drop the page cache)",
              "cat_mb_per_s": round(cat_rate, 1), "verify_mb_per_s": round(ver_rate, 1),
              "verify_seconds": round(min(ver_s), 2), "ratio": round(ver_rate / cat_rate, 3),
              "target_ratio": 0.8, "meets_target": ver_rate / cat_rate >= 0.8}
    run.write(result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
