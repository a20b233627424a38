"""The catalogue at warehouse scale: filtering the product-link screen over 30,000 sales products.

``bench_filter`` builds, in a temporary SQLite file made by the app's own migrations, 30,000 sales products
(three accounts: two SmartStore shops and an Excel sales platform; 10,000 products, most with options, Korean
names, seller codes on some, marketplace statuses), about 24,000 items with barcodes and the links between
them (80 % linked, a set or a gift set among them; 20 % not linked; 5 % new; 3 % deleted on the marketplace).
Then it times ``services.mapping.list_sales_products`` the way the link screen runs it (a fresh read session
each, the page of rows it shows built with their linked items) for the filters people use:

- no filter (the screen as it opens), not linked only, linked only, new only, one account, deleted included;
- a product code typed or pasted whole, a code prefix (7 of 10 digits), an option code, a seller code;
- a name: a common word (thousands of hits), a rarer one, a word plus a number (a few hits), an option value;
- combinations (an account's unlinked products matching a word).

Target: p99 <= 50 ms per kind for the rows the screen shows. The screen shows a full page (300 rows) at once
and counts every match in a second read (the label says "counting…" meanwhile); that count's p99 is reported
beside each kind, without a target.

``bench_sync`` syncs a SmartStore catalogue of ``--sync-products`` products x ``--options`` option
combinations from the fake SmartStore (tests/fakes/naver.py, real HTTP on 127.0.0.1) into a fresh SQLite file
through ``services.catalogue.sync_catalogue``, at the fake's rate limit (a token bucket per API, as Naver
meters each API on its own). The catalogue needs one product-search request per 100 products and one
origin-product request per product (its option combinations); the ceiling is the time the busier bucket
allows for its requests, (requests - burst) / rate. Target: sync time within 90 % of the ceiling
(ceiling / time >= 0.9). Naver's real rate is about 2 requests a second per API (spec §rate limits): 10,000
products then take about 83 minutes whatever the client does; the bench runs the fake at ``--rate`` 50 so it
takes minutes, and the ratio is what is measured.

    .venv/bin/python bench/catalogue.py [--products 30000] [--runs 200] [--sync-products 10000] [--options 3]
                                        [--rate 50] [--skip-filter] [--skip-sync] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fakes

import _result

from packdesk.channels.naver import NaverChannel
from packdesk.core import models as m
from packdesk.core.db import Database, sqlite_url
from packdesk.core.enums import ChannelKind
from packdesk.services.catalogue import sync_catalogue
from packdesk.services.mapping import (
    LinkState,
    ProductFilter,
    count_sales_products,
    list_sales_products,
    product_page,
)

TARGET_P99_MS = 50.0

BRANDS = ("프리미엄", "데일리", "베이직", "오가닉", "모던", "클래식", "내추럴", "심플", "로얄", "에코")
THINGS = ("머그컵", "텀블러", "티셔츠", "후드티", "양말", "수건", "캔들", "디퓨저", "코스터", "접시", "볼", "쟁반",
          "앞치마", "파우치", "에코백", "담요", "쿠션", "머리끈", "볼펜", "노트", "스티커", "키링", "도마", "컵받침",
          "샴푸", "바디워시", "핸드크림", "립밤", "녹차", "원두")
COLOURS = ("블랙", "화이트", "네이비", "그레이", "베이지", "핑크", "민트", "레드")
SIZES = ("S", "M", "L", "XL")
STATUSES = ("SALE",) * 17 + ("OUTOFSTOCK", "SUSPENSION")


def product_name(n: int, rnd: random.Random) -> str:
    return f"{rnd.choice(BRANDS)} {rnd.choice(THINGS)} {n % 997 + 1}호"


def build(db: Database, products: int = 30_000, seed: int = 7) -> dict[str, Any]:
    """``products`` sales products with their items and links, written with Core bulk inserts (what a
    catalogue sync and an Excel link import leave behind). Returns what the filters are drawn from."""
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    accounts = [(1, ChannelKind.NAVER, "스마트스토어 본점"), (2, ChannelKind.NAVER, "스마트스토어 2호점"),
                (3, ChannelKind.EXCEL, "자사몰 (엑셀)")]
    with db.engine.begin() as c:
        c.execute(insert(m.ChannelAccount), [{"id": i, "kind": k, "name": n, "external_id": "", "active": True,
                                               "options": "{}", "created_at": now} for i, k, n in accounts])
    sales: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    barcodes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    codes: list[tuple[int, str, str]] = []
    seller_codes: list[str] = []
    names: list[str] = []
    n = 0
    while len(sales) < products:
        n += 1
        account = 1 + (n % 10 > 5) + (n % 10 > 8)  # 60 / 30 / 10 %
        code = f"{5_000_000_000 + n * 37}"
        name = product_name(n, rnd)
        names.append(name)
        kind = rnd.random()
        options = [("", "")] if kind < 0.25 else (
            [(f"{n}{k:02d}", f"색상: {c}") for k, c in enumerate(rnd.sample(COLOURS, 3))] if kind < 0.75 else
            [(f"{n}{k:02d}", f"색상: {c} / 사이즈: {s}") for k, (c, s) in
             enumerate((c, s) for c in rnd.sample(COLOURS, 2) for s in SIZES[:2])])
        seller = f"SC-{n:06d}" if rnd.random() < 0.3 else ""
        status = rnd.choice(STATUSES)
        for option_code, option_name in options:
            if len(sales) >= products:
                break
            i = len(sales)
            deleted = rnd.random() < 0.03
            own = f"{seller}-{option_code[-2:]}" if seller and option_code else seller
            first_seen = now - timedelta(days=rnd.randrange(400))
            sales.append({"id": i + 1, "account_id": account, "product_code": code, "option_code": option_code,
                          "product_name": name, "option_name": option_name, "is_new": rnd.random() < 0.05,
                          "deleted": deleted, "first_seen_at": first_seen, "last_seen_at": now,
                          "status": "DELETE" if deleted else status, "seller_code": own, "synced_at": now})
            codes.append((account, code, option_code))
            if own:
                seller_codes.append(own)
            if rnd.random() < 0.8:  # linked: mostly to an item of its own, some sets, some gift sets
                sku_id = len(items) + 1
                items.append({"id": sku_id, "sku": own or f"{code}-{option_code}".strip("-"),
                              "name": name, "option_name": option_name, "image_path": "", "created_at": now})
                barcodes.append({"item_id": sku_id, "barcode": f"880{sku_id:09d}"})
                qty = 12 if rnd.random() < 0.03 else 1
                links.append({"account_id": account, "product_code": code, "option_code": option_code,
                              "item_id": sku_id, "quantity": qty})
                if rnd.random() < 0.05 and sku_id > 10:
                    links.append({"account_id": account, "product_code": code, "option_code": option_code,
                                  "item_id": rnd.randrange(1, sku_id - 1), "quantity": 2})
    with db.engine.begin() as c:
        for table, rows in ((m.Item, items), (m.ItemBarcode, barcodes), (m.SalesProduct, sales),
                            (m.ProductMapping, links)):
            for lo in range(0, len(rows), 5000):
                c.execute(insert(table), rows[lo:lo + 5000])
    return {"codes": codes, "seller_codes": seller_codes, "names": names, "items": len(items), "links": len(links)}


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def kinds(made: dict[str, Any]) -> dict[str, Callable[[random.Random], ProductFilter]]:
    codes: list[tuple[int, str, str]] = made["codes"]
    optioned = [c for c in codes if c[2]]
    seller = made["seller_codes"]
    names = made["names"]
    return {
        "no_filter_first_page": lambda r: ProductFilter(),
        "not_linked": lambda r: ProductFilter(state=LinkState.UNLINKED),
        "linked": lambda r: ProductFilter(state=LinkState.LINKED),
        "new_only": lambda r: ProductFilter(new_only=True),
        "one_account": lambda r: ProductFilter(account_id=r.choice((1, 2, 3))),
        "include_deleted": lambda r: ProductFilter(include_deleted=True),
        "code_whole": lambda r: ProductFilter(text=r.choice(codes)[1]),
        "code_prefix_7_of_10": lambda r: ProductFilter(text=r.choice(codes)[1][:7]),
        "option_code": lambda r: ProductFilter(text=r.choice(optioned)[2]),
        "seller_code": lambda r: ProductFilter(text=r.choice(seller)),
        "name_common_word": lambda r: ProductFilter(text=r.choice(THINGS)),
        "name_two_words": lambda r: ProductFilter(text=" ".join(r.choice(names).split()[1:])),  # "머그컵 17호"
        "name_brand_prefix": lambda r: ProductFilter(text=r.choice(BRANDS)[:2]),
        "option_value": lambda r: ProductFilter(text=f"사이즈: {r.choice(SIZES[:2])}"),
        "account_unlinked_word": lambda r: ProductFilter(account_id=r.choice((1, 2)), state=LinkState.UNLINKED,
                                                         text=r.choice(THINGS)),
        "new_only_word": lambda r: ProductFilter(new_only=True, text=r.choice(THINGS)),
    }


def timed(db: Database, filters: list[ProductFilter], screen: bool = False) -> dict[str, float]:
    """``list_sales_products`` per filter (the rows the screen shows, in its own short session); with
    ``screen`` the counts of every match that the screen reads next, in a second session, when the page is
    full (``count_sales_products``; a page holding every match counts itself and costs nothing more)."""
    ms: list[float] = []
    shown: list[int] = []
    for f in filters:
        t = time.perf_counter()
        with db.session() as s:  # what the link screen's read does: its own short session
            if screen:
                page = product_page(s, f, count=False)
                rows = page.rows
                if page.counts is None:  # a full page: only the screen's second read, the count, is timed
                    t = time.perf_counter()
                    count_sales_products(s, f)
            else:
                rows = list_sales_products(s, f)
        ms.append((time.perf_counter() - t) * 1000)
        shown.append(len(rows))
    return {"p50_ms": round(statistics.median(ms), 2), "p99_ms": round(pct(ms, 99), 2),
            "max_ms": round(max(ms), 2), "rows_shown_median": statistics.median(shown)}


def bench_filter(products: int = 30_000, runs: int = 200, seed: int = 7) -> dict[str, Any]:
    """Build the catalogue in a temporary SQLite database and time each kind of filter ``runs`` times."""
    with tempfile.TemporaryDirectory(prefix="packdesk-bench-") as tmp:
        db = Database.open(sqlite_url(Path(tmp) / "catalogue.sqlite3"), create=True)
        try:
            t0 = time.perf_counter()
            made = build(db, products, seed)
            build_s = time.perf_counter() - t0
            print(f"built {products:,} sales products, {made['items']:,} items, {made['links']:,} links "
                  f"in {build_s:.1f} s", file=sys.stderr)
            measured: dict[str, dict[str, float]] = {}
            screen: dict[str, dict[str, float]] = {}
            for name, make in kinds(made).items():
                rnd = random.Random(name)
                filters = [make(rnd) for _ in range(runs)]
                timed(db, filters[:5])  # warm the page cache
                measured[name] = timed(db, filters)
                screen[name] = timed(db, filters, screen=True)
                print(f"  {name:24} {measured[name]}  then counts p99 {screen[name]['p99_ms']} ms", file=sys.stderr)
        finally:
            db.close()
    worst = max(v["p99_ms"] for v in measured.values())
    return {"sales_products": products, "items": made["items"], "links": made["links"], "runs": runs,
            "build_s": round(build_s, 1), "filters": measured, "worst_p99_ms": worst,
            "counts_read": screen, "counts_worst_p99_ms": max(v["p99_ms"] for v in screen.values()),
            "target_p99_ms": TARGET_P99_MS, "meets_target": worst <= TARGET_P99_MS,
            "python": sys.version.split()[0], "gc": gc.isenabled()}


def bench_sync(products: int = 10_000, options: int = 3, rate: float = 50.0,
               burst: float | None = None) -> dict[str, Any]:
    """Sync ``products`` x ``options`` from the fake SmartStore at ``rate`` requests a second per API."""
    from tests.fakes.naver import FakeNaver  # the bench's own fake, not the app's

    burst = 2 * rate if burst is None else burst
    with FakeNaver(rate_limit=rate, burst=burst) as fake, \
            tempfile.TemporaryDirectory(prefix="packdesk-bench-") as tmp:
        t = time.perf_counter()
        fake.add_products(products, options)
        seed_s = time.perf_counter() - t
        db = Database.open(sqlite_url(Path(tmp) / "sync.sqlite3"), create=True)
        try:
            with db.session() as s:
                acc = m.ChannelAccount(kind=ChannelKind.NAVER, name="bench")
                s.add(acc)
                s.flush()
                account_id = acc.id
            channel = NaverChannel(fake.client_id, fake.client_secret, base_url=fake.base_url)
            pages = math.ceil(products / channel.product_page_size)
            ceiling_s = max(0.0, max(pages, products) - burst) / rate
            seen: list[tuple[float, int]] = []
            t = time.perf_counter()
            result = sync_catalogue(db, account_id, channel,
                                    progress=lambda n, _total: seen.append((time.perf_counter() - t, n)))
            sync_s = time.perf_counter() - t
            channel.close()
            with db.session() as s:
                stored = s.scalar(select(func.count()).select_from(m.SalesProduct)
                                  .where(m.SalesProduct.account_id == account_id)) or 0
        finally:
            db.close()
        calls = [r for r in fake.requests if "oauth2" not in r.path]
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(seen)]
    out = {"products": products, "options_per_product": options, "sales_products_stored": stored,
           "records": result.products, "pages": result.pages, "complete": result.complete,
           "rate_limit_per_s": rate, "burst": burst, "requests": len(calls),
           "throttled_429": sum(1 for r in calls if r.status == 429), "seed_s": round(seed_s, 2),
           "ceiling_s": round(ceiling_s, 1), "sync_s": round(sync_s, 1),
           "of_ceiling": round(ceiling_s / sync_s, 3) if sync_s else None,
           "slowest_page_s": round(max(gaps), 2) if gaps else None}
    out["meets_target"] = bool(out["of_ceiling"] and out["of_ceiling"] >= 0.9 and result.complete
                               and stored == products * max(1, options))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--products", type=int, default=30_000, help="sales products in the catalogue")
    ap.add_argument("--runs", type=int, default=200, help="timed runs of each kind of filter")
    ap.add_argument("--sync-products", type=int, default=10_000, help="products in the fake SmartStore")
    ap.add_argument("--options", type=int, default=3, help="option combinations per product")
    ap.add_argument("--rate", type=float, default=50.0, help="requests a second the fake allows, per API")
    ap.add_argument("--skip-filter", action="store_true")
    ap.add_argument("--skip-sync", action="store_true")
    _result.add_arguments(ap)
    a = ap.parse_args()
    if a.quick:
        a.products, a.runs, a.sync_products, a.options, a.rate = 500, 5, 50, 2, 1000.0
    ok = True
    if not a.skip_filter:
        run = _result.start("catalogue", a, {"products": a.products, "runs": a.runs, "target_p99_ms": TARGET_P99_MS})
        result = bench_filter(a.products, a.runs)
        run.write(result, "filter")
        print(json.dumps(result, ensure_ascii=False, indent=2))
        ok = ok and result["meets_target"]
    if not a.skip_sync:
        run = _result.start("catalogue", a, {"products": a.sync_products, "options": a.options, "rate_limit_per_s":
                                             a.rate, "burst": 2 * a.rate}, (*_result.CORE_PACKAGES, "httpx"))
        result = bench_sync(a.sync_products, a.options, a.rate)
        run.write(result, "sync")
        print(json.dumps(result, ensure_ascii=False, indent=2))
        ok = ok and result["meets_target"]
    return 0 if ok or a.quick else 1


if __name__ == "__main__":
    sys.exit(main())
