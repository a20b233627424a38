"""Self-tests of the fake Naver Commerce API: raw HTTP with httpx, checked against the spec
(docs/marketplaces/smartstore.md), not against any PackDesk client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.fakes.naver import KST, FakeClock, FakeNaver, fmt_dt, make_signature, new_client_secret

LAST_CHANGED = "/v1/pay-order/seller/product-orders/last-changed-statuses"
QUERY = "/v1/pay-order/seller/product-orders/query"
CONFIRM = "/v1/pay-order/seller/product-orders/confirm"
DISPATCH = "/v1/pay-order/seller/product-orders/dispatch"
TOKEN = "/v1/oauth2/token"


# --- helpers --------------------------------------------------------------------------------------------
def token_form(fake: FakeNaver, *, ts_offset: float = 0.0, **overrides: Any) -> dict[str, Any]:
    ts = int((fake.clock() + ts_offset) * 1000)
    form = {"client_id": fake.client_id, "timestamp": str(ts), "grant_type": "client_credentials",
            "client_secret_sign": fake.sign(ts), "type": "SELF"}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def get_token(http: httpx.Client, fake: FakeNaver, **overrides: Any) -> httpx.Response:
    return http.post(TOKEN, data=token_form(fake, **overrides), headers={"Accept": "application/json"})


def bearer(http: httpx.Client, fake: FakeNaver) -> dict[str, str]:
    r = get_token(http, fake)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def dispatch_item(pid: str, **overrides: Any) -> dict[str, Any]:
    item = {"productOrderId": pid, "deliveryMethod": "DELIVERY", "deliveryCompanyCode": "CJGLS",
            "trackingNumber": "612345678901", "dispatchDate": fmt_dt(overrides.pop("now"))}
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


def assert_gateway_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code
    assert set(body) >= {"code", "message", "timestamp", "traceId"}
    assert body["traceId"] == r.headers["GNCP-GW-Trace-ID"]
    return body


def all_last_changed(http: httpx.Client, auth: dict[str, str], start: str, end: str | None = None,
                     **extra: Any) -> tuple[list[dict[str, Any]], int]:
    params = {"lastChangedFrom": start, **({"lastChangedTo": end} if end else {}), **extra}
    rows: list[dict[str, Any]] = []
    pages = 0
    while True:
        r = http.get(LAST_CHANGED, params=params, headers=auth)
        assert r.status_code == 200, r.text
        pages += 1
        data = r.json()["data"]
        assert data["count"] == len(data["lastChangeStatuses"])
        rows += data["lastChangeStatuses"]
        more = data.get("more")
        if not more:
            return rows, pages
        params = {**params, "lastChangedFrom": more["moreFrom"], "moreSequence": more["moreSequence"]}


# --- fixtures -------------------------------------------------------------------------------------------
@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeNaver]:
    with FakeNaver(clock=clock, rate_limit=None) as f:
        yield f


@pytest.fixture
def http(fake: FakeNaver) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, timeout=5.0) as client:
        yield client


@pytest.fixture
def auth(http: httpx.Client, fake: FakeNaver) -> dict[str, str]:
    return bearer(http, fake)


# --- §1 token -------------------------------------------------------------------------------------------
def test_signature_reproduces_the_spec_test_vector() -> None:
    sign = make_signature("aaaabbbbcccc", "$2a$10$abcdefghijklmnopqrstuu", 1643961623299)
    assert sign == "JDJhJDEwJGFiY2RlZmdoaWprbG1ub3BxcnN0dXVCVldZSk42T0VPdEx1OFY0cDQxa2IuTnpVaUEzbmsy"


def test_good_token_request(http: httpx.Client, fake: FakeNaver) -> None:
    r = get_token(http, fake)
    assert r.status_code == 200
    assert set(r.json()) == {"access_token", "expires_in", "token_type"}
    assert r.json()["expires_in"] == 10_800 and r.json()["token_type"] == "Bearer"
    assert r.headers["GNCP-GW-Trace-ID"]
    assert not any(h.lower().startswith("gncp-gw-ratelimit") for h in r.headers)
    assert fake.nonstandard_token_calls == []
    assert len(fake.tokens_issued) == 1


def test_fresh_secret_and_url_safe_signature_work(clock: FakeClock) -> None:
    secret = new_client_secret()
    with FakeNaver(clock=clock, client_id="anotherApp000000000001", client_secret=secret) as fake, \
         httpx.Client(base_url=fake.base_url) as http:
        ts = int(clock() * 1000)
        sign = make_signature("anotherApp000000000001", secret, ts).replace("+", "-").replace("/", "_")
        assert get_token(http, fake, timestamp=str(ts), client_secret_sign=sign).status_code == 200


def test_same_token_while_30_minutes_left_then_a_new_one(http: httpx.Client, fake: FakeNaver,
                                                         clock: FakeClock) -> None:
    first = get_token(http, fake).json()
    clock.advance(10_800 - 1_800)                       # exactly 30 min left: still the same token
    again = get_token(http, fake).json()
    assert again["access_token"] == first["access_token"]
    assert again["expires_in"] == 1_800                 # remaining life ([?], configurable)
    clock.advance(1)                                    # < 30 min left: a new one
    new = get_token(http, fake).json()
    assert new["access_token"] != first["access_token"] and new["expires_in"] == 10_800
    old_auth = {"Authorization": f"Bearer {first['access_token']}"}
    assert http.get(LAST_CHANGED, params={"lastChangedFrom": fmt_dt(fake.now())}, headers=old_auth).status_code == 200
    clock.advance(1_800)                                # the old token reaches its own expiry
    r = http.get(LAST_CHANGED, params={"lastChangedFrom": fmt_dt(fake.now())}, headers=old_auth)
    assert_gateway_error(r, 401, "GW.AUTHN")
    new_auth = {"Authorization": f"Bearer {new['access_token']}"}
    assert http.get(LAST_CHANGED, params={"lastChangedFrom": fmt_dt(fake.now())}, headers=new_auth).status_code == 200
    assert len(fake.tokens_issued) == 2


def test_bad_signature_is_rejected_and_echoed(http: httpx.Client, fake: FakeNaver) -> None:
    form = token_form(fake)
    form["client_secret_sign"] = make_signature(fake.client_id, new_client_secret(), form["timestamp"])
    r = http.post(TOKEN, data=form)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "BAD_REQUEST" and body["timestamp"]
    assert [i["name"] for i in body["invalidInputs"]] == ["client_secret_sign"]
    assert form["client_secret_sign"] in r.text
    assert fake.tokens_issued == []


@pytest.mark.parametrize(("offset", "ok"), [(-301, False), (-299, True), (299, True), (301, False)])
def test_timestamp_valid_for_five_minutes(http: httpx.Client, fake: FakeNaver, offset: float, ok: bool) -> None:
    r = get_token(http, fake, ts_offset=offset)
    if ok:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 400
        assert [i["name"] for i in r.json()["invalidInputs"]] == ["timestamp"]


def test_wrong_content_type_is_rejected(http: httpx.Client, fake: FakeNaver) -> None:
    r = http.post(TOKEN, json=token_form(fake))
    assert r.status_code == 400
    assert r.json()["invalidInputs"][0]["name"] == "Content-Type"
    form_text = str(httpx.QueryParams(token_form(fake)))
    r = http.post(TOKEN, content=form_text.encode(), headers={"Content-Type": "text/plain"})
    assert r.status_code == 400


@pytest.mark.parametrize(("overrides", "status", "field"), [
    ({"type": "SELF", "account_id": "seller1"}, 400, "account_id"),
    ({"type": "SELLER"}, 400, "account_id"),
    ({"type": "SELLER", "account_id": "stranger"}, 403, "account_id"),
    ({"type": "PARTNER"}, 400, "type"),
    ({"grant_type": "password"}, 400, "grant_type"),
    ({"grant_type": None}, 400, "grant_type"),
    ({"client_id": "someoneElse00000000001"}, 400, "client_id"),
    ({"timestamp": "17000000000.5"}, 400, "timestamp"),
])
def test_token_field_rules(clock: FakeClock, overrides: dict[str, Any], status: int, field: str) -> None:
    with FakeNaver(clock=clock, seller_accounts={"seller1"}) as fake, \
         httpx.Client(base_url=fake.base_url) as http:
        r = get_token(http, fake, **overrides)
        assert r.status_code == status, r.text
        assert field in [i["name"] for i in r.json()["invalidInputs"]]
        assert get_token(http, fake, type="SELLER", account_id="seller1").status_code == 200


def test_params_in_query_string_work_but_are_flagged_and_can_trigger_the_quota_penalty(clock: FakeClock) -> None:
    with FakeNaver(clock=clock, quota_penalty_on_nonstandard_token=True) as fake, \
         httpx.Client(base_url=fake.base_url) as http:
        r = http.post(TOKEN, params=token_form(fake))
        assert r.status_code == 200
        assert "query string" in fake.nonstandard_token_calls[0]
        assert fake.penalized
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        params = {"lastChangedFrom": fmt_dt(fake.now())}
        assert http.get(LAST_CHANGED, params=params, headers=auth).status_code == 200   # 1 call per hour
        r = http.get(LAST_CHANGED, params=params, headers=auth)
        assert_gateway_error(r, 429, "GW.QUOTA_LIMIT")
        assert r.headers["GNCP-GW-Quota-Period"] == "HOURS" and r.headers["GNCP-GW-Quota-Limit"] == "1"
        clock.advance(3600)
        assert http.get(LAST_CHANGED, params=params, headers=auth).status_code == 200


# --- §1.4 401 -------------------------------------------------------------------------------------------
def test_missing_unknown_and_expired_tokens_get_401(clock: FakeClock) -> None:
    with FakeNaver(clock=clock, token_ttl=60, rate_limit=None) as fake, \
         httpx.Client(base_url=fake.base_url) as http:
        params = {"lastChangedFrom": fmt_dt(fake.now())}
        body = assert_gateway_error(http.get(LAST_CHANGED, params=params), 401, "GW.AUTHN")
        assert body["message"] == "요청을 보낼 권한이 없습니다."
        assert_gateway_error(http.get(LAST_CHANGED, params=params, headers={"Authorization": "Bearer nope"}),
                             401, "GW.AUTHN")
        auth = bearer(http, fake)
        assert get_token(http, fake).json()["expires_in"] == 60   # ttl < 30 min: a new token every time
        assert http.get(LAST_CHANGED, params=params, headers=auth).status_code == 200
        clock.advance(61)
        assert_gateway_error(http.get(LAST_CHANGED, params=params, headers=auth), 401, "GW.AUTHN")
        auth = bearer(http, fake)
        assert http.get(LAST_CHANGED, params=params, headers=auth).status_code == 200
        fake.expire_tokens()
        assert_gateway_error(http.get(LAST_CHANGED, params=params, headers=auth), 401, "GW.AUTHN")


def test_unknown_path_is_gateway_404(http: httpx.Client, auth: dict[str, str]) -> None:
    assert_gateway_error(http.get("/v1/nothing/here", headers=auth), 404, "GW.NOT_FOUND")


# --- §3.1 last-changed-statuses -------------------------------------------------------------------------
def test_last_changed_pages_with_more_cursor(clock: FakeClock) -> None:
    with FakeNaver(clock=clock, rate_limit=None, page_size=3) as fake, \
         httpx.Client(base_url=fake.base_url) as http:
        t0 = fake.now() - timedelta(hours=2)
        seeded = []
        for i in range(4):   # 8 product orders; pairs share a lastChangedDate (tiebreak by productOrderId)
            seeded += fake.add_order(2, paid_at=t0 + timedelta(minutes=i)).product_order_ids
        auth = bearer(http, fake)
        rows, pages = all_last_changed(http, auth, fmt_dt(t0 - timedelta(minutes=1)))
        assert [r["productOrderId"] for r in rows] == seeded
        assert pages == 3
        calls = fake.calls(LAST_CHANGED)
        assert [c.status for c in calls] == [200, 200, 200]
        assert "moreSequence" not in calls[0].query
        assert calls[1].query["moreSequence"] == seeded[3]    # the first item not yet returned
        assert calls[1].query["lastChangedFrom"] == rows[3]["lastChangedDate"]
        assert calls[2].query["moreSequence"] == seeded[6]
        first = rows[0]
        assert set(first) == {"orderId", "productOrderId", "productOrderStatus", "lastChangedType", "paymentDate",
                              "lastChangedDate", "receiverAddressChanged"}
        assert first["lastChangedType"] == "PAYED" and first["receiverAddressChanged"] is False
        # limitCount asks for smaller pages; > 300 is clamped, not an error
        rows2, pages2 = all_last_changed(http, auth, fmt_dt(t0 - timedelta(minutes=1)), limitCount=2)
        assert [r["productOrderId"] for r in rows2] == seeded and pages2 == 4
        assert http.get(LAST_CHANGED, params={"lastChangedFrom": fmt_dt(t0), "limitCount": 1000},
                        headers=auth).status_code == 200


def test_last_changed_filters_window_and_type(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    t0 = fake.now() - timedelta(hours=30)
    early = fake.add_order(1, paid_at=t0).product_order_ids[0]
    late = fake.add_order(1, paid_at=t0 + timedelta(hours=25)).product_order_ids[0]   # beyond the default To
    rows, _ = all_last_changed(http, auth, fmt_dt(t0))
    assert [r["productOrderId"] for r in rows] == [early]
    rows, _ = all_last_changed(http, auth, fmt_dt(t0 + timedelta(hours=2)), fmt_dt(t0 + timedelta(hours=26)))
    assert [r["productOrderId"] for r in rows] == [late]
    rows, _ = all_last_changed(http, auth, fmt_dt(t0), fmt_dt(t0 + timedelta(hours=24)),
                               lastChangedType="DISPATCHED")
    assert rows == []
    r = http.get(LAST_CHANGED, params={"lastChangedFrom": fmt_dt(fake.now())}, headers=auth)
    assert r.json()["data"] == {"count": 0, "lastChangeStatuses": []}


@pytest.mark.parametrize(("params", "code"), [
    ({"lastChangedFrom": "2026-11-20T00:00:00.000+09:00", "lastChangedTo": "2026-11-21T00:00:00.001+09:00"},
     "104139"),
    ({"lastChangedFrom": "2026-11-20T00:00:00.000+09:00", "lastChangedTo": "2026-11-19T00:00:00.000+09:00"},
     "104140"),
    ({}, "4000"),
    ({"lastChangedFrom": "2026-11-20T00:00:00+09:00"}, "4000"),          # no milliseconds
    ({"lastChangedFrom": "2026-11-20T00:00:00.000"}, "4000"),            # no offset
    ({"lastChangedFrom": "2026-11-20T00:00:00.000+09:00", "lastChangedType": "SHIPPED"}, "4000"),
    ({"lastChangedFrom": "2026-11-20T00:00:00.000+09:00", "limitCount": "0"}, "4000"),
])
def test_last_changed_rejects_bad_queries(http: httpx.Client, auth: dict[str, str], params: dict[str, str],
                                          code: str) -> None:
    assert_gateway_error(http.get(LAST_CHANGED, params=params, headers=auth), 400, code)


def test_exactly_24_hours_is_allowed(http: httpx.Client, auth: dict[str, str]) -> None:
    r = http.get(LAST_CHANGED, params={"lastChangedFrom": "2026-11-20T00:00:00.000+09:00",
                                       "lastChangedTo": "2026-11-21T00:00:00.000+09:00"}, headers=auth)
    assert r.status_code == 200


def test_events_rewrite_last_changed_but_confirm_and_delivered_do_not(
        http: httpx.Client, fake: FakeNaver, clock: FakeClock, auth: dict[str, str]) -> None:
    t0 = fake.now() - timedelta(hours=1)
    a, b = fake.add_order(2, paid_at=t0).product_order_ids
    since = fmt_dt(t0)
    clock.advance(60)
    fake.request_cancel(b)
    rows = {r["productOrderId"]: r for r in all_last_changed(http, auth, since)[0]}
    assert rows[b]["lastChangedDate"] == fmt_dt(fake.now())
    assert (rows[b]["lastChangedType"], rows[b]["claimType"], rows[b]["claimStatus"],
            rows[b]["productOrderStatus"]) == ("CLAIM_REQUESTED", "CANCEL", "CANCEL_REQUEST", "PAYED")
    assert rows[a]["lastChangedDate"] == fmt_dt(t0)
    clock.advance(60)
    assert http.post(CONFIRM, json={"productOrderIds": [a]}, headers=auth).status_code == 200
    assert {r["productOrderId"]: r for r in all_last_changed(http, auth, since)[0]}[a] == rows[a]
    http.post(DISPATCH, json={"dispatchProductOrders": [dispatch_item(a, now=fake.now())]}, headers=auth)
    dispatched = {r["productOrderId"]: r for r in all_last_changed(http, auth, since)[0]}[a]
    assert (dispatched["lastChangedType"], dispatched["productOrderStatus"]) == ("DISPATCHED", "DELIVERING")
    clock.advance(60)
    fake.mark_delivered(a)
    assert {r["productOrderId"]: r for r in all_last_changed(http, auth, since)[0]}[a] == dispatched
    assert fake.status(a) == "DELIVERED"
    fake.complete_cancel(b)
    row = {r["productOrderId"]: r for r in all_last_changed(http, auth, since)[0]}[b]
    assert (row["productOrderStatus"], row["claimStatus"], row["lastChangedType"]) == \
        ("CANCELED", "CANCEL_DONE", "CLAIM_COMPLETED")


# --- §3.2 query -----------------------------------------------------------------------------------------
def test_query_returns_details_in_the_spec_shape(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    order = fake.add_order([{"productName": "머그컵", "optionManageCode": "MUG-WH", "quantity": 2},
                            {"productName": "에코백", "productOption": None, "optionManageCode": None}],
                           order={"ordererName": "김철수"}, shippingMemo="경비실에 맡겨주세요",
                           shippingAddress={"name": "이영희", "zipCode": "06236"})
    ids = [*order.product_order_ids, "1999999999999999"]             # unknown ids are left out
    r = http.post(QUERY, json={"productOrderIds": ids, "quantityClaimCompatibility": True}, headers=auth)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"timestamp", "traceId", "data"}
    assert [d["productOrder"]["productOrderId"] for d in body["data"]] == list(order.product_order_ids)
    first, second = body["data"]
    assert first["order"]["orderId"] == order.order_id and first["order"]["ordererName"] == "김철수"
    po = first["productOrder"]
    assert po["productOrderStatus"] == "PAYED" and po["placeOrderStatus"] == "NOT_YET"
    assert (po["productName"], po["optionManageCode"], po["quantity"]) == ("머그컵", "MUG-WH", 2)
    assert po["totalPaymentAmount"] == po["unitPrice"] * 2
    for key in ("productId", "originalProductId", "optionCode", "productOption", "packageNumber", "shippingDueDate"):
        assert po[key]
    assert po["shippingMemo"] == "경비실에 맡겨주세요"
    addr = po["shippingAddress"]
    assert (addr["name"], addr["zipCode"]) == ("이영희", "06236")
    assert {"tel1", "baseAddress", "detailedAddress"} <= set(addr)
    assert "delivery" not in first and "currentClaim" not in first
    assert "productOption" not in second["productOrder"] and "optionManageCode" not in second["productOrder"]


def test_query_limits_and_malformed_bodies(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    ids = [f"2026112250{n:06d}" for n in range(301)]
    assert_gateway_error(http.post(QUERY, json={"productOrderIds": ids}, headers=auth), 400, "4000")
    assert http.post(QUERY, json={"productOrderIds": ids[:300]}, headers=auth).json()["data"] == []
    assert_gateway_error(http.post(QUERY, json={"productOrderIds": []}, headers=auth), 400, "4000")
    assert_gateway_error(http.post(QUERY, json={}, headers=auth), 400, "4000")
    assert_gateway_error(http.post(QUERY, content=b"{not json", headers={**auth, "Content-Type": "application/json"}),
                         400, "000400")
    assert_gateway_error(http.post(QUERY, data={"productOrderIds": "1"}, headers=auth), 400, "000400")


def test_query_shows_claims(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    (pid,) = fake.add_order(1).product_order_ids
    fake.request_cancel(pid, reason="SOLD_OUT")
    detail = http.post(QUERY, json={"productOrderIds": [pid]}, headers=auth).json()["data"][0]
    assert detail["productOrder"]["claimType"] == "CANCEL"
    assert detail["currentClaim"]["cancel"]["claimStatus"] == "CANCEL_REQUEST"
    assert detail["currentClaim"]["cancel"]["cancelReason"] == "SOLD_OUT"
    assert detail["cancel"] == detail["currentClaim"]["cancel"]


def test_returns_and_exchanges_move_through_their_stages(http: httpx.Client, fake: FakeNaver, clock: FakeClock,
                                                         auth: dict[str, str]) -> None:
    t0 = fake.now() - timedelta(hours=1)
    ret, exch = fake.add_order(2, paid_at=t0).product_order_ids
    for pid in (ret, exch):
        http.post(DISPATCH, json={"dispatchProductOrders": [dispatch_item(pid, now=fake.now())]}, headers=auth)
    clock.advance(60)
    fake.request_return(ret, reason="BROKEN", detail="깨져서 왔어요")
    fake.request_exchange(exch, collect_company="HANJIN", collect_tracking="412345678905")

    def detail(pid: str) -> dict[str, Any]:
        return http.post(QUERY, json={"productOrderIds": [pid]}, headers=auth).json()["data"][0]

    def change(pid: str) -> dict[str, Any]:
        return {r["productOrderId"]: r for r in all_last_changed(http, auth, fmt_dt(t0))[0]}[pid]

    d = detail(ret)
    claim = d["currentClaim"]["return"]
    assert (d["productOrder"]["claimType"], d["productOrder"]["claimStatus"]) == ("RETURN", "RETURN_REQUEST")
    assert d["productOrder"]["claimId"] == claim["claimId"] and d["return"] == claim
    assert (claim["returnReason"], claim["returnDetailedReason"]) == ("BROKEN", "깨져서 왔어요")
    assert "collectTrackingNumber" not in claim                      # no pickup booked yet
    assert (change(ret)["lastChangedType"], change(ret)["claimType"]) == ("CLAIM_REQUESTED", "RETURN")
    e = detail(exch)["currentClaim"]["exchange"]
    assert (e["claimStatus"], e["exchangeReason"], e["collectDeliveryCompany"], e["collectTrackingNumber"]) == (
        "EXCHANGE_REQUEST", "COLOR_AND_SIZE", "HANJIN", "412345678905")
    before = change(ret)
    clock.advance(60)
    fake.start_collect(ret, tracking="512345678904")                   # no event: the change list stays
    claim = detail(ret)["currentClaim"]["return"]
    assert (claim["claimStatus"], claim["collectDeliveryCompany"], claim["collectTrackingNumber"]) == (
        "COLLECTING", "CJGLS", "512345678904")
    assert change(ret) == before
    clock.advance(60)
    fake.complete_collect(ret)
    assert (change(ret)["lastChangedType"], change(ret)["claimStatus"]) == ("COLLECT_DONE", "COLLECT_DONE")
    assert detail(ret)["currentClaim"]["return"]["collectCompletedDate"] == fmt_dt(fake.now())
    fake.complete_return(ret)
    d = detail(ret)
    assert (d["productOrder"]["productOrderStatus"], d["productOrder"]["claimStatus"]) == ("RETURNED", "RETURN_DONE")
    assert [c["claimStatus"] for c in d["completedClaims"]] == ["RETURN_DONE"]
    assert change(ret)["lastChangedType"] == "CLAIM_COMPLETED"
    fake.reject_claim(exch)
    assert (change(exch)["lastChangedType"], change(exch)["claimStatus"]) == ("CLAIM_REJECTED", "EXCHANGE_REJECT")
    (plain,) = fake.add_order(1).product_order_ids
    with pytest.raises(ValueError):
        fake.complete_collect(plain)
    with pytest.raises(ValueError):
        fake.reject_claim(plain)


def test_other_order_endpoints(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    order = fake.add_order(3)
    r = http.get(f"/v1/pay-order/seller/orders/{order.order_id}/product-order-ids", headers=auth)
    assert r.json()["data"] == list(order.product_order_ids)
    r = http.get("/v1/pay-order/seller/product-orders",
                 params={"from": fmt_dt(fake.now() - timedelta(hours=1)), "pageSize": 2}, headers=auth)
    data = r.json()["data"]
    assert [c["productOrderId"] for c in data["contents"]] == list(order.product_order_ids[:2])
    assert data["pagination"] == {"page": 1, "size": 2, "hasNext": True}
    assert data["contents"][0]["content"]["productOrder"]["productOrderId"] == order.product_order_ids[0]
    assert_gateway_error(http.get("/v1/pay-order/seller/product-orders", headers=auth), 400, "4000")


# --- §5 confirm -----------------------------------------------------------------------------------------
def test_confirm(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    a, c = fake.add_order(2).product_order_ids
    (b,) = fake.add_order(1).product_order_ids
    fake.request_cancel(c)
    fake.change_address(b, baseAddress="부산광역시 해운대구 센텀로 1")    # the whole order's address
    r = http.post(CONFIRM, json={"productOrderIds": [a, b, c, "1999999999999999"]}, headers=auth)
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["successProductOrderInfos"] == [{"productOrderId": a, "isReceiverAddressChanged": False},
                                                {"productOrderId": b, "isReceiverAddressChanged": True}]
    assert [(f["productOrderId"], f["code"]) for f in data["failProductOrderInfos"]] == \
        [(c, "104442"), ("1999999999999999", "100001")]
    detail = fake.product_order(a)["productOrder"]
    assert detail["placeOrderStatus"] == "OK" and detail["placeOrderDate"]
    assert detail["productOrderStatus"] == "PAYED"
    assert fake.product_order(c)["productOrder"]["placeOrderStatus"] == "NOT_YET"
    again = http.post(CONFIRM, json={"productOrderIds": [a]}, headers=auth).json()["data"]
    assert again["successProductOrderInfos"][0]["productOrderId"] == a          # re-confirm: success ([?])
    assert [x["productOrderId"] for x in fake.confirmations] == [a, b, a]
    ids = [f"2026112250{n:06d}" for n in range(31)]
    assert_gateway_error(http.post(CONFIRM, json={"productOrderIds": ids}, headers=auth), 400, "4000")
    fake.fail_confirm(a, code="101011", message="직계약 상품")
    failed = http.post(CONFIRM, json={"productOrderIds": [a]}, headers=auth).json()["data"]
    assert failed["failProductOrderInfos"][0]["code"] == "101011"


# --- §6 dispatch ----------------------------------------------------------------------------------------
def test_dispatch_success(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    a, b = fake.add_order(2).product_order_ids
    now = fake.now()
    body = {"dispatchProductOrders": [dispatch_item(a, now=now),
                                      dispatch_item(b, now=now, deliveryCompanyCode="HYUNDAI",
                                                    trackingNumber="240012345678")]}
    r = http.post(DISPATCH, json=body, headers=auth)
    assert r.status_code == 200
    assert r.json()["data"] == {"successProductOrderIds": [a, b], "failProductOrderInfos": []}
    assert fake.status(a) == "DELIVERING"
    delivery = fake.product_order(b)["delivery"]
    assert (delivery["deliveryMethod"], delivery["deliveryCompany"], delivery["trackingNumber"],
            delivery["sendDate"]) == ("DELIVERY", "HYUNDAI", "240012345678", fmt_dt(now))
    assert [(d["productOrderId"], d["deliveryCompanyCode"], d["trackingNumber"]) for d in fake.dispatches] == \
        [(a, "CJGLS", "612345678901"), (b, "HYUNDAI", "240012345678")]
    assert fake.dispatches[0]["time"] == now and fake.dispatches[0]["time"].tzinfo is not None


def test_dispatch_partial_failure_then_redispatch_fails_and_dispatches_once(
        http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    a, b, c = fake.add_order(3).product_order_ids
    fake.fail_dispatch(b, code="104121", message="이미 사용된 송장번호입니다.")
    now = fake.now()
    r = http.post(DISPATCH, json={"dispatchProductOrders": [dispatch_item(p, now=now) for p in (a, b, c)]},
                  headers=auth)
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["successProductOrderIds"] == [a, c]
    assert data["failProductOrderInfos"] == [{"productOrderId": b, "code": "104121",
                                              "message": "이미 사용된 송장번호입니다."}]
    assert fake.status(b) == "PAYED"
    # sending the whole batch again: a and c are already DELIVERING, b goes through now
    r = http.post(DISPATCH, json={"dispatchProductOrders": [dispatch_item(p, now=now) for p in (a, b, c)]},
                  headers=auth)
    data = r.json()["data"]
    assert data["successProductOrderIds"] == [b]
    assert [(f["productOrderId"], f["code"]) for f in data["failProductOrderInfos"]] == \
        [(a, "104442"), (c, "104442")]
    assert sorted(d["productOrderId"] for d in fake.dispatches) == sorted([a, b, c])


def test_dispatch_item_rules(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    ids = fake.add_order(7).product_order_ids
    cancelled = fake.add_order(1).product_order_ids[0]
    fake.complete_cancel(cancelled)
    requested = fake.add_order(1).product_order_ids[0]
    fake.request_cancel(requested)
    now = fake.now()
    items = [
        dispatch_item(ids[0], now=now, deliveryCompanyCode=None),                     # 104118 carrier missing
        dispatch_item(ids[1], now=now, trackingNumber=None),                          # 104120 tracking missing
        dispatch_item(ids[2], now=now, trackingNumber="12 34"),                        # 104122 invalid
        dispatch_item(ids[3], now=now + timedelta(days=2)),                            # 104133 future date
        dispatch_item(ids[4], now=now, deliveryMethod="DIRECT_DELIVERY", deliveryCompanyCode=None,
                      trackingNumber=None),                                            # ok without carrier
        dispatch_item(ids[5], now=now, deliveryMethod="RETURN_DELIVERY"),              # 104117
        dispatch_item(ids[6], now=now), dispatch_item(ids[6], now=now),                # 2nd: 104131 duplicate
        dispatch_item(cancelled, now=now),                                             # 104442
        dispatch_item(requested, now=now),                                             # 104442 (cancel asked)
        dispatch_item("1999999999999999", now=now),                                    # 100001
    ]
    data = http.post(DISPATCH, json={"dispatchProductOrders": items}, headers=auth).json()["data"]
    assert data["successProductOrderIds"] == [ids[4], ids[6]]
    assert [(f["productOrderId"], f["code"]) for f in data["failProductOrderInfos"]] == [
        (ids[0], "104118"), (ids[1], "104120"), (ids[2], "104122"), (ids[3], "104133"), (ids[5], "104117"),
        (ids[6], "104131"), (cancelled, "104442"), (requested, "104442"), ("1999999999999999", "100001")]
    assert all(f["message"] for f in data["failProductOrderInfos"])
    assert "deliveryCompany" not in fake.product_order(ids[4])["delivery"]
    assert len(fake.dispatches) == 2


@pytest.mark.parametrize(("change", "code"), [
    ({"deliveryCompanyCode": "LOTTE"}, "000400"),          # not a carrier code (롯데 is HYUNDAI)
    ({"deliveryCompanyCode": ""}, "000400"),               # "" for the enum fails the whole request
    ({"deliveryMethod": "COURIER"}, "000400"),
    ({"dispatchDate": "2026-11-22T15:04:05+09:00"}, "4000"),
    ({"dispatchDate": None}, "4000"),
    ({"productOrderId": None}, "4000"),
])
def test_dispatch_whole_request_errors(http: httpx.Client, fake: FakeNaver, auth: dict[str, str],
                                       change: dict[str, Any], code: str) -> None:
    a, b = fake.add_order(2).product_order_ids
    items = [dispatch_item(a, now=fake.now()), dispatch_item(b, now=fake.now(), **change)]
    assert_gateway_error(http.post(DISPATCH, json={"dispatchProductOrders": items}, headers=auth), 400, code)
    assert fake.status(a) == "PAYED" and fake.dispatches == []


def test_dispatch_batch_max_30(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    ids = [f"2026112250{n:06d}" for n in range(31)]
    items = [dispatch_item(p, now=fake.now()) for p in ids]
    assert_gateway_error(http.post(DISPATCH, json={"dispatchProductOrders": items}, headers=auth), 400, "4000")
    r = http.post(DISPATCH, json={"dispatchProductOrders": items[:30]}, headers=auth)
    assert len(r.json()["data"]["failProductOrderInfos"]) == 30


def test_optional_dispatch_rules(clock: FakeClock) -> None:
    with FakeNaver(clock=clock, rate_limit=None, dispatch_requires_confirm=True,
                   reject_reused_tracking_number=True) as fake, httpx.Client(base_url=fake.base_url) as http:
        auth = bearer(http, fake)
        (a,) = fake.add_order(1).product_order_ids
        (b,) = fake.add_order(1).product_order_ids
        now = fake.now()
        data = http.post(DISPATCH, json={"dispatchProductOrders": [dispatch_item(a, now=now)]},
                         headers=auth).json()["data"]
        assert data["failProductOrderInfos"][0]["code"] == "104443"
        http.post(CONFIRM, json={"productOrderIds": [a, b]}, headers=auth)
        items = [dispatch_item(a, now=now), dispatch_item(b, now=now)]     # same tracking, other package
        data = http.post(DISPATCH, json={"dispatchProductOrders": items}, headers=auth).json()["data"]
        assert data["successProductOrderIds"] == [a]
        assert data["failProductOrderInfos"][0]["code"] == "104121"


# --- §2.3 rate limit ------------------------------------------------------------------------------------
def test_token_bucket_per_api(clock: FakeClock) -> None:
    rate_clock = FakeClock(0.0)
    with FakeNaver(clock=clock, rate_clock=rate_clock) as fake, httpx.Client(base_url=fake.base_url) as http:
        auth = bearer(http, fake)
        for _ in range(3):   # token calls are not rate limited
            assert get_token(http, fake).status_code == 200
        params = {"lastChangedFrom": fmt_dt(fake.now())}
        remaining = []
        for _ in range(4):   # default rate 2/s, burst 2 x rate
            r = http.get(LAST_CHANGED, params=params, headers=auth)
            assert r.status_code == 200
            assert r.headers["GNCP-GW-RateLimit-Replenish-Rate"] == "2"
            assert r.headers["GNCP-GW-RateLimit-Burst-Capacity"] == "4"
            remaining.append(r.headers["GNCP-GW-RateLimit-Remaining"])
        assert remaining == ["3", "2", "1", "0"]
        r = http.get(LAST_CHANGED, params=params, headers=auth)
        body = assert_gateway_error(r, 429, "GW.RATE_LIMIT")
        assert body["message"] == "요청이 많아 서비스를 일시적으로 사용할 수 없습니다."
        assert r.headers["GNCP-GW-RateLimit-Remaining"] == "0"
        assert "Retry-After" not in r.headers
        # another API has its own bucket
        assert http.post(QUERY, json={"productOrderIds": ["1"]}, headers=auth).status_code == 200
        rate_clock.advance(0.5)   # one token back
        assert http.get(LAST_CHANGED, params=params, headers=auth).status_code == 200
        assert http.get(LAST_CHANGED, params=params, headers=auth).status_code == 429
        fake.set_rate_limit(None)
        assert all(http.get(LAST_CHANGED, params=params, headers=auth).status_code == 200 for _ in range(10))
        assert [c.status for c in fake.calls(LAST_CHANGED)].count(429) == 2


# --- failure injection ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "code"), [(500, "GW.INTERNAL_SERVER_ERROR"), (503, "GW.BLOCK.01"),
                                            (504, "GW.TIMEOUT.01"), (429, "GW.RATE_LIMIT"),
                                            ("quota", "GW.QUOTA_LIMIT"), (401, "GW.AUTHN")])
def test_injected_gateway_errors(http: httpx.Client, fake: FakeNaver, auth: dict[str, str], kind: int | str,
                                 code: str) -> None:
    fake.fail_next("last-changed", kind, count=2)
    params = {"lastChangedFrom": fmt_dt(fake.now())}
    r = http.post(QUERY, json={"productOrderIds": ["1"]}, headers=auth)
    assert r.status_code == 200                                       # other paths are not hit
    for _ in range(2):
        r = http.get(LAST_CHANGED, params=params, headers=auth)
        assert_gateway_error(r, 429 if kind == "quota" else int(kind), code)
    assert http.get(LAST_CHANGED, params=params, headers=auth).status_code == 200
    assert [c.injected for c in fake.calls(LAST_CHANGED)] == [str(kind), str(kind), None]


def test_injected_502_is_an_html_page(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    fake.fail_next(None, 502)
    r = http.post(TOKEN, data=token_form(fake))
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    assert fake.tokens_issued == [fake.tokens_issued[0]]              # only the fixture's token


def test_injected_5xx_after_processing_keeps_the_effect(http: httpx.Client, fake: FakeNaver,
                                                         auth: dict[str, str]) -> None:
    (pid,) = fake.add_order(1).product_order_ids
    fake.fail_next(DISPATCH, 500, process=True)
    r = http.post(DISPATCH, json={"dispatchProductOrders": [dispatch_item(pid, now=fake.now())]}, headers=auth)
    assert r.status_code == 500
    assert fake.status(pid) == "DELIVERING" and len(fake.dispatches) == 1


def test_injected_timeout_answers_late_and_does_not_block_shutdown(clock: FakeClock) -> None:
    fake = FakeNaver(clock=clock, rate_limit=None)
    with fake, httpx.Client(base_url=fake.base_url, timeout=0.3) as http:
        auth = bearer(http, fake)
        (pid,) = fake.add_order(1).product_order_ids
        fake.fail_next(DISPATCH, "timeout", delay=60)
        with pytest.raises(httpx.ReadTimeout):
            http.post(DISPATCH, json={"dispatchProductOrders": [dispatch_item(pid, now=fake.now())]}, headers=auth)
        assert fake.status(pid) == "PAYED" and fake.dispatches == []     # not applied by default
        fake.fail_next(DISPATCH, "timeout", delay=60, process=True)     # applied, answer lost
        with pytest.raises(httpx.ReadTimeout):
            http.post(DISPATCH, json={"dispatchProductOrders": [dispatch_item(pid, now=fake.now())]}, headers=auth)
        assert fake.status(pid) == "DELIVERING" and len(fake.dispatches) == 1
        assert [c.injected for c in fake.calls(DISPATCH)] == ["timeout", "timeout"]
        started = time.monotonic()
    assert time.monotonic() - started < 5                              # two 60 s answers were cut short
    assert not [t for t in threading.enumerate() if "process_request_thread" in t.name or t.name == "fake-naver"]


def test_injected_malformed_json(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    fake.fail_next(QUERY, "malformed")
    r = http.post(QUERY, json={"productOrderIds": ["1"]}, headers=auth)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert http.post(QUERY, json={"productOrderIds": ["1"]}, headers=auth).json()["data"] == []


def test_injected_disconnect(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    fake.fail_next(QUERY, "disconnect", method="POST")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(QUERY, json={"productOrderIds": ["1"]}, headers=auth)
    assert fake.calls(QUERY)[0].status is None
    assert http.post(QUERY, json={"productOrderIds": ["1"]}, headers=auth).status_code == 200


def test_unknown_failure_kind_is_refused(fake: FakeNaver) -> None:
    with pytest.raises(ValueError, match="unknown failure kind"):
        fake.fail_next(None, "explode")


# --- bookkeeping ----------------------------------------------------------------------------------------
def test_request_log_and_trace_ids(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    start = fmt_dt(fake.now())
    r = http.get(LAST_CHANGED, params={"lastChangedFrom": start, "limitCount": 5}, headers=auth)
    last = fake.requests[-1]
    assert (last.method, last.path, last.query, last.status) == (
        "GET", "/external" + LAST_CHANGED, {"lastChangedFrom": start, "limitCount": "5"}, 200)
    assert last.trace_id == r.headers["GNCP-GW-Trace-ID"] == r.json()["traceId"]
    assert fake.requests[0].path == "/external" + TOKEN and fake.requests[0].form()["type"] == "SELF"
    assert len({rec.trace_id for rec in fake.requests}) == len(fake.requests)


def test_stop_with_an_idle_keep_alive_connection(clock: FakeClock) -> None:
    fake = FakeNaver(clock=clock)
    fake.start()
    with httpx.Client(base_url=fake.base_url) as http:
        assert get_token(http, fake).status_code == 200               # the connection stays open, idle
        started = time.monotonic()
        fake.stop()
        assert time.monotonic() - started < 2
        with pytest.raises(httpx.TransportError):
            get_token(http, fake)


def test_seeding_validates_and_times_are_kst(fake: FakeNaver) -> None:
    with pytest.raises(ValueError):
        fake.add_order(1, productOrderStatus="SHIPPED")
    with pytest.raises(ValueError):
        fake.update(fake.add_order(1).product_order_ids[0], event="NOPE")
    paid = fake.now().astimezone(KST) - timedelta(minutes=5)
    order = fake.add_order(1, paid_at=paid)
    detail = fake.product_order(order.product_order_ids[0])
    assert detail["order"]["paymentDate"] == fmt_dt(paid) and detail["order"]["paymentDate"].endswith("+09:00")


# --- §8 seller products -----------------------------------------------------------------------------------
PRODUCT_SEARCH = "/v1/products/search"
ORIGIN_PRODUCT = "/v2/products/origin-products"
CHANNEL_PRODUCT = "/v2/products/channel-products"
PAGE_KEYS = {"contents", "page", "size", "totalElements", "totalPages", "sort", "first", "last"}
TSHIRT_OPTIONS: list[dict[str, Any]] = [
    {"optionName1": "블랙", "optionName2": "M", "sellerManagerCode": "TS-BLK-M", "stockQuantity": 5},
    {"optionName1": "블랙", "optionName2": "L", "sellerManagerCode": "TS-BLK-L", "stockQuantity": 0, "price": 1000},
    {"optionName1": "화이트", "optionName2": "M", "sellerManagerCode": "TS-WHT-M", "stockQuantity": 7},
]


def search(http: httpx.Client, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    r = http.post(PRODUCT_SEARCH, json=body, headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


def listed(page: dict[str, Any]) -> list[int]:
    return [c["originProductNo"] for c in page["contents"]]


def assert_product_error(r: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """§2.2 family 3: {code, message, invalidInputs?[{name, type, message}], timestamp, traceId}."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and body["message"] and body["timestamp"].endswith("+09:00")
    assert body["traceId"] == r.headers["GNCP-GW-Trace-ID"]
    if field is None:
        assert "invalidInputs" not in body
    else:
        assert [i["name"] for i in body["invalidInputs"]] == [field]
        assert set(body["invalidInputs"][0]) == {"name", "type", "message"}
    return body


def test_product_numbers_are_realistic_and_stable(clock: FakeClock) -> None:
    seeded = []
    for _ in range(2):
        with FakeNaver(clock=clock) as fake:
            seeded.append((fake.add_product("티셔츠", TSHIRT_OPTIONS, seller_code="TS"), fake.add_products(2, 2)))
    assert seeded[0] == seeded[1]                                     # same seeding, same numbers
    (p, more) = seeded[0]
    for s in (p, *more):
        assert len(str(s.origin_product_no)) == 10 and len(str(s.channel_product_no)) == 10
        assert s.origin_product_no != s.channel_product_no
        assert all(len(str(i)) == 11 for i in s.option_ids)
    assert len(p.option_ids) == 3 and len({i for s in (p, *more) for i in s.option_ids}) == 7


def test_product_search_answers_a_spring_page(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    shirt = fake.add_product("티셔츠", TSHIRT_OPTIONS, seller_code="TS", salePrice=19_000)
    bag = fake.add_product("에코백", None, seller_code="BAG-01", salePrice=12_000, stockQuantity=30)
    rest = fake.add_products(3)
    r = http.post(PRODUCT_SEARCH, json={}, headers=auth)
    assert r.status_code == 200 and r.headers["GNCP-GW-Trace-ID"]
    page = r.json()
    assert set(page) == PAGE_KEYS                                      # no data envelope, no traceId
    assert (page["page"], page["size"], page["totalElements"], page["totalPages"], page["first"], page["last"]) == (
        1, 50, 5, 1, True, True)
    assert listed(page) == sorted(listed(page)) == [shirt.origin_product_no, bag.origin_product_no,
                                                    *(s.origin_product_no for s in rest)]
    first = page["contents"][0]
    assert set(first) == {"originProductNo", "channelProducts"}
    (cp,) = first["channelProducts"]
    assert {k: cp[k] for k in ("originProductNo", "channelProductNo", "name", "sellerManagementCode", "statusType",
                               "salePrice", "stockQuantity", "channelServiceType")} == {
        "originProductNo": shirt.origin_product_no, "channelProductNo": shirt.channel_product_no, "name": "티셔츠",
        "sellerManagementCode": "TS", "statusType": "SALE", "salePrice": 19_000, "stockQuantity": 12,
        "channelServiceType": "STOREFARM"}                            # stock = sum over the usable options
    assert cp["regDate"].endswith("+09:00") and cp["modifiedDate"] == cp["regDate"]
    bag_cp = page["contents"][1]["channelProducts"][0]
    assert (bag_cp["sellerManagementCode"], bag_cp["stockQuantity"], bag_cp["salePrice"]) == ("BAG-01", 30, 12_000)
    assert fake.calls(PRODUCT_SEARCH)[-1].json() == {}


def test_product_search_pages_are_one_based_and_capped_at_500(http: httpx.Client, fake: FakeNaver,
                                                              auth: dict[str, str]) -> None:
    nos = [s.origin_product_no for s in fake.add_products(55, 0)]
    default = search(http, auth)
    assert (len(default["contents"]), default["size"], default["totalPages"], default["last"]) == (50, 50, 2, False)
    pages = [search(http, auth, page=n, size=20) for n in (1, 2, 3, 4)]
    assert [(p["page"], p["first"], p["last"], len(p["contents"])) for p in pages] == [
        (1, True, False, 20), (2, False, False, 20), (3, False, True, 15), (4, False, True, 0)]
    assert [n for p in pages for n in listed(p)] == nos
    big = search(http, auth, size=500, page="1")                       # numbers in strings are read too
    assert len(big["contents"]) == 55 and big["totalPages"] == 1 and big["last"]


def test_product_search_filters(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    shirt = fake.add_product("티셔츠", TSHIRT_OPTIONS, seller_code="TS", salePrice=19_000)
    a, b, c = fake.add_products(3, 1, salePrice=5_000)
    fake.set_product_status(b.origin_product_no, "OUTOFSTOCK")
    fake.set_product_status(c.channel_product_no, "SUSPENSION")       # either number works for seeding
    grouped = fake.add_product("그룹 상품", 2, group_product_no=7_654_321, salePrice=30_000)
    last_year = fake.now() - timedelta(days=400)
    old = fake.add_product("작년 상품", registered_at=last_year, salePrice=1_000)

    def nos(**body: Any) -> list[int]:
        return listed(search(http, auth, **body))

    assert nos(productStatusTypes=["OUTOFSTOCK", "SUSPENSION"]) == [b.origin_product_no, c.origin_product_no]
    assert nos(searchKeywordType="SELLER_CODE", sellerManagementCode="TS") == [shirt.origin_product_no]
    assert nos(searchKeywordType="SELLER_CODE", sellerManagementCode="T") == []          # exact match
    assert nos(searchKeywordType="PRODUCT_NO", originProductNos=[a.origin_product_no, str(c.origin_product_no),
                                                                 a.channel_product_no]) == [a.origin_product_no,
                                                                                            c.origin_product_no]
    assert nos(searchKeywordType="CHANNEL_PRODUCT_NO", channelProductNos=[b.channel_product_no]) == [
        b.origin_product_no]
    page = search(http, auth, searchKeywordType="GROUP_PRODUCT_NO", groupProductNos=[7_654_321])
    assert listed(page) == [grouped.origin_product_no]
    assert page["contents"][0]["groupProductNo"] == 7_654_321
    assert page["contents"][0]["channelProducts"][0]["groupProductNo"] == 7_654_321
    everyone = nos()
    assert len(everyone) == 6
    assert nos(originProductNos=[a.origin_product_no]) == everyone                   # no searchKeywordType: ignored
    assert nos(searchKeywordType="PRODUCT_NO", originProductNos=[a.origin_product_no],
               productStatusTypes=["SUSPENSION"]) == []                               # filters combine
    day = last_year.strftime("%Y-%m-%d")
    assert nos(periodType="PROD_REG_DAY", fromDate=day, toDate=day) == [old.origin_product_no]
    assert old.origin_product_no not in nos(periodType="PROD_REG_DAY", fromDate=fake.now().strftime("%Y-%m-%d"))
    by_price = search(http, auth, orderType="HIGH_PRICE")
    prices = [cp["channelProducts"][0]["salePrice"] for cp in by_price["contents"]]
    assert prices == sorted(prices, reverse=True) and by_price["sort"]["fields"][0]["direction"] == "DESC"
    assert listed(search(http, auth, orderType="NAME"))[0] == grouped.origin_product_no   # "그룹 상품" sorts first


@pytest.mark.parametrize(("body", "field"), [
    ({"size": 501}, "size"),
    ({"size": 0}, "size"),
    ({"page": 0}, "page"),
    ({"page": "first"}, "page"),
    ({"productStatusTypes": ["SOLD"]}, "productStatusTypes"),
    ({"productStatusTypes": "SALE"}, "productStatusTypes"),
    ({"searchKeywordType": "NAME"}, "searchKeywordType"),
    ({"searchKeywordType": "CHANNEL_PRODUCT_NO"}, "channelProductNos"),
    ({"searchKeywordType": "PRODUCT_NO", "originProductNos": []}, "originProductNos"),
    ({"searchKeywordType": "SELLER_CODE", "sellerManagementCode": " "}, "sellerManagementCode"),
    ({"originProductNos": ["abc"]}, "originProductNos"),
    ({"orderType": "RANDOM"}, "orderType"),
    ({"periodType": "PROD_REG_DAY", "fromDate": "2026-11-22T00:00:00"}, "fromDate"),
    ({"fromDate": "2026-11-22"}, "periodType"),
    ({"periodType": "PROD_REG_DAY", "fromDate": "2026-11-23", "toDate": "2026-11-22"}, "fromDate"),
])
def test_product_search_validation_errors(http: httpx.Client, auth: dict[str, str], body: dict[str, Any],
                                          field: str) -> None:
    r = http.post(PRODUCT_SEARCH, json=body, headers=auth)
    assert_product_error(r, 400, "BAD_REQUEST", field)


def test_product_search_unreadable_bodies(http: httpx.Client, fake: FakeNaver, auth: dict[str, str]) -> None:
    for r in (http.post(PRODUCT_SEARCH, content=b"{nope", headers={**auth, "Content-Type": "application/json"}),
              http.post(PRODUCT_SEARCH, json=[1, 2], headers=auth),
              http.post(PRODUCT_SEARCH, headers={**auth, "Content-Type": "application/json"}),
              http.post(PRODUCT_SEARCH, data={"page": "1"}, headers=auth)):
        assert_product_error(r, 400, "BAD_REQUEST")                    # no invalidInputs: fall back to message
    assert http.post(PRODUCT_SEARCH, json={}, headers=auth).status_code == 200


def test_origin_product_detail_shape_and_the_spelling_trap(http: httpx.Client, fake: FakeNaver,
                                                           auth: dict[str, str]) -> None:
    shirt = fake.add_product("티셔츠", TSHIRT_OPTIONS, seller_code="TS", salePrice=19_000,
                             detailAttribute={"sellerCodeInfo": {"sellerBarcode": "8801234567890"}})
    r = http.get(f"{ORIGIN_PRODUCT}/{shirt.origin_product_no}", headers=auth)
    assert r.status_code == 200 and r.headers["GNCP-GW-Trace-ID"]
    body = r.json()
    assert set(body) == {"originProduct", "smartstoreChannelProduct"}  # no groupProduct / window channel here
    origin = body["originProduct"]
    assert (origin["name"], origin["statusType"], origin["salePrice"], origin["stockQuantity"]) == (
        "티셔츠", "SALE", 19_000, 12)
    detail = origin["detailAttribute"]
    assert detail["sellerCodeInfo"] == {"sellerManagementCode": "TS", "sellerBarcode": "8801234567890"}
    info = detail["optionInfo"]
    assert info["optionCombinationGroupNames"] == {"optionGroupName1": "색상", "optionGroupName2": "사이즈"}
    combos = info["optionCombinations"]
    assert [c["id"] for c in combos] == list(shirt.option_ids)
    assert [(c["optionName1"], c["optionName2"], c["sellerManagerCode"], c["stockQuantity"], c["price"], c["usable"])
            for c in combos] == [("블랙", "M", "TS-BLK-M", 5, 0, True), ("블랙", "L", "TS-BLK-L", 0, 1000, True),
                                 ("화이트", "M", "TS-WHT-M", 7, 0, True)]
    # spelling trap: sellerManagerCode at option level, sellerManagementCode at product level — never swapped
    assert all("sellerManagementCode" not in c for c in combos)
    assert "sellerManagerCode" not in detail["sellerCodeInfo"]
    assert body["smartstoreChannelProduct"]["channelProductDisplayStatusType"] == "ON"
    assert "data" not in body and "traceId" not in body
    by_channel = http.get(f"{CHANNEL_PRODUCT}/{shirt.channel_product_no}", headers=auth)
    assert by_channel.status_code == 200 and by_channel.json() == body == fake.product(shirt.origin_product_no)
    # a product without options has no optionInfo; custom group names; four option levels
    plain = fake.add_product("에코백", seller_code="BAG-01", stockQuantity=3)
    plain_detail = http.get(f"{ORIGIN_PRODUCT}/{plain.origin_product_no}", headers=auth).json()
    assert "optionInfo" not in plain_detail["originProduct"]["detailAttribute"]
    assert plain_detail["originProduct"]["stockQuantity"] == 3
    four = fake.add_product("지점 상품", [{"optionName1": "A", "optionName2": "B", "optionName3": "C",
                                          "optionName4": "D"}], option_group_names=["w", "x", "y", "z"])
    names = fake.product(four.channel_product_no)["originProduct"]["detailAttribute"]["optionInfo"]
    assert names["optionCombinationGroupNames"] == {f"optionGroupName{i}": g for i, g in enumerate("wxyz", 1)}
    assert names["optionCombinations"][0]["optionName4"] == "D" and "sellerManagerCode" not in \
        names["optionCombinations"][0]


def test_unknown_product_is_404_in_the_product_error_shape(http: httpx.Client, fake: FakeNaver,
                                                           auth: dict[str, str]) -> None:
    p = fake.add_product("티셔츠", TSHIRT_OPTIONS)
    for path in (f"{ORIGIN_PRODUCT}/1234567890", f"{CHANNEL_PRODUCT}/1234567890",
                 f"{ORIGIN_PRODUCT}/{p.channel_product_no}", f"{CHANNEL_PRODUCT}/{p.origin_product_no}"):
        assert_product_error(http.get(path, headers=auth), 404, "NOT_FOUND")
    assert_product_error(http.get(f"{ORIGIN_PRODUCT}/abc", headers=auth), 400, "BAD_REQUEST", "originProductNo")
    assert_product_error(http.get(f"{CHANNEL_PRODUCT}/-1", headers=auth), 400, "BAD_REQUEST", "channelProductNo")
    assert_gateway_error(http.get(f"{ORIGIN_PRODUCT}/{p.origin_product_no}/x", headers=auth), 404, "GW.NOT_FOUND")
    assert_gateway_error(http.post(f"{ORIGIN_PRODUCT}/{p.origin_product_no}", json={}, headers=auth), 404,
                         "GW.NOT_FOUND")


def test_deleted_products_and_removed_options(http: httpx.Client, fake: FakeNaver, auth: dict[str, str],
                                              clock: FakeClock) -> None:
    shirt = fake.add_product("티셔츠", TSHIRT_OPTIONS, seller_code="TS")
    other = fake.add_product("에코백", stockQuantity=3)
    gone = fake.add_product("사라질 상품", 2)
    black_m, black_l, white_m = shirt.option_ids

    def combos() -> list[dict[str, Any]]:
        r = http.get(f"{ORIGIN_PRODUCT}/{shirt.origin_product_no}", headers=auth)
        return r.json()["originProduct"]["detailAttribute"]["optionInfo"]["optionCombinations"]

    clock.advance(60)
    fake.remove_option(shirt.origin_product_no, black_m)               # usable: false, still listed
    assert [(c["id"], c["usable"]) for c in combos()] == [(black_m, False), (black_l, True), (white_m, True)]
    fake.remove_option(shirt.channel_product_no, white_m, drop=True)   # gone from the combinations
    assert [c["id"] for c in combos()] == [black_m, black_l]
    cp = search(http, auth, searchKeywordType="PRODUCT_NO", originProductNos=[shirt.origin_product_no])[
        "contents"][0]["channelProducts"][0]
    assert cp["stockQuantity"] == 0                                    # only usable options count
    assert cp["modifiedDate"] > cp["regDate"]
    fake.update_option(shirt.origin_product_no, black_l, stockQuantity=4, usable=True)
    assert combos()[1]["stockQuantity"] == 4

    fake.delete_product(shirt.channel_product_no)                      # statusType DELETE, still readable
    body = http.get(f"{CHANNEL_PRODUCT}/{shirt.channel_product_no}", headers=auth).json()
    assert body["originProduct"]["statusType"] == "DELETE"
    assert body["smartstoreChannelProduct"]["channelProductDisplayStatusType"] == "SUSPENSION"
    everything = search(http, auth)
    assert [c["channelProducts"][0]["statusType"] for c in everything["contents"]] == ["DELETE", "SALE", "SALE"]
    assert listed(search(http, auth, productStatusTypes=["DELETE"])) == [shirt.origin_product_no]
    assert listed(search(http, auth, productStatusTypes=["SALE"])) == [other.origin_product_no,
                                                                       gone.origin_product_no]
    fake.delete_product(gone.origin_product_no, purge=True)            # gone altogether
    assert_product_error(http.get(f"{ORIGIN_PRODUCT}/{gone.origin_product_no}", headers=auth), 404, "NOT_FOUND")
    assert listed(search(http, auth)) == [shirt.origin_product_no, other.origin_product_no]
    assert [(p["originProductNo"], p["statusType"]) for p in fake.products] == [
        (shirt.origin_product_no, "DELETE"), (other.origin_product_no, "SALE")]
    assert [o["id"] for o in fake.products[0]["optionCombinations"]] == [black_m, black_l]
    assert fake.products[1]["optionCombinations"] is None
    with pytest.raises(KeyError):
        fake.product(gone.origin_product_no)


def test_deleted_product_and_absent_part_knobs(clock: FakeClock) -> None:
    with FakeNaver(clock=clock, rate_limit=None, search_hides_deleted=True, deleted_product_not_found=True,
                   product_absent_parts_as_null=True) as fake, httpx.Client(base_url=fake.base_url) as http:
        auth = bearer(http, fake)
        live, dead = fake.add_product("A"), fake.add_product("B")
        fake.delete_product(dead.origin_product_no)
        assert listed(search(http, auth)) == [live.origin_product_no]
        assert listed(search(http, auth, productStatusTypes=["DELETE"])) == [dead.origin_product_no]
        assert_product_error(http.get(f"{ORIGIN_PRODUCT}/{dead.origin_product_no}", headers=auth), 404, "NOT_FOUND")
        body = http.get(f"{ORIGIN_PRODUCT}/{live.origin_product_no}", headers=auth).json()
        assert body["groupProduct"] is None and body["windowChannelProduct"] is None
        assert list(body) == ["groupProduct", "originProduct", "windowChannelProduct", "smartstoreChannelProduct"]


def test_product_paging_is_stable_while_products_are_added_and_deleted(http: httpx.Client, fake: FakeNaver,
                                                                      auth: dict[str, str]) -> None:
    before = [s.origin_product_no for s in fake.add_products(10, 1)]
    first = search(http, auth, page=1, size=4)
    added = [s.origin_product_no for s in fake.add_products(3, 1)]     # higher numbers: appended at the end
    fake.delete_product(before[1])                                     # on the page already read
    fake.delete_product(before[6])                                     # on a page still to come
    seen, n, page = listed(first), 1, first
    while not page["last"]:
        n += 1
        page = search(http, auth, page=n, size=4)
        seen += listed(page)
    assert seen == before + added                                      # nothing skipped, nothing twice
    assert page["totalElements"] == 13


def test_product_routes_need_a_token_and_have_their_own_rate_buckets(clock: FakeClock) -> None:
    rate_clock = FakeClock(0.0)
    with FakeNaver(clock=clock, rate_clock=rate_clock, rate_limit_per_api={"origin-product": 1}) as fake, \
         httpx.Client(base_url=fake.base_url) as http:
        p = fake.add_product("티셔츠", TSHIRT_OPTIONS)
        origin, channel = f"{ORIGIN_PRODUCT}/{p.origin_product_no}", f"{CHANNEL_PRODUCT}/{p.channel_product_no}"
        for r in (http.post(PRODUCT_SEARCH, json={}), http.get(origin),
                  http.get(channel, headers={"Authorization": "Bearer expired"})):
            assert assert_gateway_error(r, 401, "GW.AUTHN")["message"] == "요청을 보낼 권한이 없습니다."
        auth = bearer(http, fake)
        for n in range(4):                                             # products-search: default 2/s, burst 4
            r = http.post(PRODUCT_SEARCH, json={}, headers=auth)
            assert r.status_code == 200 and r.headers["GNCP-GW-RateLimit-Remaining"] == str(3 - n)
        r = http.post(PRODUCT_SEARCH, json={}, headers=auth)
        assert_gateway_error(r, 429, "GW.RATE_LIMIT")
        assert r.headers["GNCP-GW-RateLimit-Replenish-Rate"] == "2"
        for _ in range(2):                                             # origin-product: 1/s, burst 2
            r = http.get(origin, headers=auth)
            assert r.status_code == 200 and r.headers["GNCP-GW-RateLimit-Replenish-Rate"] == "1"
        assert_gateway_error(http.get(origin, headers=auth), 429, "GW.RATE_LIMIT")
        assert [http.get(channel, headers=auth).status_code for _ in range(4)] == [200] * 4   # its own bucket
        r = http.get(f"{CHANNEL_PRODUCT}/1234567890", headers=auth)   # a 404 still spends and reports tokens
        assert_gateway_error(r, 429, "GW.RATE_LIMIT")
        rate_clock.advance(1)
        r = http.get(f"{CHANNEL_PRODUCT}/1234567890", headers=auth)
        assert_product_error(r, 404, "NOT_FOUND")
        assert r.headers["GNCP-GW-RateLimit-Remaining"] == "1"
        assert http.get(origin, headers=auth).status_code == 200
        fake.set_rate_limit(None)
        assert all(http.post(PRODUCT_SEARCH, json={}, headers=auth).status_code == 200 for _ in range(6))


def test_product_routes_failure_injection_and_request_log(http: httpx.Client, fake: FakeNaver,
                                                          auth: dict[str, str]) -> None:
    p = fake.add_product("티셔츠", TSHIRT_OPTIONS)
    origin, channel = f"{ORIGIN_PRODUCT}/{p.origin_product_no}", f"{CHANNEL_PRODUCT}/{p.channel_product_no}"
    fake.fail_next(PRODUCT_SEARCH, 503)
    fake.fail_next("origin-products", 500)
    assert_gateway_error(http.post(PRODUCT_SEARCH, json={"page": 1}, headers=auth), 503, "GW.BLOCK.01")
    assert_gateway_error(http.get(origin, headers=auth), 500, "GW.INTERNAL_SERVER_ERROR")
    fake.fail_next("channel-products", "malformed")
    r = http.get(channel, headers=auth)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()
    fake.fail_next(PRODUCT_SEARCH, "disconnect")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(PRODUCT_SEARCH, json={}, headers=auth)
    fake.fail_next("origin-products", "timeout", delay=30)
    with pytest.raises(httpx.ReadTimeout):
        http.get(origin, headers=auth, timeout=0.2)
    fake.fail_next("/v2/products/", 504)
    assert_gateway_error(http.get(channel, headers=auth), 504, "GW.TIMEOUT.01")
    assert http.post(PRODUCT_SEARCH, json={"page": 1}, headers=auth).json()["totalElements"] == 1
    assert http.get(origin, headers=auth).status_code == 200
    searches = fake.calls(PRODUCT_SEARCH, method="POST")
    assert [(c.injected, c.status) for c in searches] == [("503", 503), ("disconnect", None), (None, 200)]
    assert searches[0].path == "/external" + PRODUCT_SEARCH and searches[0].json() == {"page": 1}
    assert [(c.injected, c.status) for c in fake.calls("origin-products")] == [
        ("500", 500), ("timeout", 504), (None, 200)]
    assert [(c.injected, c.status) for c in fake.calls("channel-products")] == [("malformed", 200), ("504", 504)]


def test_bulk_seeding_10000_products_with_3_options(http: httpx.Client, fake: FakeNaver,
                                                    auth: dict[str, str]) -> None:
    seeded = fake.add_products(10_000, options_per_product=3)  # how fast: bench/catalogue.py, not a test
    assert len({s.origin_product_no for s in seeded}) == 10_000
    assert len({i for s in seeded for i in s.option_ids}) == 30_000
    last = search(http, auth, page=20, size=500)
    assert (last["totalElements"], last["totalPages"], len(last["contents"]), last["last"]) == (10_000, 20, 500, True)
    assert listed(last)[-1] == seeded[-1].origin_product_no
    cp = last["contents"][-1]["channelProducts"][0]
    detail = http.get(f"{CHANNEL_PRODUCT}/{seeded[-1].channel_product_no}", headers=auth).json()
    combos = detail["originProduct"]["detailAttribute"]["optionInfo"]["optionCombinations"]
    code = cp["sellerManagementCode"]
    assert [c["sellerManagerCode"] for c in combos] == [f"{code}-01", f"{code}-02", f"{code}-03"]
    assert [(c["optionName1"], c["optionName2"]) for c in combos] == [("블랙", "S"), ("블랙", "M"), ("블랙", "L")]
    assert cp["stockQuantity"] == sum(c["stockQuantity"] for c in combos)
    assert search(http, auth, searchKeywordType="SELLER_CODE", sellerManagementCode=code)["totalElements"] == 1


def test_product_seeding_validates(fake: FakeNaver) -> None:
    with pytest.raises(ValueError, match="statusType"):
        fake.add_product("x", status="SOLD_OUT")
    with pytest.raises(ValueError, match="sellerManagerCode"):                  # the spelling trap, at seeding
        fake.add_product("x", [{"optionName1": "블랙", "sellerManagementCode": "X-1"}])
    with pytest.raises(ValueError, match="optionName1"):
        fake.add_product("x", [{"optionName2": "M"}])
    p = fake.add_product("x", [{"optionName1": "블랙", "id": 12_345_678_901}], origin_product_no=4_812_300_014)
    assert p.option_ids == (12_345_678_901,) and p.origin_product_no == 4_812_300_014
    with pytest.raises(ValueError, match="already seeded"):
        fake.add_product("y", origin_product_no=p.origin_product_no)
    with pytest.raises(ValueError, match="already seeded"):
        fake.add_product("y", [{"optionName1": "화이트", "id": 12_345_678_901}])
    auto = fake.add_products(2, 0)                                     # automatic numbers skip taken ones
    assert p.origin_product_no not in {s.origin_product_no for s in auto}
    with pytest.raises(KeyError):
        fake.delete_product(1_234_567_890)
    with pytest.raises(KeyError):
        fake.remove_option(p.origin_product_no, 99_999_999_999)
    with pytest.raises(ValueError):
        fake.set_product_status(p.origin_product_no, "GONE")
    with pytest.raises(ValueError):
        fake.update_option(p.origin_product_no, p.option_ids[0], sellerManagementCode="X")


def test_order_item_points_an_order_at_a_seeded_product(http: httpx.Client, fake: FakeNaver,
                                                        auth: dict[str, str]) -> None:
    shirt = fake.add_product("티셔츠", TSHIRT_OPTIONS, seller_code="TS", salePrice=19_000)
    (pid,) = fake.add_order([fake.order_item(shirt.channel_product_no, shirt.option_ids[1])]).product_order_ids
    po = http.post(QUERY, json={"productOrderIds": [pid]}, headers=auth).json()["data"][0]["productOrder"]
    assert (po["productId"], po["originalProductId"], po["optionCode"]) == (
        str(shirt.channel_product_no), str(shirt.origin_product_no), str(shirt.option_ids[1]))
    assert (po["optionManageCode"], po["sellerProductCode"], po["productOption"]) == (
        "TS-BLK-L", "TS", "색상: 블랙 / 사이즈: L")
    assert po["totalProductAmount"] == 19_000 + 1_000


def test_product_pictures_are_served_as_png_at_the_url_the_catalogue_names(fake: FakeNaver) -> None:
    """The fake CDN: PNG bytes at the URL the catalogue names; a new picture is a new URL (the old one is
    gone); a missing picture is a 404."""
    from tests.fakes.naver import product_png

    seeded = fake.add_product("머그컵")
    url = fake.image_url(seeded.origin_product_no)
    assert fake.product(seeded.origin_product_no)["originProduct"]["images"]["representativeImage"]["url"] == url
    reply = httpx.get(url)
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/png"
    assert reply.content.startswith(b"\x89PNG\r\n\x1a\n") and reply.content == product_png(seeded.origin_product_no)
    new = fake.set_product_image(seeded.origin_product_no, new=True)
    assert new != url and httpx.get(url).status_code == 404 and httpx.get(new).status_code == 200
    fake.set_product_image(seeded.origin_product_no, missing=True)
    assert httpx.get(new).status_code == 404
    assert len(fake.image_requests) == 4 and not fake.requests
