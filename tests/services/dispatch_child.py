"""An upload process to be killed: drains one account's outbox against the fake SmartStore the parent runs.

``python -m tests.services.dispatch_child DB_URL BASE_URL CLIENT_ID [STATION]`` with the client secret in the
environment (``PACKDESK_TEST_SECRET``): the child has no in-memory keyring, and a secret on a command line
is visible to every process on the machine."""

from __future__ import annotations

import os
import sys

from packdesk.channels.naver import NaverChannel
from packdesk.core.db import Database
from packdesk.services.dispatch import Uploader


def main(db_url: str, base_url: str, client_id: str, station: str = "") -> None:
    secret = os.environ["PACKDESK_TEST_SECRET"]
    db = Database.open(db_url)
    uploader = Uploader(db, lambda account: NaverChannel(client_id, secret, base_url=base_url), station=station)
    print("started", flush=True)
    report = uploader.run_once()
    print(f"finished {report}", flush=True)  # the parent kills us before this


if __name__ == "__main__":
    main(*sys.argv[1:5])
