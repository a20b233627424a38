"""A Coupang shop set up the way a seller sets one up, through the product's own functions only: the account
added as the account form adds it, products linked to shipping items as the product-link screen makes them,
packers added as the staff screen adds them, and a tracking number given to a collected order as a supervisor
types it (``services/orders.attach_tracking``: the day-one flow). Used by the service tests of issue #22 and
by ``tests/e2e/test_coupang.py``; never writes a waybill, a packer or a line itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind
from packdesk.core.tracking import with_check_digit
from packdesk.services import orders as so
from packdesk.services.accounts import AccountSpec, add_account
from packdesk.services.collect import Collector
from packdesk.services.mapping import LinkState, NewItem, ProductFilter, create_items, list_sales_products
from packdesk.services.staff import add_packer
from tests.fakes.coupang import FakeCoupang


def coupang_account(db: Database, fake: FakeCoupang, *, auto_confirm: bool = True, courier_codes: str = "") -> int:
    """The account as the form adds it (access key in the options, secret key to the keyring)."""
    values = {"external_id": fake.vendor_id, "access_key": fake.access_key, "secret": fake.secret_key,
              "base_url": fake.base_url, "courier_codes": courier_codes}
    return add_account(db, AccountSpec(ChannelKind.COUPANG, "쿠팡 윙", values, auto_confirm=auto_confirm))


def collect(db: Database, account_id: int, collector: Collector | None = None) -> m.CollectionRun:
    """*Collect now* over the last day (and the next minutes: the fake stamps sheets with its own clock)."""
    now = datetime.now(UTC)
    return (collector or Collector(db)).run_manual(account_id, now - timedelta(days=1), now + timedelta(minutes=5),
                                                   started_by="tester")


def receiver(n: int) -> dict[str, str]:
    """A buyer of their own: boxes to one recipient at one address share a parcel (합포장), others do not."""
    return {"name": f"김*{'가나다라마바사아자차'[n % 10]}", "addr1": f"서울특별시 송파구 송파대로 {570 + n}",
            "addr2": f"{101 + n}동 1001호", "postCode": "05510"}


def barcode_of(option_code: str) -> str:
    return f"CPG{option_code}"


def link_products(db: Database, account_id: int) -> None:
    """Every unlinked sales product of the account gets a shipping item of its own, barcode ``CPG<option>``."""
    with db.session() as s:
        rows = list_sales_products(s, ProductFilter(account_id=account_id, state=LinkState.UNLINKED, limit=None))
        if rows:
            create_items(s, [NewItem(r.id, f"CP-{r.option_code}", r.product_name or r.option_code, r.option_name,
                                     (barcode_of(r.option_code),)) for r in rows])


def packer_badge(db: Database, name: str = "박포장") -> str:
    with db.session() as s:
        return add_packer(s, name).badge_code


def order_id(db: Database, account_id: int, order_no: int | str) -> int:
    with db.session() as s:
        return s.scalars(select(m.Order.id).where(m.Order.account_id == account_id,
                                                  m.Order.order_no == str(order_no))).one()


def give_waybill(db: Database, account_id: int, order_no: int | str, body: str, courier: str = "CJGLS") -> str:
    """A supervisor types the label's number for a collected order (its whole parcel gets it); the number is
    ``body`` with its check digit, one CJ대한통운 could have issued. Returns it."""
    number = with_check_digit(body)
    with db.session() as s:
        so.attach_tracking(s, order_id(db, account_id, order_no), courier, number, "supervisor")
    return number
