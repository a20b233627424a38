"""Several stations, one database: N station processes pack from a shared pool of parcels.

Each station gets its own 1,000 waybills plus 100 of its neighbour's (so stations really race for some);
every station scans badge, waybill and items through the real StationService (headless). Two runs: flat
out (every station scans as fast as it can: parcels per second overall, with 8 processes and the server on
this 2-core machine), then paced (a scan every --pace-ms per station, still far faster than a person:
the scan-to-result latency a packer sees while the others work; target p99 <= 16 ms). Waybill scans (a
database lookup and a claim) are reported apart from item scans (from memory). Checks zero double packs
and zero duplicate outbox entries. Runs on PostgreSQL (started here in a temporary folder by
scripts/pg-test-server.sh) and, for comparison, one station on SQLite.

    .venv/bin/python bench/stations.py [--stations 8] [--parcels 1000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import _result  # noqa: E402
from tests.pg import emptied  # noqa: E402

from packdesk.core import models as m  # noqa: E402
from packdesk.core.db import Database, sqlite_url  # noqa: E402
from packdesk.core.enums import ChannelKind, LineStatus, PackOutcome  # noqa: E402


def seed(url: str, parcels: int) -> list[str]:
    db = Database.open(url, create=True)
    now = datetime.now(UTC)
    with db.engine.begin() as c:
        c.execute(insert(m.ChannelAccount), [{"id": 1, "kind": ChannelKind.DEMO, "name": "bench", "external_id": "",
                                               "active": True, "auto_confirm": False, "options": "{}",
                                               "created_at": now}])
        c.execute(insert(m.Item), [{"id": i, "sku": f"SKU-{i}", "name": f"상품 {i}", "option_name": "",
                                    "image_path": "", "created_at": now} for i in range(1, 51)])
        c.execute(insert(m.ItemBarcode), [{"id": i, "item_id": i, "barcode": f"BC{i:06d}"} for i in range(1, 51)])
        c.execute(insert(m.ProductMapping), [{"id": i, "account_id": 1, "product_code": f"P{i}", "option_code": "",
                                              "item_id": i, "quantity": 1} for i in range(1, 51)])
        c.execute(insert(m.Packer), [{"id": i, "name": f"작업자{i}", "badge_code": f"PD-PACKER-{i:03d}", "active": True}
                                     for i in range(1, 33)])
        c.execute(insert(m.Waybill), [{"id": i, "courier_code": "CJGLS", "tracking_number": f"8{i:011d}",
                                       "created_at": now} for i in range(1, parcels + 1)])
        c.execute(insert(m.Order), [{"id": i, "account_id": 1, "order_no": f"O{i}", "buyer_name": "",
                                     "recipient_name": "", "recipient_phone": "", "zip_code": "", "address": "",
                                     "delivery_message": "", "ordered_at": now, "paid_at": now, "created_at": now,
                                     "updated_at": now}
                                    for i in range(1, parcels + 1)])
        c.execute(insert(m.OrderLine), [{"id": i, "order_id": i, "account_id": 1, "product_order_id": f"PO{i}",
                                         "product_code": f"P{1 + i % 50}", "option_code": "", "product_name": "",
                                         "option_name": "", "quantity": 1 + i % 2, "status": LineStatus.CONFIRMED,
                                         "channel_status": "", "claim_status": "", "waybill_id": i,
                                         "created_at": now, "updated_at": now} for i in range(1, parcels + 1)])
    db.close()
    return [f"8{i:011d}" for i in range(1, parcels + 1)]


def run(url: str, stations: int, per: int, pace_ms: float = 0.0) -> dict[str, object]:
    pool = seed(url, stations * per)
    start = time.time() + 3.0
    procs = []
    lists = tempfile.TemporaryDirectory()
    for k in range(stations):
        mine = pool[k * per:(k + 1) * per]
        neighbour = pool[((k + 1) % stations) * per:((k + 1) % stations) * per + per // 10]
        codes = mine[: per // 2] + neighbour + mine[per // 2:]
        listing = Path(lists.name) / f"station-{k + 1}.txt"
        listing.write_text("\n".join(codes))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "tests.services.station_proc", url, f"STATION-{k + 1}", "--waybills",
             f"@{listing}", "--start-at", str(start), "--pack", "--badge", f"PD-PACKER-{k + 1:03d}",
             "--pace-ms", str(pace_ms)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
            # this checkout's packdesk (src/), not whichever one is installed in the environment
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}))
    results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    lists.cleanup()
    wall = max(r["seconds"] for r in results)
    db = Database.open(url)
    with db.session() as s:
        completed = s.execute(select(m.PackSession.waybill_id, func.count()).where(
            m.PackSession.outcome == PackOutcome.COMPLETED).group_by(m.PackSession.waybill_id)).all()
        dispatch = s.execute(select(m.DispatchEntry.line_id, func.count()).group_by(m.DispatchEntry.line_id)).all()
    db.close()
    return {
        "stations": stations, "parcels_in_pool": len(pool), "packed": sum(r["packed"] for r in results),
        "parcels_per_s": round(sum(r["packed"] for r in results) / wall, 1), "wall_s": round(wall, 1),
        "pace_ms": pace_ms,
        "p50_ms": [round(r["p50_ms"], 2) for r in results], "p99_ms": [round(r["p99_ms"], 2) for r in results],
        "waybill_p50_ms": [round(r["waybill_p50_ms"], 2) for r in results],
        "waybill_p99_ms": [round(r["waybill_p99_ms"], 2) for r in results],
        "double_packs": sum(1 for _, n in completed if n > 1),
        "duplicate_dispatches": sum(1 for _, n in dispatch if n > 1),
        "errors": sum(len(r["errors"]) for r in results),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stations", type=int, default=8)
    ap.add_argument("--parcels", type=int, default=1000, help="per station")
    ap.add_argument("--pace-ms", type=float, default=100.0, help="paced run: one scan per station this often")
    _result.add_arguments(ap)
    a = ap.parse_args()
    if a.quick:
        a.stations, a.parcels, a.pace_ms = 2, 20, 5.0
    run_ = _result.start("stations", a, {"stations": a.stations, "parcels_per_station": a.parcels,
                                         "pace_ms": a.pace_ms}, (*_result.CORE_PACKAGES, "psycopg"))
    out: dict[str, object] = {}
    url, folder = subprocess.run(["bash", str(ROOT / "scripts" / "pg-test-server.sh")], capture_output=True,
                                 text=True, check=True).stdout.split()
    try:
        # flat out: every station scans as fast as it can (throughput; 8 processes and the server share 2 cores)
        out["postgresql"] = run(url, a.stations, a.parcels)
        # paced: a scan every --pace-ms per station (far faster than a person, ~1 a second): the latency a
        # packer sees while the other stations work
        out["postgresql_paced"] = run(emptied(url), a.stations, a.parcels // 4, a.pace_ms)
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg-test-server.sh"), "stop", folder], check=False)
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite_one_station"] = run(sqlite_url(Path(tmp) / "one.sqlite3"), 1, a.parcels)
    run_.write(out)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
