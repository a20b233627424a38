"""An upload process to be killed: sends one recording's video to the fake S3 the parent runs, throttled.

``python -m tests.services.video_link_child DB_URL RECORDING_ID ENDPOINT BUCKET REGION ACCESS_KEY WORK_DIR RATE``
with the secret key in the environment (``PACKDESK_TEST_S3_SECRET``): a secret on a command line is visible to
every process on the machine."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

from packdesk.core.db import Database
from packdesk.services import video_link


def main(db_url: str, recording_id: str, endpoint: str, bucket: str, region: str, access_key: str, work: str,
         rate: str) -> None:
    st = video_link.Storage(endpoint, bucket, region, access_key, os.environ["PACKDESK_TEST_S3_SECRET"])
    db = Database.open(db_url)
    print("started", flush=True)
    got = video_link.video_link(db, int(recording_id), st, timedelta(days=1), Path(work),
                                part_size=video_link.MIN_PART, throttle=video_link.Throttle(float(rate)))
    print(f"finished {got.upload}", flush=True)  # the parent kills us before this


if __name__ == "__main__":
    main(*sys.argv[1:9])
