"""A collecting process to be killed mid-run: collects one account from the fake SmartStore the parent runs,
storing ``CHUNK`` orders per transaction, and after ``STOP_AFTER`` stored batches waits (for the SIGKILL).

``python -m tests.services.collect_child DB_URL ACCOUNT_ID CHUNK STOP_AFTER`` with the account's client secret in
the environment (``PACKDESK_TEST_SECRET``): the child has no in-memory keyring, and a secret on a command line is
visible to every process on the machine. The account's options name the fake's address."""

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from packdesk.channels.naver import NaverChannel
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.services import collect


def main(db_url: str, account_id: str, chunk: str, stop_after: str) -> None:
    secret = os.environ["PACKDESK_TEST_SECRET"]
    db = Database.open(db_url)
    collect.STORE_CHUNK = int(chunk)
    stored = 0
    store_batch = collect._store_batch

    def batch_then_wait(*args: Any, **kwargs: Any) -> Any:  # the crash point: between two stored batches
        nonlocal stored
        counts = store_batch(*args, **kwargs)
        stored += 1
        print(f"stored {stored}", flush=True)
        if stored >= int(stop_after):
            threading.Event().wait()  # until killed
        return counts

    collect._store_batch = batch_then_wait  # type: ignore[assignment]

    def channel(account: m.ChannelAccount) -> NaverChannel:
        return NaverChannel(account.external_id, secret, base_url=json.loads(account.options)["base_url"])

    now = datetime.now(UTC)
    run = collect.Collector(db, channel_factory=channel, station="S1").run_manual(
        int(account_id), now - timedelta(days=1), now + timedelta(minutes=1), started_by="child")
    print(f"finished {run.status}", flush=True)  # the parent kills us before this


if __name__ == "__main__":
    main(*sys.argv[1:5])
