"""Outbox drain against the rate limit: 5,000 queued dispatches sent to the fake SmartStore.

The fake (tests/fakes/naver.py, real HTTP on 127.0.0.1) meters each API with its own token bucket of
``--rate`` requests a second (burst ``--burst``), as Naver does (per API x application). The uploader reads
the marketplace's status of every chunk of 30 before sending it (its exactly-once rule) and sends 발송처리 in
batches of 30 (the API maximum), so the dispatch API needs ceil(N/30) calls: the ceiling is the time its
bucket allows for them; status reads go through another API's bucket meanwhile. Reports the drain time
against that ceiling (target >= 90 %), 429s received, and the proof of exactly-once: every product order
dispatched once at the fake, every outbox entry SENT, none sent twice.

    .venv/bin/python bench/outbox.py [--dispatches 5000] [--rate 5] [--burst 10] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fakes

import _result
from sqlalchemy import func, insert, select
from tests.fakes.naver import FakeNaver

from packdesk.channels.naver import NaverChannel
from packdesk.core import models as m
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import ChannelKind, LineStatus, OutboxState
from packdesk.services.dispatch import Uploader


def seed(db: Database, account_id: int, orders: list[tuple[str, tuple[str, ...]]]) -> int:
    """Each order packed under its own waybill; one PENDING entry per line, as completing a pack leaves them.
    Core bulk inserts (docs/architecture.md#measured-facts-behind-the-design: 15x
    faster than ORM add_all)."""
    now = datetime.now(UTC)
    with db.session() as s:
        s.execute(insert(m.Order), [{"account_id": account_id, "order_no": oid, "created_at": now, "updated_at": now}
                                    for oid, _ in orders])
        s.execute(insert(m.Waybill), [{"courier_code": "CJGLS", "tracking_number": f"68{n:010d}", "created_at": now}
                                      for n in range(len(orders))])
        order_ids = dict(s.execute(select(m.Order.order_no, m.Order.id)).all())
        waybill_ids = dict(s.execute(select(m.Waybill.tracking_number, m.Waybill.id)).all())
        lines = [{"order_id": order_ids[oid], "account_id": account_id, "product_order_id": pid,
                  "product_code": "P1", "product_name": "머그컵", "quantity": 1, "status": LineStatus.PACKED,
                  "waybill_id": waybill_ids[f"68{n:010d}"], "packed_at": now, "created_at": now, "updated_at": now}
                 for n, (oid, pids) in enumerate(orders) for pid in pids]
        s.execute(insert(m.OrderLine), lines)
        line_ids = dict(s.execute(select(m.OrderLine.product_order_id, m.OrderLine.id)).all())
        entries = [{"line_id": line_ids[pid], "account_id": account_id, "product_order_id": pid,
                    "courier_code": "CJGLS", "tracking_number": f"68{n:010d}", "state": OutboxState.PENDING,
                    "next_attempt_at": now, "created_at": now, "updated_at": now}
                   for n, (_, pids) in enumerate(orders) for pid in pids]
        s.execute(insert(m.DispatchEntry), entries)
    return len(entries)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dispatches", type=int, default=5000, help="outbox entries (product orders) to send")
    ap.add_argument("--rate", type=float, default=5.0, help="requests per second each API allows")
    ap.add_argument("--burst", type=float, default=10.0, help="bucket size (Naver: 2 x rate)")
    _result.add_arguments(ap)
    a = ap.parse_args()
    if a.quick:
        a.dispatches, a.rate, a.burst = min(a.dispatches, 100), 1000.0, 1000.0
    run = _result.start("outbox", a, {"dispatches": a.dispatches, "rate_limit_per_s_per_api": a.rate,
                                      "burst": a.burst}, (*_result.CORE_PACKAGES, "httpx"))
    with FakeNaver(rate_limit=a.rate, burst=a.burst) as fake, tempfile.TemporaryDirectory() as tmp:
        orders = []
        for i in range(0, a.dispatches, 2):  # two product orders per order and parcel
            o = fake.add_order(min(2, a.dispatches - i))
            orders.append((o.order_id, o.product_order_ids))
        db = Database.open(sqlite_url(Path(tmp) / "db.sqlite3"), create=True)
        with db.session() as s:
            acc = m.ChannelAccount(kind=ChannelKind.NAVER, name="bench", external_id=fake.client_id)
            s.add(acc)
            s.flush()
            account_id = acc.id
        queued = seed(db, account_id, orders)

        def factory(account: m.ChannelAccount) -> NaverChannel:
            return NaverChannel(fake.client_id, fake.client_secret, base_url=fake.base_url)

        uploader = Uploader(db, factory, chunk=30)
        dispatch_calls = math.ceil(queued / 30)
        ceiling_s = max(0.0, dispatch_calls - a.burst) / a.rate
        start = time.perf_counter()
        passes = 0
        while uploader.counts().waiting and passes < 50:
            uploader.run_once(retry_now=True)
            passes += 1
        drain_s = time.perf_counter() - start
        uploader.close()
        calls = [r for r in fake.requests if "oauth2" not in r.path]
        per_pid = Counter(d["productOrderId"] for d in fake.dispatches)
        with db.session() as s:
            by_state = dict(s.execute(select(m.DispatchEntry.state, func.count())
                                            .group_by(m.DispatchEntry.state)).all())
            dispatched_lines = s.scalar(select(func.count()).select_from(m.OrderLine)
                                        .where(m.OrderLine.status == LineStatus.DISPATCHED))
        db.close()
    result = {
        "queued": queued, "passes": passes,
        "dispatch_calls": sum(1 for r in calls if r.path.endswith("/dispatch")),
        "dispatch_calls_needed": dispatch_calls,
        "status_reads": sum(1 for r in calls if r.path.endswith("/query")),
        "throttled_429": sum(1 for r in calls if r.status == 429),
        "ceiling_s": round(ceiling_s, 2), "drain_s": round(drain_s, 2),
        "of_ceiling": round(ceiling_s / drain_s, 3) if drain_s else None,
        "accepted_by_marketplace": len(per_pid), "sent_twice": sum(1 for n in per_pid.values() if n > 1),
        "outbox_states": {str(k): v for k, v in by_state.items()}, "lines_dispatched": dispatched_lines,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    result["exactly_once"] = (result["sent_twice"] == 0 and len(per_pid) == queued
                              and by_state == {OutboxState.SENT: queued} and dispatched_lines == queued)
    result["meets_target"] = bool(result["exactly_once"] and result["of_ceiling"] and result["of_ceiling"] >= 0.9)
    run.write(result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["exactly_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
