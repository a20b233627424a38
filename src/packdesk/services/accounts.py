"""Marketplace accounts: adding one of each kind with its credentials, the switches a supervisor needs
(pause, order-confirm mode), the connection test, and removal.

What each kind needs is declared once in ``KINDS``; the accounts screen is built from it. Secrets go to the
OS keyring only (``services/secrets.py``); identifiers and addresses go to the account's options.

Removal keeps the evidence: orders that any station started packing (their packs, scans and recordings),
and everything packed. It removes the account's sales products, their links, and its orders nobody has
started packing; the marketplace itself is never told anything.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update

from packdesk.core import models as m
from packdesk.core.couriers import UnknownCourier, resolve
from packdesk.core.db import Database, changed_rows
from packdesk.core.enums import ChannelKind
from packdesk.core.errors import KnownError
from packdesk.core.models import utcnow
from packdesk.core.order_removal import delete_orders, unstarted_orders
from packdesk.services.secrets import SecretStoreUnavailable, delete_secret, set_secret

log = logging.getLogger("packdesk.accounts")


@dataclass(frozen=True)
class FieldSpec:
    key: str                 # "external_id", "secret", or an options key
    label: str               # Korean / English
    required: bool = True
    secret: bool = False
    placeholder: str = ""
    pattern: str = ""        # a regular expression the value must match
    help: str = ""           # shown under the field when the account is set up


@dataclass(frozen=True)
class KindSpec:
    kind: ChannelKind
    label: str
    fields: tuple[FieldSpec, ...]
    can_confirm: bool = True  # has a 발주확인 of its own
    confirm_default: bool = False  # the account form's "confirm after collecting" starts ticked


CODE_RULE_HELP = (
    "product_option (권장): 상품번호 + 옵션 조합 — 주문과 상품 목록이 같은 코드로 이어집니다. "
    "seller_code: 판매자 관리코드 (없으면 상품번호 + 옵션). 나중에 바꾸면 상품이 새 코드로 다시 나타나 연결이 "
    "필요합니다 (기존 연결은 옛 코드에 남음) / product_option (recommended): product number + option combination. "
    "seller_code: the seller's own management code (else product + option). Changed later, products appear again "
    "under the new codes to be linked; the old links stay with the old codes.")


COURIER_CODES_HELP = (
    "이 마켓이 우리 택배사 코드와 다른 코드를 쓸 때만: 우리코드=마켓코드, 쉼표로 구분 (예: KGB=KGBPS). 마켓이 "
    "모르는 코드로 송장 전송이 거부되면 여기서 고친 뒤 발송 대기함에서 다시 전송하세요 / Only where this market's "
    "code differs from ours: ours=theirs, comma-separated (e.g. KGB=KGBPS). When the market refuses a courier code, "
    "fix it here, then resend from the dispatch outbox.")
COURIER_CODES_FIELD = FieldSpec("courier_codes", "택배사 코드 (선택) / Courier codes (optional)", required=False,
                                placeholder="예 / e.g. KGB=KGBPS", help=COURIER_CODES_HELP)
_THEIR_CODE = re.compile(r"[A-Za-z0-9_]{1,20}")


def parse_courier_codes(text: str) -> dict[str, str]:
    """``"KGB=KGBPS, 롯데=HYUNDAI"`` as ``{"KGB": "KGBPS", "HYUNDAI": "HYUNDAI"}``: ours (a code or a name a
    person uses) = the marketplace's. Empty: none. ``AccountInvalid`` names the field for anything else."""
    codes: dict[str, str] = {}
    for part in re.split(r"[,\n;]", text):
        if not part.strip():
            continue
        ours, sep, theirs = (p.strip() for p in part.partition("="))
        try:
            courier = resolve(ours) if sep else None
        except UnknownCourier:
            courier = None
        if courier is None or not _THEIR_CODE.fullmatch(theirs):
            raise AccountInvalid("account_field_format", detail=f"courier code entry {part.strip()!r}",
                                 field=COURIER_CODES_FIELD.label)
        codes[courier.code] = theirs
    return codes


def courier_codes_text(codes: Mapping[str, str] | None) -> str:
    """The account's courier codes as a person types them (``parse_courier_codes`` reads it back)."""
    return ", ".join(f"{ours}={theirs}" for ours, theirs in (codes or {}).items())


KINDS: dict[ChannelKind, KindSpec] = {
    ChannelKind.NAVER: KindSpec(ChannelKind.NAVER, "네이버 스마트스토어 / Naver SmartStore", (
        FieldSpec("external_id", "애플리케이션 ID / Application ID"),
        FieldSpec("secret", "애플리케이션 시크릿 / Application secret", secret=True, placeholder="$2a$04$…"),
        FieldSpec("base_url", "API 주소 (비우면 기본값) / API address (empty: default)", required=False,
                  pattern=r"https?://\S+"),
        FieldSpec("catalogue_hour", "상품 동기화 시각 (0-23시, 비우면 설정값) / Product sync hour (empty: settings)",
                  required=False, placeholder="6", pattern=r"([01]?\d|2[0-3])"),
        FieldSpec("code_rule", "판매상품 코드 규칙 / Sales product codes", required=False, placeholder="product_option",
                  pattern=r"product_option|seller_code", help=CODE_RULE_HELP),
    )),
    ChannelKind.COUPANG: KindSpec(ChannelKind.COUPANG, "쿠팡 윙 / Coupang Wing", (
        FieldSpec("external_id", "업체 코드 / Vendor ID", placeholder="A00012345", pattern=r"[AC]\d{5,12}"),
        FieldSpec("access_key", "액세스 키 / Access key"),
        FieldSpec("secret", "시크릿 키 / Secret key", secret=True),
        FieldSpec("base_url", "API 주소 (비우면 기본값) / API address (empty: default)", required=False,
                  pattern=r"https?://\S+"),
        COURIER_CODES_FIELD,
    # ticked: Coupang takes no tracking number for an order still 결제완료, and sellers confirm what they collect
    # (the buyer can then no longer change the address of a parcel being labelled); see docs/user-guide.md, Coupang
    ), confirm_default=True),
    ChannelKind.SABANGNET: KindSpec(ChannelKind.SABANGNET, "사방넷 / Sabangnet", (
        FieldSpec("external_id", "사방넷 아이디 / Sabangnet ID"),
        FieldSpec("secret", "연동 키 / API key", secret=True),
        FieldSpec("api_url", "API 주소 / API address", placeholder="https://sbadmin13.sabangnet.co.kr/RTL_API",
                  pattern=r"https?://\S+"),
        FieldSpec("relay_public_url", "요청 XML 공개 주소 (이 PC의 외부 주소:포트) / Public address of this PC "
                  "for request XML", required=False, placeholder="http://203.0.113.5:8765", pattern=r"https?://\S+"),
        FieldSpec("relay_port", "요청 XML 포트 / Port for request XML", required=False, placeholder="8765",
                  pattern=r"\d{2,5}"),
        FieldSpec("relay_put_url", "또는 업로드 주소 (PUT, {name}) / or upload address (PUT, {name})", required=False,
                  placeholder="https://my.web.host/dav/{name}.xml", pattern=r"https?://\S*\{name\}\S*"),
        FieldSpec("relay_get_url", "그 공개 주소 (GET, {name}) / its public address (GET, {name})", required=False,
                  placeholder="https://my.web.host/px/{name}.xml", pattern=r"https?://\S*\{name\}\S*"),
        FieldSpec("logistics_place_id", "물류처 ID (선택) / Logistics place ID (optional)", required=False),
        COURIER_CODES_FIELD,
    ), can_confirm=False),
}


def set_code_rule(db: Database, account_id: int, rule: str) -> int:
    """A new naming rule for the account's sales products; returns how many links keep the old codes (they
    stay, for the orders already collected under them)."""
    if rule not in ("product_option", "seller_code"):
        raise AccountInvalid("account_field_format", detail=f"code rule {rule!r}", field="code_rule")
    with db.session() as s:
        acc = s.get_one(m.ChannelAccount, account_id)
        options = json.loads(acc.options or "{}")
        options["code_rule"] = rule
        acc.options = json.dumps(options, ensure_ascii=False)
        links = s.scalar(select(func.count()).select_from(m.ProductMapping)
                         .where(m.ProductMapping.account_id == account_id)) or 0
    log.info("account %s names its products by %s now (%d links keep the old codes)", account_id, rule, links)
    return links


class AccountInvalid(KnownError):
    code = "account_invalid"


@dataclass
class AccountSpec:
    kind: ChannelKind
    name: str
    values: Mapping[str, str] = field(default_factory=dict)  # FieldSpec.key -> text as typed
    auto_confirm: bool = False


def validate(spec: AccountSpec) -> tuple[str, str, dict[str, Any]]:
    """(external id, secret, options) from what was typed; ``AccountInvalid`` names the field and why."""
    kind = KINDS.get(spec.kind)
    if kind is None:
        raise AccountInvalid("account_field_format", detail=f"no account kind {spec.kind}", field="kind")
    name = spec.name.strip()
    if not name or len(name) > 100:
        raise AccountInvalid("account_field_required", detail="name", field="이름 / Name")
    external, secret = "", ""
    options: dict[str, Any] = {}
    for f in kind.fields:
        value = (spec.values.get(f.key) or "").strip()
        if not value:
            if f.required:
                raise AccountInvalid("account_field_required", detail=f"{f.key} missing", field=f.label)
            continue
        if f.pattern and not re.fullmatch(f.pattern, value):
            raise AccountInvalid("account_field_format", detail=f"{f.key} does not match {f.pattern}", field=f.label)
        if f.key == "external_id":
            external = value
        elif f.key == "secret":
            secret = value
        elif f.key == "courier_codes":
            options[f.key] = parse_courier_codes(value)
        else:
            options[f.key] = int(value) if f.key in ("relay_port", "catalogue_hour") else value
    if spec.kind is ChannelKind.SABANGNET:  # Sabangnet fetches the request XML: it must be reachable somehow
        local = "relay_public_url" in options and "relay_port" in options
        put = "relay_put_url" in options and "relay_get_url" in options
        if not (local or put):
            raise AccountInvalid("account_field_required", detail="no relay for the request XML",
                                 field="요청 XML 공개 주소+포트, 또는 업로드 주소+공개 주소 / public address+port, or "
                                       "upload+public address")
    return external, secret, options


def add_account(db: Database, spec: AccountSpec) -> int:
    """Add the account, only with its secret stored: the secret goes to the keyring inside the transaction
    that adds the row, so a keyring that refuses it (none on this PC) leaves no account behind
    (``account_secret_not_stored``, naming the backend), and a row that cannot be added leaves no secret."""
    external, secret, options = validate(spec)
    stored = False
    try:
        with db.session() as s:
            taken = s.scalar(select(m.ChannelAccount.id).where(m.ChannelAccount.kind == spec.kind,
                                                               m.ChannelAccount.name == spec.name.strip()))
            if taken is not None:
                raise AccountInvalid("account_name_taken", detail="name taken", name=spec.name.strip())
            acc = m.ChannelAccount(kind=spec.kind, name=spec.name.strip(), external_id=external,
                                   auto_confirm=spec.auto_confirm and KINDS[spec.kind].can_confirm,
                                   options=json.dumps(options, ensure_ascii=False))
            s.add(acc)
            s.flush()
            account_id = acc.id
            if secret:
                try:
                    set_secret(account_id, secret)  # never into the database
                except SecretStoreUnavailable as e:
                    log.warning("account %s %s not added: its secret cannot be stored (%s)", spec.kind.value,
                                spec.name.strip(), e.detail)
                    raise SecretStoreUnavailable("account_secret_not_stored", detail=e.detail, **e.params) from None
                stored = True
    except Exception:
        if stored:  # the row was not added after all: its secret goes too
            with contextlib.suppress(SecretStoreUnavailable):
                delete_secret(account_id)
        raise
    log.info("account %s added: %s %s", account_id, spec.kind.value, spec.name)
    return account_id


def set_courier_codes(db: Database, account_id: int, text: str) -> dict[str, str]:
    """The account's own courier codes (ours=theirs), replacing the old ones; empty text removes them. The
    dispatch uploader makes the account's channel again at its next pass, so a resend uses them."""
    codes = parse_courier_codes(text)
    with db.session() as s:
        acc = s.get_one(m.ChannelAccount, account_id)
        options = json.loads(acc.options or "{}")
        if codes:
            options["courier_codes"] = codes
        else:
            options.pop("courier_codes", None)
        acc.options = json.dumps(options, ensure_ascii=False)
    log.info("account %s courier codes: %s", account_id, courier_codes_text(codes) or "none")
    return codes


def courier_codes(db: Database, account_id: int) -> dict[str, str]:
    with db.session() as s:
        options = json.loads(s.get_one(m.ChannelAccount, account_id).options or "{}")
    codes = options.get("courier_codes")
    return dict(codes) if isinstance(codes, dict) else {}


def set_paused(db: Database, account_id: int, paused: bool) -> None:
    """Paused: no collection and no dispatch for it until resumed; queued dispatches wait, nothing is lost."""
    with db.session() as s:
        s.execute(update(m.ChannelAccount).where(m.ChannelAccount.id == account_id).values(paused=paused))
    log.info("account %s %s", account_id, "paused" if paused else "resumed")


def set_auto_confirm(db: Database, account_id: int, on: bool) -> None:
    with db.session() as s:
        acc = s.get_one(m.ChannelAccount, account_id)
        acc.auto_confirm = on and KINDS.get(acc.kind, KINDS[ChannelKind.NAVER]).can_confirm


def _unstarted_orders(account_id: int) -> Any:
    """Orders of the account that no station started packing (``core/order_removal.py``)."""
    return unstarted_orders(m.Order.account_id == account_id)


@dataclass(frozen=True)
class Removal:
    orders_removed: int
    orders_kept: int
    products_removed: int
    secret_left: str = ""  # the keyring backend that could not delete the secret ("": it is gone)


def remove_account(db: Database, account_id: int, by: str = "") -> Removal:
    """Remove an account from this warehouse. Kept: every order a station started packing (with its packs,
    scans and recordings) and the account row they point at (marked removed). Removed: its sales products
    and their links, its other orders, its secret. The marketplace is not changed."""
    with db.session() as s:
        ids = list(s.scalars(_unstarted_orders(account_id)))
        removed = delete_orders(s, ids)
        kept = s.scalar(select(func.count()).select_from(m.Order).where(m.Order.account_id == account_id)) or 0
        s.execute(delete(m.ProductMapping).where(m.ProductMapping.account_id == account_id))
        products = changed_rows(s.execute(delete(m.SalesProduct).where(m.SalesProduct.account_id == account_id)))
        acc = s.get_one(m.ChannelAccount, account_id)
        acc.active, acc.removed_at = False, utcnow()
    left = ""
    try:
        delete_secret(account_id)
    except SecretStoreUnavailable as e:  # removed all the same; the screen says the secret may be left
        left = str(e.params.get("backend", ""))
        log.warning("account %s removed, but its secret could not be deleted from the keyring (%s)", account_id,
                    e.detail)
    log.info("%s removed account %s: %d order(s) removed, %d kept (packing started), %d product(s)",
             by or "someone", account_id, removed, kept, products)
    return Removal(removed, kept, products, left)
