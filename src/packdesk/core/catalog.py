"""Sales products: every (account, product code, option code) a marketplace has sold, remembered so a
person can link the unlinked ones to physical items (``ProductMapping``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from packdesk.core import models as m


def register_sales_product(s: Session, account_id: int, product_code: str, option_code: str, product_name: str,
                           option_name: str, seen_at: datetime) -> bool:
    """Upsert; True when the product was new. Names follow the marketplace's latest wording."""
    sp = s.scalars(select(m.SalesProduct).where(m.SalesProduct.account_id == account_id,
                                                m.SalesProduct.product_code == product_code,
                                                m.SalesProduct.option_code == option_code)).first()
    if sp is None:
        s.add(m.SalesProduct(account_id=account_id, product_code=product_code, option_code=option_code,
                             product_name=product_name, option_name=option_name, first_seen_at=seen_at,
                             last_seen_at=seen_at))
        s.flush()
        return True
    sp.product_name, sp.option_name, sp.last_seen_at = product_name or sp.product_name, option_name, seen_at
    return False


def register_sales_products(s: Session, account_id: int, seen: list[tuple[str, str, str, str]],
                            seen_at: datetime) -> int:
    """``register_sales_product`` for many (product code, option code, product name, option name) at once, a
    few statements in all; the last wording of a product wins. Returns how many were new."""
    latest = {(code, option): (name, option_name) for code, option, name, option_name in seen}
    if not latest:
        return 0
    codes = sorted({code for code, _ in latest})
    known: dict[tuple[str, str], tuple[int, str]] = {}
    for i in range(0, len(codes), 500):
        for sp_id, code, option, name in s.execute(
                select(m.SalesProduct.id, m.SalesProduct.product_code, m.SalesProduct.option_code,
                       m.SalesProduct.product_name)
                .where(m.SalesProduct.account_id == account_id, m.SalesProduct.product_code.in_(codes[i:i + 500]))):
            known[(code, option)] = (sp_id, name)
    new = [{"account_id": account_id, "product_code": code, "option_code": option, "product_name": name,
            "option_name": option_name, "first_seen_at": seen_at, "last_seen_at": seen_at, "is_new": True,
            "deleted": False}
           for (code, option), (name, option_name) in latest.items() if (code, option) not in known]
    if new:
        s.execute(insert(m.SalesProduct), new)
    old = [{"id": known[key][0], "product_name": name or known[key][1], "option_name": option_name,
            "last_seen_at": seen_at} for key, (name, option_name) in latest.items() if key in known]
    if old:
        s.execute(update(m.SalesProduct), old)
    return len(new)
