"""Sales products: every (account, product code, option code) a marketplace has sold, remembered so a
person can link the unlinked ones to physical items (``ProductMapping``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
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
