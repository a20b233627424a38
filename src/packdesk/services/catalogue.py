"""Catalogue sync: an account's products and option combinations become its sales products.

Behind the ``products(cursor)`` method a channel may offer (SmartStore first): page by page, each page
stored in its own short transaction, and the cursor of the next page saved in the account's options, so
a sync that fails (or is cancelled) resumes where it stopped instead of starting over. A product or option
the marketplace no longer lists is never deleted here: once a sync has gone through the whole catalogue,
what it did not see is marked deleted (hidden unless asked for), with its links and history kept.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import String, insert, select, update

from packdesk.channels import registry
from packdesk.channels.base import ChannelError, ListsProducts, ProductPage, ProductRecord, close_channel
from packdesk.channels.registry import Capability
from packdesk.core import models as m
from packdesk.core.db import Database, changed_rows
from packdesk.core.errors import KnownError
from packdesk.core.kst import KST
from packdesk.core.models import utcnow
from packdesk.core.text import clean_text

log = logging.getLogger("packdesk.catalogue")

CURSOR_KEY = "catalogue_cursor"        # account option: where an unfinished sync resumes
STARTED_KEY = "catalogue_sync_started"  # account option: when the unfinished sync began (ISO)
DONE_KEY = "catalogue_synced_day"       # account option: the KST day of the last complete scheduled sync


class CatalogueUnsupported(KnownError):
    code = "catalogue_unsupported"


@dataclass
class SyncResult:
    pages: int = 0
    products: int = 0       # records stored (products and option combinations)
    new: int = 0
    deleted: int = 0        # marked deleted at the end of a complete pass
    complete: bool = False  # the whole catalogue was read (else: cancelled or failed, resumes later)
    resumed: bool = False
    total: int | None = None


Progress = Callable[[int, int | None], None]  # (products so far, total if known)


class Cancel:
    """A sync's stop request: set by whoever started it (a screen, on the UI thread), looked at between pages
    on the sync's thread, so a stop never cuts a page's transaction in half. Screens take this instead of a
    ``threading.Event`` of their own (only ``ui/ops.py`` starts threads in ``ui/``)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def _options(s: Any, account_id: int) -> dict[str, Any]:
    acc = s.get_one(m.ChannelAccount, account_id)
    try:
        return dict(json.loads(acc.options or "{}"))
    except ValueError:
        return {}


def _save_options(s: Any, account_id: int, options: dict[str, Any]) -> None:
    s.execute(update(m.ChannelAccount).where(m.ChannelAccount.id == account_id)
              .values(options=json.dumps(options, ensure_ascii=False)))


def _code_limit(column: str) -> int:
    kind = m.SalesProduct.__table__.c[column].type
    assert isinstance(kind, String) and kind.length is not None, f"sales_products.{column} is a VARCHAR(n)"
    return kind.length


_CODE_LIMITS = {"product_code": _code_limit("product_code"), "option_code": _code_limit("option_code")}


def _storable(records: list[ProductRecord], account_id: int) -> list[ProductRecord]:
    """The records cleaned as collected orders are (``core/text.clean_text``); a product whose code is too long
    for its column or holds a control character is left out (and logged by its code): cleaned, the code would
    name another product, or none."""
    kept: list[ProductRecord] = []
    for r in records:
        bad = [f for f, limit in _CODE_LIMITS.items()
               if clean_text(getattr(r, f)) != getattr(r, f) or len(getattr(r, f)) > limit]
        if bad:
            log.warning("catalogue of account %s: product %r left out (%s cannot be stored)", account_id,
                        clean_text(r.product_code)[:64], ", ".join(bad))
            continue
        kept.append(replace(r, product_name=clean_text(r.product_name), option_name=clean_text(r.option_name),
                            status=clean_text(r.status), seller_code=clean_text(r.seller_code)))
    return kept


_URL_LIMIT = _code_limit("image_url")


def _image_url(r: ProductRecord) -> str:
    """An http(s) URL that fits its column, else none (a picture is a nicety: never a reason to drop a product)."""
    url = r.image_url.strip()
    return url if url.lower().startswith(("http://", "https://")) and len(url) <= _URL_LIMIT else ""


def store_products(s: Any, account_id: int, records: list[ProductRecord], now: datetime) -> int:
    """Upsert one page set-wise; returns how many were new."""
    latest = {(r.product_code, r.option_code): r for r in _storable(records, account_id)}
    if not latest:
        return 0
    SP = m.SalesProduct
    codes = sorted({k[0] for k in latest})
    known: dict[tuple[str, str], int] = {}
    for i in range(0, len(codes), 500):
        part = codes[i:i + 500]
        for sp_id, code, option in s.execute(select(SP.id, SP.product_code, SP.option_code)
                                             .where(SP.account_id == account_id, SP.product_code.in_(part))):
            known[(code, option)] = sp_id
    new = [{"account_id": account_id, "product_code": r.product_code, "option_code": r.option_code,
            "product_name": r.product_name, "option_name": r.option_name, "status": r.status[:20],
            "seller_code": r.seller_code[:128], "is_new": True, "deleted": r.deleted, "first_seen_at": now,
            "last_seen_at": now, "synced_at": now, "image_url": _image_url(r)}
           for key, r in latest.items() if key not in known]
    if new:
        s.execute(insert(SP), new)
    old = [{"id": known[key], "product_name": r.product_name, "option_name": r.option_name, "status": r.status[:20],
            "seller_code": r.seller_code[:128], "deleted": r.deleted, "last_seen_at": now, "synced_at": now,
            "image_url": _image_url(r)}
           for key, r in latest.items() if key in known]
    if old:
        s.execute(update(SP), old)
    return len(new)


def sync_catalogue(db: Database, account_id: int, channel: Any, *, cancel: Cancel | threading.Event | None = None,
                   progress: Progress | None = None, clock: Callable[[], datetime] = utcnow,
                   pictures: Callable[[list[str]], object] | None = None) -> SyncResult:
    """Read the account's catalogue from where the last unfinished sync stopped (or from the start).
    Raises the channel's error after saving the cursor, so the next sync resumes at the failed page.
    ``pictures``: given each stored page's image URLs (``services/pictures.PictureCache.fetch``: downloads
    the ones not cached yet); it never raises, so a picture cannot stop a sync."""
    if not isinstance(channel, ListsProducts):
        raise CatalogueUnsupported(detail=f"{type(channel).__name__} has no catalogue")
    result = SyncResult()
    with db.session() as s:
        options = _options(s, account_id)
        cursor: str | None = options.get(CURSOR_KEY)
        started_text = options.get(STARTED_KEY)
        result.resumed = cursor is not None
        started = datetime.fromisoformat(started_text) if cursor is not None and started_text else clock()
        options[STARTED_KEY] = started.isoformat()
        _save_options(s, account_id, options)
    while True:
        if cancel is not None and cancel.is_set():
            log.info("catalogue sync of account %s cancelled at page %s", account_id, cursor)
            return result
        try:
            page: ProductPage = channel.products(cursor)
        except ChannelError:
            log.warning("catalogue sync of account %s stopped at page %s; it resumes there", account_id, cursor)
            raise
        now = clock()
        with db.session() as s:
            result.new += store_products(s, account_id, list(page.records), now)
            options = _options(s, account_id)
            if page.next_cursor is None:
                options.pop(CURSOR_KEY, None)
                options.pop(STARTED_KEY, None)
            else:
                options[CURSOR_KEY] = page.next_cursor
            _save_options(s, account_id, options)
        if pictures is not None:
            pictures([r.image_url for r in page.records if r.image_url and not r.deleted])
        result.pages += 1
        result.products += len(page.records)
        result.total = page.total if page.total is not None else result.total
        if progress is not None:
            progress(result.products, result.total)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    with db.session() as s:  # a whole pass: what it did not see is gone from the marketplace
        SP = m.SalesProduct
        result.deleted = changed_rows(s.execute(update(SP).where(SP.account_id == account_id, SP.synced_at.is_not(None),
                                                                 SP.synced_at < started, SP.deleted.is_(False))
                                                .values(deleted=True, status="DELETE")))
    result.complete = True
    log.info("catalogue of account %s: %d product(s) in %d page(s), %d new, %d gone", account_id,
             result.products, result.pages, result.new, result.deleted)
    return result


class CatalogueSyncer:
    """Runs catalogue syncs for accounts, one at a time per account, on the caller's thread (a UI op or a
    scheduled job). ``channel_factory`` is ``services/collect.make_channel`` in the app."""

    def __init__(self, db: Database, channel_factory: Callable[[m.ChannelAccount], Any],
                 clock: Callable[[], datetime] = utcnow,
                 pictures: Callable[[list[str]], object] | None = None) -> None:
        """``pictures``: downloads a page's product pictures into this PC's cache (``sync_catalogue``)."""
        self.db = db
        self.channel_factory = channel_factory
        self.clock = clock
        self.pictures = pictures
        self._locks: dict[int, threading.Lock] = {}
        self._meta = threading.Lock()

    def supports(self, account: m.ChannelAccount) -> bool:
        """Its market declares a catalogue (``channels/registry.py``), known before a channel is built."""
        market = registry.market(account.kind)
        return market is not None and market.can(Capability.CATALOGUE)

    def sync(self, account_id: int, *, cancel: Cancel | threading.Event | None = None,
             progress: Progress | None = None) -> SyncResult:
        with self._meta:
            lock = self._locks.setdefault(account_id, threading.Lock())
        if not lock.acquire(blocking=False):
            raise KnownError("catalogue_sync_running", detail=f"account {account_id}")
        try:
            with self.db.session() as s:
                account = s.get_one(m.ChannelAccount, account_id)
                if not self.supports(account):
                    raise CatalogueUnsupported(detail=f"{account.kind}", account=account.name)
            channel = self.channel_factory(account)
            try:
                return sync_catalogue(self.db, account_id, channel, cancel=cancel, progress=progress,
                                      clock=self.clock, pictures=self.pictures)
            finally:
                close_channel(channel)
        finally:
            lock.release()

    def sync_due(self, default_hour: int = 6) -> list[SyncResult]:
        """The daily sync of every active, unpaused account with a catalogue, once a day from its hour on (an
        account's ``catalogue_hour`` option, else ``default_hour``, Korean time): a PC switched on later
        that day still syncs. One account's failure is logged and the others go on; a failed or stopped
        sync is tried again at the next look, resuming where it stopped."""

        now = self.clock().astimezone(KST)
        today = now.date().isoformat()
        due = []
        with self.db.session() as s:
            for a in s.scalars(select(m.ChannelAccount).where(m.ChannelAccount.active,
                                                              m.ChannelAccount.paused.is_(False))):
                if not self.supports(a):
                    continue
                opts = _options(s, a.id)
                hour = int(opts.get("catalogue_hour", default_hour))
                if now.hour >= hour and opts.get(DONE_KEY) != today:
                    due.append(a.id)
        results = []
        for account_id in due:
            try:
                result = self.sync(account_id)
            except KnownError as e:
                log.warning("scheduled catalogue sync of account %s failed: %s (%s)", account_id, e.code, e.detail)
                continue
            results.append(result)
            if result.complete:
                with self.db.session() as s:
                    opts = _options(s, account_id)
                    opts[DONE_KEY] = today
                    _save_options(s, account_id, opts)
        return results
