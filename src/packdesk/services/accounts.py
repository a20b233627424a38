"""Marketplace accounts: adding one of each kind with its credentials, the switches a supervisor needs
(pause, order-confirm mode), the connection test, and removal.

What each kind needs is declared once, by its market (``channels/registry.py``; ``KINDS`` here: the ones an
account can be added for); the accounts screen is built from it. Secrets go to the OS keyring only
(``services/secrets.py``); identifiers and addresses go to the account's options.

Removal keeps the evidence: orders that any station started packing (their packs, scans and recordings),
and everything packed. It removes the account's sales products, their links, and its orders nobody has
started packing; the marketplace itself is never told anything.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update

from packdesk.channels import registry
from packdesk.channels.base import ChecksConnection, close_channel
from packdesk.channels.registry import COURIER_CODES_FIELD, AccountInvalid, Market
from packdesk.core import models as m
from packdesk.core.couriers import UnknownCourier, resolve
from packdesk.core.db import Database, changed_rows
from packdesk.core.errors import Words
from packdesk.core.models import utcnow
from packdesk.core.order_removal import delete_orders, unstarted_orders
from packdesk.core.words import english, korean
from packdesk.services.collect import make_channel
from packdesk.services.secrets import SecretStoreUnavailable, delete_secret, set_secret

log = logging.getLogger("packdesk.accounts")


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


class _AddableMarkets(Mapping[str, Market]):
    """The markets an account can be added for, read from the registry at each use: a market registered after
    this module was imported (a test's fake one) is offered too."""

    def __getitem__(self, kind: str) -> Market:
        found = registry.market(kind)
        if found is None or not found.addable:
            raise KeyError(kind)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter([mk.kind for mk in registry.markets() if mk.addable])

    def __len__(self) -> int:
        return sum(1 for mk in registry.markets() if mk.addable)


# what each kind of account needs, declared by its market (channels/registry.py); the account form is built from it
KINDS: Mapping[str, Market] = _AddableMarkets()


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


@dataclass
class AccountSpec:
    kind: str  # a registered market's kind (channels/registry.py)
    name: str
    values: Mapping[str, str] = field(default_factory=dict)  # FieldSpec.key -> text as typed
    auto_confirm: bool = False


NAME_LABEL = "이름 / Name"


def _named(labels: list[str]) -> Words:
    """Field labels ("한국어 / English" each) as one parameter, each language's halves joined."""
    return Words(", ".join(korean(x) for x in labels), ", ".join(english(x) for x in labels))


def validate(spec: AccountSpec) -> tuple[str, str, dict[str, Any]]:
    """(external id, secret, options) from what was typed; ``AccountInvalid`` names every field that is
    missing or malformed at once (``keys``: the form's fields to mark), so a person fixes the form in one go
    instead of one refusal per field."""
    kind = KINDS.get(spec.kind)
    if kind is None:
        raise AccountInvalid("account_field_format", detail=f"no account kind {spec.kind}", field="kind")
    missing: list[tuple[str, str]] = []    # (key, label)
    malformed: list[tuple[str, str]] = []
    extra_keys: list[str] = []  # more fields to mark for a missing rule of several fields
    name = spec.name.strip()
    if not name:
        missing.append(("name", NAME_LABEL))
    elif len(name) > 100:
        malformed.append(("name", NAME_LABEL))
    external, secret = "", ""
    options: dict[str, Any] = {}
    for f in kind.fields:
        value = (spec.values.get(f.key) or "").strip()
        if not value:
            if f.required:
                missing.append((f.key, f.label))
            continue
        if f.pattern and not re.fullmatch(f.pattern, value):
            malformed.append((f.key, f.label))
            continue
        if f.key == "external_id":
            external = value
        elif f.key == "secret":
            secret = value
        elif f.key == COURIER_CODES_FIELD.key:
            try:
                options[f.key] = parse_courier_codes(value)
            except AccountInvalid:
                malformed.append((f.key, f.label))
        else:
            options[f.key] = int(value) if f.integer else value
    if kind.check is not None:
        try:
            kind.check(options)  # a rule over several fields (Sabangnet's relay)
        except AccountInvalid as e:
            if e.code != "account_field_required":
                if not missing and not malformed:
                    raise
            elif not {k for k, _ in malformed} & set(e.keys):  # named with the other missing fields
                first, *rest = e.keys or ("",)
                missing.append((first, str(e.params.get("field", ""))))
                extra_keys.extend(rest)
    keys = tuple(k for k, _ in missing + malformed if k) + tuple(extra_keys)
    detail = f"missing {[k for k, _ in missing]}, malformed {[k for k, _ in malformed]}"
    if missing and malformed:
        raise AccountInvalid("account_fields_invalid", detail=detail, keys=keys,
                             missing=_named([x for _, x in missing]), malformed=_named([x for _, x in malformed]))
    if missing:
        raise AccountInvalid("account_field_required", detail=detail, keys=keys,
                             field=_named([x for _, x in missing]))
    if malformed:
        raise AccountInvalid("account_field_format", detail=detail, keys=keys,
                             field=_named([x for _, x in malformed]))
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
            acc = m.ChannelAccount(kind=KINDS[spec.kind].kind, name=spec.name.strip(), external_id=external,
                                   auto_confirm=spec.auto_confirm and KINDS[spec.kind].can_confirm,
                                   options=json.dumps(options, ensure_ascii=False))
            s.add(acc)
            s.flush()
            account_id = acc.id
            if secret:
                try:
                    set_secret(account_id, secret)  # never into the database
                except SecretStoreUnavailable as e:
                    log.warning("account %s %s not added: its secret cannot be stored (%s)", spec.kind,
                                spec.name.strip(), e.detail)
                    raise SecretStoreUnavailable("account_secret_not_stored", detail=e.detail, **e.params) from None
                stored = True
    except Exception:
        if stored:  # the row was not added after all: its secret goes too
            with contextlib.suppress(SecretStoreUnavailable):
                delete_secret(account_id)
        raise
    log.info("account %s added: %s %s", account_id, spec.kind, spec.name)
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
        market = registry.market(acc.kind)
        acc.auto_confirm = on and (market is None or market.can_confirm)


def flip_auto_confirm(db: Database, account_id: int) -> bool:
    """Turn the account's auto-confirm the other way, read and written in one transaction; what was asked
    for (on or off)."""
    with db.session() as s:
        acc = s.get_one(m.ChannelAccount, account_id)
        on = not acc.auto_confirm
        market = registry.market(acc.kind)
        acc.auto_confirm = on and (market is None or market.can_confirm)
    return on


def test_connection(db: Database, account_id: int) -> object:
    """``check_connection`` for an account by id: the account is read here, off the caller's UI thread."""
    with db.session() as s:
        account = s.get_one(m.ChannelAccount, account_id)
    return check_connection(account)


def check_connection(account: m.ChannelAccount) -> object:
    """The market's connection test for the account (what it proves is the market's: credentials, address,
    IP allow-list, clock); a market without one is taken as connected once its channel could be built.
    Raises what the channel raises (``ChannelError`` kinds, ``AccountNotReady``)."""
    channel = make_channel(account)
    try:
        return channel.test_connection() if isinstance(channel, ChecksConnection) else True
    finally:
        close_channel(channel)


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
