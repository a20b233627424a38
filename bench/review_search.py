"""Recordings search over a million recordings: p50/p99 of ``services.review.search`` per kind of search.

Builds (once, cached in bench/out/) a SQLite database through the app's own migrations holding 1,000,000
recordings over one year from 4 stations (40/30/20/10 % of the packs) and 12 packers, each with its pack
session, waybill, order (9,000 distinct Korean recipient names, ~110 orders each) and order line, written
with Core bulk inserts. Then times whole searches the way the review screen runs them (a fresh session
each, rows with their recipient's name turned into ``RecordingRow``), for:

- a scanned waybill (exact), a typed waybill prefix (10 of 12 digits, ~100 waybills);
- an order number (exact); a recipient name (Hangul, ~110 orders);
- one day at one station; 7 days at the smallest station; 7 days for one packer; the last 30 days with no
  other filter (a page of 250 rows, what the screen shows first), and a later page of it (keyset).

The schema is the app's own (migration 0009 added the indexes review needs: recipient name,
recordings by station or packer and start). Target: p99 < 20 ms. The "max" column
includes Python's cyclic garbage collector: a full collection during a search costs it 25-40 ms.

    .venv/bin/python bench/review_search.py [--recordings 1000000] [--runs 200] [--rebuild] [--quick]
    .venv/bin/python bench/review_search.py --database-url "$(scripts/pg-test-server.sh | cut -d' ' -f1)"
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _result
from sqlalchemy import insert, text

from packdesk.core import models as m
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import ChannelKind, LineStatus, PackOutcome, RecordingStatus
from packdesk.services.review import SearchField, SearchQuery, search

OUT = Path(__file__).resolve().parent / "out"
T0 = datetime(2025, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=365)
STATIONS = ("STATION-1", "STATION-2", "STATION-3", "STATION-4")
STATION_WEIGHTS = (40, 30, 20, 10)
PACKERS = tuple(f"작업자{i:02d}" for i in range(1, 13))
SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노"
GIVEN = "민서지현준우수영하은도윤예진성호재원태희연유동혁승경"
ACCOUNTS = 3


def tracking(i: int) -> str:
    return f"5{i:011d}"


def order_no(i: int) -> str:
    return f"2025{i:010d}"


def names() -> list[str]:
    given = [a + b for a in GIVEN for b in GIVEN if a != b]
    rnd = random.Random(3)
    pool = sorted({s + g for s in SURNAMES for g in given})
    rnd.shuffle(pool)
    return pool[:9000]


def started(i: int, n: int) -> datetime:
    return T0 + SPAN * (i / n) + timedelta(seconds=(i * 7919) % 60)


def build(url: str, n: int) -> None:
    db = Database.open(url, create=True)
    t0 = time.perf_counter()
    now = datetime.now(UTC)
    pool = names()
    rnd = random.Random(1)
    with db.engine.begin() as c:
        c.execute(insert(m.ChannelAccount), [{"id": a, "kind": ChannelKind.DEMO, "name": f"shop{a}", "external_id": "",
                                               "active": True, "options": "{}", "created_at": now}
                                              for a in range(1, ACCOUNTS + 1)])
        c.execute(insert(m.Packer), [{"id": k + 1, "name": p, "badge_code": f"PD-PACKER-{k + 1:03d}", "active": True}
                                     for k, p in enumerate(PACKERS)])
    batch = 50_000
    for lo in range(1, n + 1, batch):
        ids = range(lo, min(lo + batch, n + 1))
        wb, orders, lines, sessions, recs = [], [], [], [], []
        for i in ids:
            at = started(i, n)
            station = rnd.choices(STATIONS, STATION_WEIGHTS)[0]
            packer = PACKERS[rnd.randrange(len(PACKERS))]
            wb.append({"id": i, "courier_code": "CJGLS", "tracking_number": tracking(i), "created_at": at})
            orders.append({"id": i, "account_id": 1 + i % ACCOUNTS, "order_no": order_no(i), "buyer_name": "",
                           "recipient_name": pool[rnd.randrange(len(pool))], "recipient_phone": "", "zip_code": "",
                           "address": "", "delivery_message": "", "ordered_at": at, "paid_at": at, "created_at": at,
                           "updated_at": at})
            lines.append({"id": i, "order_id": i, "account_id": 1 + i % ACCOUNTS, "product_order_id": f"PO{i}",
                          "product_code": "P1", "option_code": "", "product_name": "머그컵", "option_name": "",
                          "quantity": 1, "status": LineStatus.PACKED, "channel_status": "", "claim_status": "",
                          "waybill_id": i, "packed_session_id": i, "packed_at": at, "created_at": at,
                          "updated_at": at})
            end = at + timedelta(seconds=30 + i % 90)
            sessions.append({"id": i, "key": f"{i:036d}", "waybill_id": i, "station": station, "packer_id": None,
                             "packer_name": packer, "started_at": at, "ended_at": end,
                             "outcome": PackOutcome.COMPLETED})
            recs.append({"id": i, "pack_session_id": i, "pack_key": f"{i:036d}", "tracking_number": tracking(i),
                         "order_nos": order_no(i), "station": station, "packer_name": packer, "recorder": "opencv",
                         "path": f"/videos/{at:%Y-%m-%d}/{tracking(i)}_{at:%H%M%S}.ts", "started_at": at,
                         "ended_at": end, "duration_ms": int((end - at).total_seconds() * 1000), "frames": 0,
                         "dropped_frames": 0, "size_bytes": 1_500_000, "status": RecordingStatus.COMPLETE,
                         "pack_outcome": PackOutcome.COMPLETED, "keep": False, "deleted_at": None, "sha256": "",
                         "note": ""})
        with db.engine.begin() as c:
            for table, rows in ((m.Waybill, wb), (m.Order, orders), (m.PackSession, sessions), (m.OrderLine, lines),
                                (m.Recording, recs)):
                c.execute(insert(table), rows)
        print(f"\r  {ids[-1]:,} / {n:,} recordings", end="", flush=True, file=sys.stderr)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as c:
            c.execute(text("ANALYZE"))  # what autovacuum does on a live server
    db.close()
    print(f"\n  built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def timed(db: Database, queries: list[SearchQuery]) -> dict[str, float]:
    ms, rows, trunc = [], [], 0
    for q in queries:
        t = time.perf_counter()
        with db.session() as s:  # what the review screen's search job does
            r = search(s, q)
        ms.append((time.perf_counter() - t) * 1000)
        rows.append(len(r.rows))
        trunc += r.more
    return {"p50_ms": round(statistics.median(ms), 2), "p99_ms": round(pct(ms, 99), 2), "max_ms": round(max(ms), 2),
            "rows_median": statistics.median(rows), "more": trunc}


def kinds(n: int, runs: int) -> dict[str, Callable[[random.Random], SearchQuery]]:
    pool = names()

    def day(rnd: random.Random, days: int) -> tuple[datetime, datetime]:
        start = T0 + timedelta(days=rnd.randrange(365 - days))
        return start, start + timedelta(days=days)

    return {
        "waybill_scan": lambda r: SearchQuery(tracking(r.randint(1, n))),
        "waybill_prefix_10_of_12": lambda r: SearchQuery(tracking(r.randint(1, n))[:10], SearchField.WAYBILL),
        "order_no": lambda r: SearchQuery(order_no(r.randint(1, n))),
        "recipient_name": lambda r: SearchQuery(r.choice(pool)),
        "one_day_one_station": lambda r: SearchQuery(since=(d := day(r, 1))[0], until=d[1], station=r.choice(STATIONS)),
        "7_days_smallest_station": lambda r: SearchQuery(since=(d := day(r, 7))[0], until=d[1], station=STATIONS[3]),
        "7_days_one_packer": lambda r: SearchQuery(since=(d := day(r, 7))[0], until=d[1], packer=r.choice(PACKERS)),
        "last_30_days_first_page": lambda r: SearchQuery(since=T0 + SPAN - timedelta(days=30), until=T0 + SPAN),
        "last_30_days_a_later_page": lambda r: SearchQuery(
            since=T0 + SPAN - timedelta(days=30), until=T0 + SPAN,
            after=(T0 + SPAN - timedelta(days=r.randrange(1, 25)), 10**9)),
    }


def measure(db: Database, n: int, runs: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, make in kinds(n, runs).items():
        rnd = random.Random(name)
        queries = [make(rnd) for _ in range(runs)]
        timed(db, queries[:5])  # warm the page cache for this kind's pages
        out[name] = timed(db, queries)
        print(f"  {name:26} {out[name]}", file=sys.stderr)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recordings", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--database-url", default="", help="an empty PostgreSQL database to build in and search "
                                                        "(default: a SQLite file in bench/out/, built once)")
    _result.add_arguments(ap)
    a = ap.parse_args()
    if a.quick:
        a.recordings, a.runs = min(a.recordings, 2000), min(a.runs, 5)
    run = _result.start("review_search", a, {"recordings": a.recordings, "runs": a.runs,
                                             "target_p99_ms": 20}, (*_result.CORE_PACKAGES, "psycopg"))
    OUT.mkdir(exist_ok=True)
    quick_folder = tempfile.TemporaryDirectory(prefix="packdesk-bench-")  # a quick run builds afresh, keeps nothing
    if a.database_url:
        url = a.database_url
        print(f"building {a.recordings:,} recordings ...", file=sys.stderr)
        build(url, a.recordings)
    else:
        path = (Path(quick_folder.name) if a.quick else OUT) / f"review_{a.recordings}.sqlite3"
        url = sqlite_url(path)
        if a.rebuild or not path.exists():
            path.unlink(missing_ok=True)
            print(f"building {a.recordings:,} recordings ...", file=sys.stderr)
            build(url, a.recordings)
    db = Database.open(url)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as c:
            c.execute(text("ANALYZE"))
    try:
        print("searches:", file=sys.stderr)
        measured = measure(db, a.recordings, a.runs)
    finally:
        db.close()
        quick_folder.cleanup()
    engine = db.engine.dialect.name
    result = {"engine": engine, "searches": measured,
              "meets_target": all(v["p99_ms"] < 20 for v in measured.values())}
    run.write(result, engine)
    print(json.dumps({k: v["p99_ms"] for k, v in measured.items()}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
