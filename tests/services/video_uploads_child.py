"""A queue process to be killed: one pass of the video upload queue against the fake S3 the parent runs,
throttled so the parent can kill it mid-upload.

``python -m tests.services.video_uploads_child DB_URL STATION ENDPOINT BUCKET REGION ACCESS_KEY WORK_DIR RATE``
with the secret key in the environment (``PACKDESK_TEST_S3_SECRET``): a secret on a command line is visible to
every process on the machine."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from packdesk.core.db import Database
from packdesk.services import video_link
from packdesk.services.video_uploads import UploadQueue


def main(db_url: str, station: str, endpoint: str, bucket: str, region: str, access_key: str, work: str,
         rate: str) -> None:
    st = video_link.Storage(endpoint, bucket, region, access_key, os.environ["PACKDESK_TEST_S3_SECRET"])
    queue = UploadQueue(Database.open(db_url), lambda: st, station=station, work_dir=Path(work),
                        part_size=video_link.MIN_PART, throttle=video_link.Throttle(float(rate)))
    print("started", flush=True)
    report = queue.run_once()
    print(f"finished {report}", flush=True)  # the parent kills us before this


if __name__ == "__main__":
    main(*sys.argv[1:9])
