"""Collection throughput against the rate limit: 10,000 product orders from the fake SmartStore.

The fake (tests/fakes/naver.py, real HTTP on 127.0.0.1) enforces a token bucket of ``--rate`` requests a
second (burst ``--burst``) for each API, as Naver meters each API on its own. Collecting N product orders
needs ceil(N/300) change-list pages and ceil(N/300) detail queries, each API through its own bucket; the
ceiling is the time one bucket allows for ceil(N/300) requests. Reports the
collect time against that ceiling (target >= 90 %), the peak Python memory during the collect, and,
separately, the time to store the result in SQLite (one collection run). Peak memory is measured in a
second collect of the same window (tracemalloc would slow the timed one).

    .venv/bin/python bench/collect.py [--orders 10000] [--rate 5] [--burst 4] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fakes

import _result
from tests.fakes.naver import FakeNaver

from packdesk.channels.naver import NaverChannel
from packdesk.core import models as m
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import ChannelKind
from packdesk.services.collect import store_orders_in_chunks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=10_000, help="product orders to collect")
    ap.add_argument("--rate", type=float, default=5.0, help="requests per second the fake allows")
    ap.add_argument("--burst", type=float, default=4.0)
    _result.add_arguments(ap)
    a = ap.parse_args()
    if a.quick:
        a.orders, a.rate, a.burst = min(a.orders, 600), 1000.0, 1000.0
    run = _result.start("collect", a, {"orders": a.orders, "rate_limit_per_s": a.rate, "burst": a.burst},
                        (*_result.CORE_PACKAGES, "httpx"))
    with FakeNaver(rate_limit=a.rate, burst=a.burst) as fake:
        t0 = datetime.now(UTC) - timedelta(hours=2)
        for i in range(0, a.orders, 2):  # two product orders per order, as shops often have
            n = min(2, a.orders - i)
            fake.add_order(n, paid_at=t0 + timedelta(milliseconds=i))
        channel = NaverChannel(fake.client_id, fake.client_secret, base_url=fake.base_url)
        requests_needed = 2 * math.ceil(a.orders / 300)
        ceiling_s = max(0.0, (requests_needed / 2 - a.burst)) / a.rate  # the two APIs' buckets refill side by side
        window = (t0 - timedelta(minutes=1), datetime.now(UTC) + timedelta(minutes=1))
        start = time.perf_counter()
        records = channel.collect(*window)
        collect_s = time.perf_counter() - start
        calls = [r for r in fake.requests if "oauth2" not in r.path]
        throttled = sum(1 for r in calls if r.status == 429)
        # memory in a second run: tracemalloc slows Python down 2-3x, so it must not run during the timing
        tracemalloc.start()
        channel.collect(*window)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        channel.close()
    lines = sum(len(r.lines) for r in records)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(sqlite_url(Path(tmp) / "db.sqlite3"), create=True)
        with db.session() as s:
            acc = m.ChannelAccount(kind=ChannelKind.NAVER, name="bench")
            s.add(acc)
            s.flush()
            account_id = acc.id
        start = time.perf_counter()
        store_orders_in_chunks(db, account_id, records, source="bench")
        store_s = time.perf_counter() - start
        db.close()
    result = {
        "product_orders": lines, "orders": len(records),
        "requests": len(calls), "requests_needed": requests_needed, "throttled_429": throttled,
        "ceiling_s": round(ceiling_s, 2), "collect_s": round(collect_s, 2),
        "of_ceiling": round(ceiling_s / collect_s, 3) if collect_s else None,
        "peak_python_mb": round(peak / 1e6, 1), "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                                                    / 1024, 1),
        "store_s": round(store_s, 2), "store_lines_per_s": round(lines / store_s),
    }
    result["meets_target"] = bool(result["of_ceiling"] and result["of_ceiling"] >= 0.9 and lines == a.orders)
    run.write(result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
