"""First-start set-up of the demo shop: its account, catalogue, packers, and one collection run."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from packdesk.channels.demo import PACKERS, DemoChannel
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind
from packdesk.services.collect import run_collection

DEMO_ACCOUNT = "데모 상점 / Demo shop"


def ensure_demo(db: Database, now: datetime) -> int:
    """Idempotent: creates what is missing and collects the demo orders; returns the account id."""
    channel = DemoChannel(now)
    items, mappings = channel.catalogue()
    with db.session() as s:
        acc = s.scalar(select(m.ChannelAccount).where(m.ChannelAccount.kind == ChannelKind.DEMO))
        if acc is None:
            acc = m.ChannelAccount(kind=ChannelKind.DEMO, name=DEMO_ACCOUNT)
            s.add(acc)
            s.flush()
        account_id = acc.id
        by_sku = {i.sku: i for i in s.scalars(select(m.Item))}
        for rec in items:
            if rec.sku not in by_sku:
                item = m.Item(sku=rec.sku, name=rec.name, option_name=rec.option_name,
                              barcodes=[m.ItemBarcode(barcode=b) for b in rec.barcodes])
                s.add(item)
                by_sku[rec.sku] = item
        s.flush()
        have = set(s.execute(select(m.ProductMapping.product_code, m.ProductMapping.option_code,
                                    m.ProductMapping.item_id)
                             .where(m.ProductMapping.account_id == account_id)))
        for mp in mappings:
            item_id = by_sku[mp.sku].id
            if (mp.product_code, mp.option_code, item_id) not in have:
                s.add(m.ProductMapping(account_id=account_id, product_code=mp.product_code,
                                       option_code=mp.option_code, item_id=item_id, quantity=mp.quantity))
        badges = set(s.scalars(select(m.Packer.badge_code)))
        for name, badge in PACKERS:
            if badge not in badges:
                s.add(m.Packer(name=name, badge_code=badge))
    run_collection(db, account_id, channel, now - timedelta(days=5), now + timedelta(minutes=1), "startup")
    return account_id
