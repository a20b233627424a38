"""Accounts: each kind's fields checked before anything is stored (secrets to the keyring only); pausing stops
collection and dispatch without losing anything; removal keeps every order a station started packing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from packdesk.channels.demo import BARCODE, Scenario
from packdesk.core import models as m
from packdesk.core import words
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind, OutboxState, PackOutcome
from packdesk.core.errors import KnownError
from packdesk.services.accounts import (
    KINDS,
    AccountInvalid,
    AccountSpec,
    add_account,
    courier_codes,
    courier_codes_text,
    parse_courier_codes,
    remove_account,
    set_auto_confirm,
    set_courier_codes,
    set_paused,
)
from packdesk.services.collect import Collector, make_channel
from packdesk.services.dispatch import Uploader
from packdesk.services.secrets import get_secret

NAVER = {"external_id": "4fAkeNaverC0mmerceAp01", "secret": "$2a$04$QKLnou1D2cSH19Pia30bcu"}
COUPANG = {"external_id": "A00012345", "access_key": "ak-1", "secret": "sk-secret"}
SABANG = {"external_id": "myshop", "secret": "sabang-key", "api_url": "https://sbadmin13.sabangnet.co.kr/RTL_API",
          "relay_public_url": "http://203.0.113.5:8765", "relay_port": "8765"}


def test_each_kind_is_added_with_its_secret_in_the_keyring_only(db: Database) -> None:
    ids = {kind: add_account(db, AccountSpec(kind, f"{kind.value} 계정", values, auto_confirm=True))
           for kind, values in ((ChannelKind.NAVER, NAVER), (ChannelKind.COUPANG, COUPANG),
                                (ChannelKind.SABANGNET, SABANG))}
    with db.session() as s:
        accs = {a.kind: a for a in s.scalars(select(m.ChannelAccount))}
    assert accs[ChannelKind.COUPANG].external_id == "A00012345"
    assert json.loads(accs[ChannelKind.COUPANG].options) == {"access_key": "ak-1"}
    assert json.loads(accs[ChannelKind.SABANGNET].options)["relay_port"] == 8765
    assert accs[ChannelKind.NAVER].auto_confirm and not accs[ChannelKind.SABANGNET].auto_confirm  # no 발주확인 there
    assert get_secret(ids[ChannelKind.COUPANG]) == "sk-secret"
    assert get_secret(ids[ChannelKind.SABANGNET]) == "sabang-key"
    with db.session() as s:
        dump = json.dumps([[str(v) for v in row] for row in s.execute(select(m.ChannelAccount)).all()])
    assert "sk-secret" not in dump and "sabang-key" not in dump and NAVER["secret"] not in dump


@pytest.mark.parametrize(("kind", "values", "code", "field"), [
    (ChannelKind.NAVER, {"external_id": "x"}, "account_field_required", "시크릿"),
    (ChannelKind.COUPANG, {**COUPANG, "external_id": "12345"}, "account_field_format", "Vendor ID"),
    (ChannelKind.SABANGNET, {**SABANG, "api_url": "sbadmin13"}, "account_field_format", "API"),
    (ChannelKind.SABANGNET, {**SABANG, "relay_port": ""}, "account_field_required", "port"),
])
def test_a_wrong_field_is_named_and_nothing_stored(db: Database, kind: ChannelKind, values: dict[str, str],
                                                   code: str, field: str) -> None:
    with pytest.raises(AccountInvalid) as bad:
        add_account(db, AccountSpec(kind, "계정", values))
    assert bad.value.code == code and field in str(bad.value.params["field"])
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.ChannelAccount)) == 0


def test_one_name_per_kind(db: Database) -> None:
    add_account(db, AccountSpec(ChannelKind.NAVER, "본점", NAVER))
    with pytest.raises(AccountInvalid) as bad:
        add_account(db, AccountSpec(ChannelKind.NAVER, " 본점 ", NAVER))
    assert bad.value.code == "account_name_taken"
    add_account(db, AccountSpec(ChannelKind.COUPANG, "본점", COUPANG))  # another kind may use it


def test_a_paused_account_is_not_collected_nor_dispatched_until_resumed(demo_db: Database) -> None:
    with demo_db.session() as s:
        acc = s.scalars(select(m.ChannelAccount)).one()
        line = s.scalars(select(m.OrderLine).where(m.OrderLine.account_id == acc.id)).first()
        s.add(m.DispatchEntry(line_id=line.id, account_id=acc.id, product_order_id=line.product_order_id,
                              courier_code="CJGLS", tracking_number="601000000011", state=OutboxState.PENDING,
                              next_attempt_at=datetime.now(UTC)))
        account_id = acc.id
    set_auto_confirm(demo_db, account_id, True)
    set_paused(demo_db, account_id, True)
    collector = Collector(demo_db)
    assert collector.accounts() == [] and collector.run_scheduled() == []
    now = datetime.now(UTC)
    with pytest.raises(KnownError) as paused:
        collector.run_manual(account_id, now - timedelta(days=1), now, started_by="관리자")
    assert paused.value.code == "account_paused"
    up = Uploader(demo_db)
    try:
        assert up.run_once().sent == 0 and up.counts().waiting == 1  # waits, nothing lost
        set_paused(demo_db, account_id, False)
        assert up.run_once().sent == 1
    finally:
        up.close()


def test_removal_keeps_what_a_station_started_and_removes_the_rest(demo_db: Database) -> None:
    with demo_db.session() as s:
        account_id = s.scalar(select(m.ChannelAccount.id))
        wb_packed = s.scalar(select(m.Waybill.id).where(m.Waybill.tracking_number == Scenario.SIMPLE))
        wb_started = s.scalar(select(m.Waybill.id).where(m.Waybill.tracking_number == Scenario.GIFT_SET))
        now = datetime.now(UTC)
        done = m.PackSession(key="k-done", waybill_id=wb_packed, station="S1", packer_name="김민수", started_at=now,
                             ended_at=now, outcome=PackOutcome.COMPLETED)
        cancelled = m.PackSession(key="k-cancel", waybill_id=wb_started, station="S1", packer_name="김민수",
                                  started_at=now, ended_at=now, outcome=PackOutcome.CANCELLED)
        s.add_all([done, cancelled])
        s.flush()
        s.add(m.ScanEvent(pack_session_id=cancelled.id, station="S1", scanned_at=now, code=BARCODE["MUG-WH-01"],
                          source="wedge", kind="item", accepted=True))
        s.add(m.Recording(pack_session_id=done.id, tracking_number=Scenario.SIMPLE, station="S1", path="/v/x.ts",
                          started_at=now))
        for ln in s.scalars(select(m.OrderLine).where(m.OrderLine.waybill_id == wb_packed)):
            ln.packed_session_id = done.id
        orders_before = s.scalar(select(func.count()).select_from(m.Order))
        kept_orders = {o for (o,) in s.execute(select(m.OrderLine.order_id).where(
            m.OrderLine.waybill_id.in_([wb_packed, wb_started])))}
    result = remove_account(demo_db, account_id, by="관리자")
    assert result.orders_kept == len(kept_orders) and result.orders_removed == orders_before - len(kept_orders)
    assert result.products_removed > 0
    with demo_db.session() as s:
        assert set(s.scalars(select(m.Order.id))) == kept_orders
        assert s.scalar(select(func.count()).select_from(m.SalesProduct)) == 0
        assert s.scalar(select(func.count()).select_from(m.ProductMapping)) == 0
        assert s.scalar(select(func.count()).select_from(m.ScanEvent)) == 1
        assert s.scalar(select(func.count()).select_from(m.Recording)) == 1
        acc = s.get_one(m.ChannelAccount, account_id)
        assert not acc.active and acc.removed_at is not None
    assert get_secret(account_id) is None


def test_courier_codes_have_a_place_in_the_account(db: Database) -> None:
    """A market's own courier codes (ours=theirs), typed in the account form or changed later; the channel
    sends them. Ours may be written as people write couriers (한진, 로젠, KGB)."""
    assert parse_courier_codes(" 로젠=KGBPS, HANJIN = HANJIN_NEW ;\n") == {"KGB": "KGBPS", "HANJIN": "HANJIN_NEW"}
    assert parse_courier_codes("") == {}
    for bad in ("KGB", "없는택배=X1", "KGB=KGB PS", "KGB=" + "X" * 21, "=KGBPS"):
        with pytest.raises(AccountInvalid) as ei:
            parse_courier_codes(bad)
        assert ei.value.code == "account_field_format" and "Courier codes" in str(ei.value.params["field"])
    account = add_account(db, AccountSpec(ChannelKind.COUPANG, "쿠팡", {**COUPANG, "courier_codes": "로젠=KGBPS"}))
    assert courier_codes(db, account) == {"KGB": "KGBPS"}
    with db.session() as s:
        channel = make_channel(s.get_one(m.ChannelAccount, account))
    assert channel.courier_overrides == {"KGB": "KGBPS"}  # type: ignore[attr-defined]
    channel.close()  # type: ignore[attr-defined]
    assert set_courier_codes(db, account, "HYUNDAI=LOTTE") == {"HYUNDAI": "LOTTE"}
    assert courier_codes_text(courier_codes(db, account)) == "HYUNDAI=LOTTE"
    with pytest.raises(AccountInvalid):
        set_courier_codes(db, account, "롯데")
    assert courier_codes(db, account) == {"HYUNDAI": "LOTTE"}  # a refused change keeps what was there
    set_courier_codes(db, account, " ")
    with db.session() as s:
        assert "courier_codes" not in json.loads(s.get_one(m.ChannelAccount, account).options)
    with pytest.raises(AccountInvalid):
        add_account(db, AccountSpec(ChannelKind.COUPANG, "쿠팡 2", {**COUPANG, "courier_codes": "CJ"}))


def test_a_coupang_account_confirms_what_it_collects_unless_told_not_to() -> None:
    """The form starts ticked for Coupang (no invoice goes for an unconfirmed box; see
    docs/marketplaces/coupang.md B.4); others as before."""
    assert KINDS[ChannelKind.COUPANG].confirm_default is True
    assert KINDS[ChannelKind.NAVER].confirm_default is False
    assert any(f.key == "courier_codes" for f in KINDS[ChannelKind.SABANGNET].fields)


# --- a PC without a usable keyring ----------------------------------------------------------------------
FAIL_BACKEND = "keyring.backends.fail.Keyring"


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """A PC where keyring finds no backend (a Linux desktop without a Secret Service): every call fails."""
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_without_a_keyring_no_account_is_created_and_the_message_names_what_is_missing(
        db: Database, no_keyring: None, expect_warnings: Any) -> None:
    from packdesk.services.secrets import SecretStoreUnavailable
    from packdesk.ui.messages import error_text

    with pytest.raises(SecretStoreUnavailable) as refused:
        add_account(db, AccountSpec(ChannelKind.NAVER, "내 스토어", NAVER))
    assert refused.value.code == "account_secret_not_stored" and refused.value.params["backend"] == FAIL_BACKEND
    ko, en = error_text(refused.value)
    assert ko.startswith("계정을 추가하지 않았습니다") and FAIL_BACKEND in ko and "Secret Service" in ko
    assert en.startswith("The account was not added") and "GNOME Keyring" in en
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.ChannelAccount)) == 0  # nothing left "active"


def test_removing_an_account_whose_secret_cannot_be_deleted_removes_it_and_says_so(
        db: Database, memory_keyring: Any, expect_warnings: Any) -> None:
    import keyring
    from keyring.backends import fail

    acc = add_account(db, AccountSpec(ChannelKind.NAVER, "내 스토어", NAVER))
    keyring.set_keyring(fail.Keyring())  # the keyring went away since (locked, its service stopped)
    try:
        removal = remove_account(db, acc, by="관리자")
    finally:
        keyring.set_keyring(memory_keyring)
    assert removal.secret_left == FAIL_BACKEND
    with db.session() as s:
        a = s.get_one(m.ChannelAccount, acc)
        assert not a.active and a.removed_at is not None
    assert get_secret(acc) == NAVER["secret"]  # it is still there: the screen says so, to be deleted by hand
    assert remove_account(db, acc).secret_left == ""  # with the keyring back, removing again erases it
    assert get_secret(acc) is None


def test_a_run_without_a_keyring_fails_with_words_naming_the_missing_keyring(db: Database, memory_keyring: Any,
                                                                             expect_warnings: Any) -> None:
    import keyring
    from keyring.backends import fail

    from packdesk.ui.collect_view import run_error

    acc = add_account(db, AccountSpec(ChannelKind.NAVER, "내 스토어", NAVER))
    keyring.set_keyring(fail.Keyring())
    try:
        now = datetime.now(UTC)
        run = Collector(db).run_manual(acc, now - timedelta(hours=1), now, started_by="관리자")
        text = run_error(run, "내 스토어")
    finally:
        keyring.set_keyring(memory_keyring)
    assert (run.status, run.error_code) == (m.RunStatus.FAILED, "secret_store_unavailable")
    assert FAIL_BACKEND in text and "OS 키링" in text and "secret_store_unavailable" not in text


def test_every_missing_and_malformed_field_is_named_at_once(db: Database) -> None:
    with pytest.raises(AccountInvalid) as bad:
        add_account(db, AccountSpec(ChannelKind.COUPANG, " ", {"external_id": "12345"}))
    assert bad.value.code == "account_fields_invalid" and bad.value.keys == ("name", "access_key", "secret",
                                                                               "external_id")
    assert words.words(bad.value.code, bad.value.params) == (
        "입력하세요: 이름, 액세스 키, 시크릿 키 — 형식이 맞지 않습니다: 업체 코드",
        "Required: Name, Access key, Secret key — not in the expected form: Vendor ID")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(m.ChannelAccount)) == 0
