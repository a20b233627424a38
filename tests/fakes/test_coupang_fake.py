"""Self-tests of the fake Coupang Wing Open API: raw HTTP with httpx, signatures computed here with
hmac/hashlib from section B.2 of docs/marketplaces/coupang.md, not from any client."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from tests.fakes.coupang import (
    API_ROOT,
    FIRST_SHIPMENT_BOX_ID,
    KST,
    FakeClock,
    FakeCoupang,
    cea_authorization,
)

START = datetime(2026, 11, 22, 10, 15, 30, tzinfo=KST)     # = 261122T011530Z
TODAY = "2026-11-22"


# --- helpers --------------------------------------------------------------------------------------------
def authorization(access_key: str, secret_key: str, method: str, path: str, query: str, when: float) -> str:
    """B.2, written out independently of the fake."""
    dt = time.strftime("%y%m%dT%H%M%SZ", time.gmtime(when))
    message = dt + method + path + query
    sig = hmac.new(secret_key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"CEA algorithm=HmacSHA256, access-key={access_key}, signed-date={dt}, signature={sig}"


def client(fake: FakeCoupang, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=fake.base_url, timeout=timeout, verify=False)   # plain HTTP: no CA bundle load


class Api:
    """Signs and sends one request exactly as given (path and query string are not re-encoded)."""

    def __init__(self, http: httpx.Client, fake: FakeCoupang, clock: FakeClock, *, access_key: str | None = None,
                 secret_key: str | None = None, vendor_id: str | None = None) -> None:
        self.http, self.fake, self.clock = http, fake, clock
        self.access_key = access_key or fake.access_key
        self.secret_key = secret_key or fake.secret_key
        self.vendor_id = vendor_id or fake.vendor_id

    def path(self, suffix: str, vendor_id: str | None = None) -> str:
        return f"{API_ROOT}/{vendor_id or self.vendor_id}{suffix}"

    def call(self, method: str, path: str, query: str = "", body: Any = None, *, sign_query: str | None = None,
             sign_method: str | None = None, when: float | None = None, auth: str | None = None,
             content_type: str = "application/json;charset=UTF-8") -> httpx.Response:
        signed = when if when is not None else self.clock()
        header = auth if auth is not None else authorization(
            self.access_key, self.secret_key, sign_method or method, path,
            query if sign_query is None else sign_query, signed)
        url = path + (f"?{query}" if query else "")
        content = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        return self.http.request(method, url, content=content,
                                 headers={"Authorization": header, "Content-Type": content_type})

    def sheets(self, **params: Any) -> httpx.Response:
        return self.call("GET", self.path("/ordersheets"), urlencode(params))

    def sheet(self, box_id: int) -> httpx.Response:
        return self.call("GET", self.path(f"/ordersheets/{box_id}"))

    def ack(self, *box_ids: int, method: str = "PATCH", vendor_in_body: str | None = None) -> httpx.Response:
        body = {"vendorId": vendor_in_body or self.vendor_id, "shipmentBoxIds": list(box_ids)}
        return self.call(method, self.path("/ordersheets/acknowledgement"), body=body)

    def returns(self, **params: Any) -> httpx.Response:
        return self.call("GET", self.path("/returnRequests"), urlencode(params))

    def invoices(self, dtos: list[dict[str, Any]], *, update: bool = False) -> httpx.Response:
        suffix = "/orders/updateInvoices" if update else "/orders/invoices"
        return self.call("POST", self.path(suffix), body={"vendorId": self.vendor_id,
                                                           "orderSheetInvoiceApplyDtos": dtos})


def dtos_for(fake: FakeCoupang, box_id: int, courier: str = "CJGLS", invoice: str = "612345678901",
             **overrides: Any) -> list[dict[str, Any]]:
    """One DTO per vendorItemId still to ship, as B.5 asks (normal shipment)."""
    sheet = fake.sheet(box_id)
    return [{"shipmentBoxId": box_id, "orderId": sheet["orderId"], "vendorItemId": it["vendorItemId"],
             "deliveryCompanyCode": courier, "invoiceNumber": invoice, "splitShipping": False,
             "preSplitShipped": False, "estimatedShippingDate": "", **overrides}
            for it in sheet["orderItems"] if not it["canceled"]]


def data_of(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return r.json()["data"]


def only_result(r: httpx.Response) -> dict[str, Any]:
    (result,) = data_of(r)["responseList"]
    return result


def assert_error(r: httpx.Response, status: int, message: str | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["code"] == "ERROR"
    if message is not None:
        assert body["message"] == message


def ids_of(r: httpx.Response) -> list[int]:
    return [s["shipmentBoxId"] for s in data_of(r)]


# --- fixtures -------------------------------------------------------------------------------------------
@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeCoupang]:
    with FakeCoupang(clock=clock, rate_limit=None, forbidden_threshold=None) as f:
        yield f


@pytest.fixture
def http(fake: FakeCoupang) -> Iterator[httpx.Client]:
    with client(fake) as http_client:
        yield http_client


@pytest.fixture
def api(http: httpx.Client, fake: FakeCoupang, clock: FakeClock) -> Api:
    return Api(http, fake, clock)


# --- B.2 signature --------------------------------------------------------------------------------------
def test_the_spec_example_message_and_header() -> None:
    path = "/v2/providers/openapi/apis/api/v4/vendors/A00012345/ordersheets"
    query = "createdAtFrom=2026-11-21&createdAtTo=2026-11-22&status=ACCEPT"
    header = authorization("ak", "sk", "GET", path, query, START.timestamp())
    expected = hmac.new(b"sk", f"261122T011530ZGET{path}{query}".encode(), hashlib.sha256).hexdigest()
    assert header == f"CEA algorithm=HmacSHA256, access-key=ak, signed-date=261122T011530Z, signature={expected}"
    assert cea_authorization("ak", "sk", "GET", path, query, START) == header     # the fake's helper agrees


def test_a_good_signature_is_accepted_and_the_request_is_logged(api: Api, fake: FakeCoupang) -> None:
    query = "createdAtFrom=2026-11-21&createdAtTo=2026-11-22&status=ACCEPT"
    r = api.call("GET", api.path("/ordersheets"), query)
    assert r.status_code == 200 and r.json() == {"code": 200, "message": "OK", "data": [], "nextToken": ""}
    (rec,) = fake.requests
    assert rec.raw_query == query and rec.query["status"] == "ACCEPT"
    assert rec.vendor_id == fake.vendor_id and rec.access_key == fake.access_key and rec.status == 200


def test_a_wrong_secret_or_a_differently_signed_query_is_invalid(api: Api, fake: FakeCoupang) -> None:
    path = api.path("/ordersheets")
    query = "createdAtFrom=2026-11-22&createdAtTo=2026-11-22&status=ACCEPT"
    r = Api(api.http, fake, api.clock, secret_key="0" * 40).call("GET", path, query)
    assert r.status_code == 401 and r.json() == {"code": "ERROR", "message": "Invalid signature."}
    reordered = "status=ACCEPT&createdAtFrom=2026-11-22&createdAtTo=2026-11-22"
    assert_error(api.call("GET", path, query, sign_query=reordered), 401, "Invalid signature.")
    assert_error(api.call("GET", path, query, sign_query="?" + query), 401, "Invalid signature.")   # no "?"
    assert_error(api.call("GET", path, query, sign_method="POST"), 401, "Invalid signature.")
    assert api.call("GET", path, query).status_code == 200


def test_a_korean_query_value_is_signed_over_its_encoded_form(api: Api, fake: FakeCoupang) -> None:
    path = api.path("/ordersheets")
    base = f"createdAtFrom={TODAY}&createdAtTo={TODAY}&status=ACCEPT"
    encoded = f"{base}&memo={quote('포장 완료')}"                       # %ED%8F%AC%EC%9E%A5%20%EC%99%84%EB%A3%8C
    assert api.call("GET", path, encoded).status_code == 200
    assert fake.requests[-1].raw_query == encoded                       # byte-identical to what was sent
    assert fake.requests[-1].query["memo"] == "포장 완료"
    # signing the raw Korean text while the URL carries it encoded: the classic "Invalid signature."
    assert_error(api.call("GET", path, encoded, sign_query=f"{base}&memo=포장 완료"), 401, "Invalid signature.")
    # the same value encoded another way (space as "+") is a different byte string
    plus = f"{base}&{urlencode({'memo': '포장 완료'})}"
    assert_error(api.call("GET", path, plus, sign_query=encoded), 401, "Invalid signature.")
    assert api.call("GET", path, plus).status_code == 200


def test_signed_date_off_the_clock_is_expired(api: Api, clock: FakeClock) -> None:
    path, query = api.path("/ordersheets"), f"createdAtFrom={TODAY}&createdAtTo={TODAY}&status=ACCEPT"
    now = clock()
    assert api.call("GET", path, query, when=now - 299).status_code == 200
    assert api.call("GET", path, query, when=now + 299).status_code == 200
    r = api.call("GET", path, query, when=now - 301)
    assert r.status_code == 401 and r.json() == {"code": "ERROR", "message": "Specified signature is expired"}
    assert_error(api.call("GET", path, query, when=now + 301), 401, "Specified signature is expired")
    # a client on local time instead of UTC (KST = UTC+9): the classic TZ bug
    assert_error(api.call("GET", path, query, when=now + 9 * 3600), 401, "Specified signature is expired")
    clock.advance(301)                                                  # the fake's clock moves: old stamp expires
    assert_error(api.call("GET", path, query, when=now), 401, "Specified signature is expired")


def test_unknown_key_missing_or_malformed_header(api: Api, fake: FakeCoupang) -> None:
    path, query = api.path("/ordersheets"), f"createdAtFrom={TODAY}&createdAtTo={TODAY}&status=ACCEPT"
    assert_error(Api(api.http, fake, api.clock, access_key="nope").call("GET", path, query), 401,
                 "Invalid access key.")
    r = api.http.get(f"{path}?{query}")
    assert r.status_code == 401 and r.json()["code"] == "ERROR"
    good = authorization(fake.access_key, fake.secret_key, "GET", path, query, api.clock())
    assert_error(api.call("GET", path, query, auth=good.replace("HmacSHA256", "HmacSHA1")), 401)
    assert_error(api.call("GET", path, query, auth=good.replace("CEA ", "Bearer ")), 401)
    upper = good[: good.index("signature=") + 10] + good[good.index("signature=") + 10:].upper()
    assert_error(api.call("GET", path, query, auth=upper), 401, "Invalid signature.")   # hex must be lowercase
    fake.remove_key(fake.access_key)                                    # expired / reissued key
    assert_error(api.call("GET", path, query), 401, "Invalid access key.")


def test_vendor_in_path_must_be_the_keys_vendor(api: Api, fake: FakeCoupang) -> None:
    fake.add_key("other-ak", "other-sk", "C00054321")
    mine = fake.add_sheet(1)
    theirs = fake.add_sheet(1, vendor_id="C00054321")
    r = api.call("GET", api.path(f"/ordersheets/{mine.shipment_box_id}", "C00054321"))
    assert_error(r, 403)
    other = Api(api.http, fake, api.clock, access_key="other-ak", secret_key="other-sk", vendor_id="C00054321")
    assert data_of(other.sheet(theirs.shipment_box_id))["shipmentBoxId"] == theirs.shipment_box_id
    assert_error(other.sheet(mine.shipment_box_id), 400)                 # another vendor's box does not exist
    assert ids_of(other.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT")) == [theirs.shipment_box_id]


def test_unknown_path_and_wrong_method(api: Api) -> None:
    assert_error(api.call("GET", api.path("/nothing")), 404)
    assert_error(api.call("GET", api.path("/ordersheets/acknowledgement")), 405)
    assert_error(api.call("DELETE", api.path("/orders/invoices")), 405)


# --- B.3 order sheets -----------------------------------------------------------------------------------
def test_big_shipment_box_ids_round_trip_exactly(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1)
    assert s.shipment_box_id == FIRST_SHIPMENT_BOX_ID == 642538970006401429 and s.shipment_box_id > 2**53
    big = 2**63 - 25
    fake.add_sheet(1, shipment_box_id=big)
    r = api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT")
    assert b'"shipmentBoxId": 642538970006401429' in r.content            # a JSON number, all digits
    assert b'"shipmentBoxId": "' not in r.content
    assert ids_of(r) == [642538970006401429, big]
    assert float(642538970006401429) != 642538970006401429                # what a float parser would lose
    assert data_of(api.sheet(big))["shipmentBoxId"] == big
    r = api.ack(big)
    assert b"[9223372036854775783]" in fake.requests[-1].body             # JSON number in ...
    assert b'"shipmentBoxId": 9223372036854775783' in r.content           # ... the same number out
    assert only_result(r)["shipmentBoxId"] == big
    assert fake.status(big) == "INSTRUCT"


def test_sheet_has_the_spec_fields(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet([{"sellerProductName": "머그컵", "sellerProductItemName": "화이트", "shippingCount": 2,
                         "externalVendorSkuCode": "MUG-WH"}, {}],
                       receiver={"name": "이*희", "addr1": "부산광역시 해운대구 센텀로 1", "addr2": "2층",
                                 "postCode": "48058"},
                       parcelPrintMessage="경비실에 맡겨주세요")
    sheet = data_of(api.sheet(s.shipment_box_id))
    assert set(sheet) >= {"shipmentBoxId", "orderId", "orderedAt", "paidAt", "status", "orderer", "receiver",
                          "parcelPrintMessage", "shippingPrice", "remotePrice", "remoteArea", "splitShipping",
                          "ableSplitShipping", "orderItems", "deliveryCompanyName", "invoiceNumber",
                          "inTrasitDateTime", "deliveredDate", "refer"}
    assert sheet["status"] == "ACCEPT" and sheet["orderId"] == s.order_id
    assert sheet["paidAt"] == "2026-11-22T10:15:30" and sheet["orderedAt"] == "2026-11-22T10:15:00"
    assert set(sheet["orderer"]) >= {"name", "email", "safeNumber"} and "*" in sheet["orderer"]["name"]
    assert sheet["receiver"] == {**sheet["receiver"], "name": "이*희", "addr1": "부산광역시 해운대구 센텀로 1",
                                 "addr2": "2층", "postCode": "48058"}
    assert sheet["receiver"]["safeNumber"].startswith("050")
    assert sheet["parcelPrintMessage"] == "경비실에 맡겨주세요"
    first, second = sheet["orderItems"]
    assert set(first) >= {"vendorItemId", "vendorItemName", "sellerProductId", "sellerProductName",
                          "sellerProductItemName", "externalVendorSkuCode", "shippingCount", "cancelCount",
                          "holdCountForCancel", "salesPrice", "orderPrice", "estimatedShippingDate",
                          "invoiceNumberUploadDate", "canceled", "etcInfoValues"}
    assert first["vendorItemName"] == "머그컵, 화이트" and first["shippingCount"] == 2
    assert first["externalVendorSkuCode"] == "MUG-WH" and first["orderPrice"] == 2 * first["salesPrice"]
    assert first["vendorItemId"] != second["vendorItemId"]
    assert [first["vendorItemId"], second["vendorItemId"]] == list(s.vendor_item_ids)
    assert fake.sheet(s.shipment_box_id) == sheet
    # a deliberately mis-displayed product (B.3: compare names before shipping) can be seeded too
    odd = fake.add_sheet([{"vendorItemName": "엉뚱한 상품, 블루"}])
    assert fake.sheet(odd.shipment_box_id)["orderItems"][0]["vendorItemName"] == "엉뚱한 상품, 블루"
    many = fake.add_sheet(5)
    assert len(set(fake.sheet(many.shipment_box_id)["orderItems"][i]["vendorItemId"] for i in range(5))) == 5


def test_list_by_day_filters_status_and_days_in_kst(api: Api, fake: FakeCoupang) -> None:
    today = fake.add_sheet(1)
    early = fake.add_sheet(1, paid_at="2026-11-21T00:00:00")             # KST midnight: the 21st
    late = fake.add_sheet(1, paid_at="2026-11-20T23:59:59")
    instruct = fake.add_sheet(1, status="INSTRUCT")
    departed = fake.add_sheet(1, status="DEPARTURE")
    assert ids_of(api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT")) == [today.shipment_box_id]
    assert ids_of(api.sheets(createdAtFrom="2026-11-21", createdAtTo=TODAY, status="ACCEPT")) == \
        [early.shipment_box_id, today.shipment_box_id]
    assert ids_of(api.sheets(createdAtFrom="2026-11-20", createdAtTo="2026-11-20", status="ACCEPT")) == \
        [late.shipment_box_id]
    assert ids_of(api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="INSTRUCT")) == [instruct.shipment_box_id]
    (shipped,) = data_of(api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="DEPARTURE"))
    assert shipped["shipmentBoxId"] == departed.shipment_box_id
    assert shipped["invoiceNumber"] and shipped["deliveryCompanyName"] == "CJ대한통운"
    custom = fake.add_sheet(1, paid_at="2026-11-22T09:00:00", created_at="2026-11-19T12:00:00")
    assert ids_of(api.sheets(createdAtFrom="2026-11-19", createdAtTo="2026-11-19", status="ACCEPT")) == \
        [custom.shipment_box_id]


def test_paging_with_next_token(api: Api, fake: FakeCoupang) -> None:
    boxes = [fake.add_sheet(1, paid_at=START - timedelta(minutes=m)).shipment_box_id for m in range(7)]
    seen: list[int] = []
    tokens: list[str] = []
    params: dict[str, Any] = {"createdAtFrom": TODAY, "createdAtTo": TODAY, "status": "ACCEPT", "maxPerPage": 3}
    while True:
        r = api.sheets(**params)
        body = r.json()
        assert r.status_code == 200 and len(body["data"]) <= 3
        seen += [s["shipmentBoxId"] for s in body["data"]]
        tokens.append(body["nextToken"])
        if not body["nextToken"]:
            break
        params["nextToken"] = body["nextToken"]
    assert [len(t) > 0 for t in tokens] == [True, True, False] and tokens[-1] == ""
    assert seen == list(reversed(boxes))                                  # oldest first, each exactly once
    assert "nextToken" not in fake.calls("/ordersheets")[0].query          # first page without a token


def test_default_page_size_is_50(api: Api, fake: FakeCoupang) -> None:
    for _ in range(51):
        fake.add_sheet(1)
    first = api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT").json()
    assert len(first["data"]) == 50 and first["nextToken"]
    second = api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT", nextToken=first["nextToken"]).json()
    assert len(second["data"]) == 1 and second["nextToken"] == ""


@pytest.mark.parametrize("params", [
    {"createdAtFrom": TODAY, "createdAtTo": TODAY},                                    # status is required
    {"createdAtFrom": TODAY, "createdAtTo": TODAY, "status": "SHIPPED"},
    {"createdAtTo": TODAY, "status": "ACCEPT"},
    {"createdAtFrom": "2026/11/22", "createdAtTo": TODAY, "status": "ACCEPT"},
    {"createdAtFrom": "2026-11-22T10:00", "createdAtTo": "2026-11-22T11:00", "status": "ACCEPT"},  # no searchType
    {"createdAtFrom": TODAY, "createdAtTo": "2026-11-21", "status": "ACCEPT"},
    {"createdAtFrom": "2026-10-01", "createdAtTo": TODAY, "status": "ACCEPT"},          # > 31 days
    {"createdAtFrom": TODAY, "createdAtTo": TODAY, "status": "ACCEPT", "maxPerPage": 0},
    {"createdAtFrom": TODAY, "createdAtTo": TODAY, "status": "ACCEPT", "maxPerPage": 51},
    {"createdAtFrom": TODAY, "createdAtTo": TODAY, "status": "ACCEPT", "nextToken": "%%%garbage"},
    {"createdAtFrom": TODAY, "createdAtTo": TODAY, "status": "ACCEPT", "searchType": "daily"},
    {"createdAtFrom": TODAY, "createdAtTo": TODAY, "status": "ACCEPT", "searchType": "timeFrame"},
    {"createdAtFrom": "2026-11-21T10:00", "createdAtTo": "2026-11-22T10:01", "status": "ACCEPT",
     "searchType": "timeFrame"},                                                          # > 24 h
    {"createdAtFrom": "2026-11-22T10:00", "createdAtTo": "2026-11-22T09:59", "status": "ACCEPT",
     "searchType": "timeFrame"},
])
def test_list_validation_errors_are_400_json(api: Api, params: dict[str, Any]) -> None:
    assert_error(api.sheets(**params), 400)


def test_time_frame_search_minutes_and_no_paging(api: Api, fake: FakeCoupang) -> None:
    at_1000 = fake.add_sheet(1, paid_at="2026-11-22T10:00:00").shipment_box_id
    at_1010 = fake.add_sheet(1, paid_at="2026-11-22T10:10:59").shipment_box_id
    at_1011 = fake.add_sheet(1, paid_at="2026-11-22T10:11:00").shipment_box_id
    bulk = [fake.add_sheet(1, paid_at="2026-11-22T09:30:00").shipment_box_id for _ in range(55)]
    r = api.sheets(searchType="timeFrame", createdAtFrom="2026-11-22T10:00", createdAtTo="2026-11-22T10:10",
                   status="ACCEPT")
    assert ids_of(r) == [at_1000, at_1010]                                 # both ends' minutes included
    assert r.json()["nextToken"] == ""
    r = api.sheets(searchType="timeFrame", createdAtFrom="2026-11-21T10:11", createdAtTo="2026-11-22T10:11",
                   status="ACCEPT", maxPerPage=3)                          # exactly 24 h; maxPerPage ignored
    assert ids_of(r) == [*bulk, at_1000, at_1010, at_1011]


def test_single_sheet(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(2)
    r = api.sheet(s.shipment_box_id)
    assert r.json()["code"] == 200 and r.json()["message"] == "OK"
    assert r.json()["data"]["shipmentBoxId"] == s.shipment_box_id
    assert_error(api.sheet(123), 400)


def test_a_fully_cancelled_box_leaves_the_lists_and_its_lookup_answers_400(clock: FakeClock) -> None:
    """B.3 single sheet, Error Spec: 400 "해당 주문이 취소 또는 반품되었습니다." — check the cancel/return list."""
    with FakeCoupang(clock=clock, rate_limit=None) as fake, client(fake) as http:
        api = Api(http, fake, clock)
        part, whole = fake.add_sheet(2), fake.add_sheet(2, status="INSTRUCT")
        fake.cancel(part.shipment_box_id, part.vendor_item_ids[0])
        fake.cancel(whole.shipment_box_id)
        assert ids_of(api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT")) == [part.shipment_box_id]
        assert ids_of(api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="INSTRUCT")) == []
        assert ids_of(api.sheets(searchType="timeFrame", createdAtFrom=f"{TODAY}T00:00",
                                 createdAtTo=f"{TODAY}T23:59", status="INSTRUCT")) == []
        assert data_of(api.sheet(part.shipment_box_id))["orderItems"][0]["canceled"] is True
        assert_error(api.sheet(whole.shipment_box_id), 400, "해당 주문이 취소 또는 반품되었습니다.")
        assert fake.sheet(whole.shipment_box_id)["status"] == "INSTRUCT"   # the fake still shows it to tests
    with FakeCoupang(clock=clock, rate_limit=None, list_cancelled_boxes=True) as fake, client(fake) as http:
        gone = fake.add_sheet(1, canceled=True)
        r = Api(http, fake, clock).sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT")
        assert ids_of(r) == [gone.shipment_box_id]


def test_cancels_are_listed_in_the_cancel_and_return_requests(api: Api, fake: FakeCoupang, clock: FakeClock) -> None:
    paid = fake.add_sheet(2)                                     # 결제완료: cancelled at once
    ready = fake.add_sheet(1, status="INSTRUCT")                 # 상품준비중: 출고중지요청 first
    sent = fake.add_sheet(1, status="DEPARTURE")                 # shipped: a return
    fake.cancel(paid.shipment_box_id, paid.vendor_item_ids[1])
    clock.advance(60)
    fake.hold_for_cancel(ready.shipment_box_id)
    clock.advance(60)
    fake.cancel(sent.shipment_box_id)
    day = {"createdAtFrom": TODAY, "createdAtTo": TODAY}
    (cancel,) = data_of(api.returns(cancelType="CANCEL", **day))
    assert (cancel["receiptType"], cancel["orderId"], cancel["cancelCountSum"]) == ("CANCEL", paid.order_id, 1)
    (item,) = cancel["returnItems"]
    assert (item["shipmentBoxId"], item["vendorItemId"], item["cancelCount"], item["purchaseCount"]) == (
        paid.shipment_box_id, paid.vendor_item_ids[1], 1, 1)
    assert set(cancel) >= {"receiptId", "paymentId", "receiptStatus", "createdAt", "modifiedAt", "releaseStopStatus",
                           "returnDeliveryDtos", "cancelReasonCategory1"}
    (stop,) = data_of(api.returns(status="RU", **day))
    assert (stop["receiptType"], stop["receiptStatus"], stop["releaseStopStatus"]) == (
        "RETURN", "RELEASE_STOP_UNCHECKED", "미처리")
    assert stop["returnItems"][0]["shipmentBoxId"] == ready.shipment_box_id
    assert [r["orderId"] for r in data_of(api.returns(status="UC", **day))] == [sent.order_id]
    fake.cancel(ready.shipment_box_id)                           # the seller stopped it: cancelled
    assert data_of(api.returns(status="RU", **day)) == []
    (done,) = data_of(api.returns(status="CC", **day))
    assert (done["receiptId"], done["releaseStopStatus"]) == (stop["receiptId"], "처리(출고중지)")
    assert [r["receiptType"] for r in data_of(api.returns(orderId=str(sent.order_id), **day))] == ["RETURN"]
    # paging as the sheet lists page; a minute window; another day has nothing
    first = api.returns(status="CC", maxPerPage=1, **day).json()
    assert first["nextToken"] == "" and len(first["data"]) == 1
    fake.cancel(fake.add_sheet(1, status="INSTRUCT").shipment_box_id)
    page = api.returns(status="CC", maxPerPage=1, **day).json()
    assert page["nextToken"]
    rest = api.returns(status="CC", maxPerPage=1, nextToken=page["nextToken"], **day).json()
    assert [r["receiptId"] for r in page["data"] + rest["data"]] == [r["receiptId"] for r in fake.receipts
                                                                     if r["receiptStatus"] == "RETURNS_COMPLETED"
                                                                     and r["receiptType"] == "RETURN"]
    assert rest["nextToken"] == ""
    assert len(data_of(api.returns(cancelType="CANCEL", searchType="timeFrame", createdAtFrom=f"{TODAY}T10:15",
                                   createdAtTo=f"{TODAY}T10:15"))) == 1
    assert data_of(api.returns(cancelType="CANCEL", createdAtFrom="2026-11-21", createdAtTo="2026-11-21")) == []


def test_a_return_is_listed_with_its_reason_and_pickup_waybill(api: Api, fake: FakeCoupang,
                                                               clock: FakeClock) -> None:
    sent = fake.add_sheet(2, status="FINAL_DELIVERY")
    with pytest.raises(ValueError):                              # a box that never left is cancelled, not returned
        fake.request_return(fake.add_sheet(1).shipment_box_id)
    receipt_id = fake.request_return(sent.shipment_box_id, sent.vendor_item_ids[0], reason=("상품불량", "파손"),
                                     detail="모서리가 깨져 왔어요")
    day = {"createdAtFrom": TODAY, "createdAtTo": TODAY}
    (ret,) = data_of(api.returns(status="UC", **day))
    assert (ret["receiptId"], ret["receiptType"], ret["receiptStatus"], ret["releaseStopStatus"]) == (
        receipt_id, "RETURN", "RETURNS_UNCHECKED", "비대상")
    assert (ret["cancelReasonCategory1"], ret["cancelReasonCategory2"], ret["cancelReason"]) == (
        "상품불량", "파손", "모서리가 깨져 왔어요")
    assert ret["returnDeliveryDtos"] == [{"deliveryCompanyCode": "CJGLS", "deliveryInvoiceNo": ""}]
    (item,) = ret["returnItems"]
    assert (item["shipmentBoxId"], item["vendorItemId"], item["cancelCount"]) == (
        sent.shipment_box_id, sent.vendor_item_ids[0], 1)
    assert fake.status(sent.shipment_box_id) == "FINAL_DELIVERY"   # the sheet is left as it was
    clock.advance(3600)
    fake.update_return(receipt_id, invoice="512345678904")       # the pickup is booked
    (ret,) = data_of(api.returns(status="UC", **day))
    assert ret["returnDeliveryDtos"] == [{"deliveryCompanyCode": "CJGLS", "deliveryInvoiceNo": "512345678904"}]
    assert ret["modifiedAt"] == "2026-11-22T11:15:30" and ret["createdAt"] == "2026-11-22T10:15:30"
    fake.update_return(receipt_id, courier="HANJIN", invoice="412345678905", add_invoice=True)
    fake.update_return(receipt_id, status="VENDOR_WAREHOUSE_CONFIRM")   # 입고완료: no status code lists it
    assert all(data_of(api.returns(status=s, **day)) == [] for s in ("UC", "CC", "PR", "RU"))
    (ret,) = data_of(api.returns(orderId=str(sent.order_id), **day))
    assert [d["deliveryInvoiceNo"] for d in ret["returnDeliveryDtos"]] == ["512345678904", "412345678905"]
    fake.update_return(receipt_id, status="RETURNS_COMPLETED")
    assert [r["receiptId"] for r in data_of(api.returns(status="CC", **day))] == [receipt_id]
    with pytest.raises(KeyError):
        fake.update_return(1)


@pytest.mark.parametrize("params", [
    {"cancelType": "CANCEL", "status": "RU"},        # CANCEL is searched without status and orderId
    {"cancelType": "CANCEL", "orderId": "1"},
    {},                                              # RETURN needs a status or an orderId
    {"status": "XX"},
    {"cancelType": "REFUND"},
])
def test_return_request_validation_is_400(api: Api, params: dict[str, Any]) -> None:
    assert_error(api.returns(createdAtFrom=TODAY, createdAtTo=TODAY, **params), 400)


def test_a_withdrawn_stop_request_leaves_the_list(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1, status="INSTRUCT")
    fake.hold_for_cancel(s.shipment_box_id)
    assert len(data_of(api.returns(status="RU", createdAtFrom=TODAY, createdAtTo=TODAY))) == 1
    fake.hold_for_cancel(s.shipment_box_id, count=0)
    assert data_of(api.returns(status="RU", createdAtFrom=TODAY, createdAtTo=TODAY)) == []
    assert [r["receiptStatus"] for r in fake.receipts] == ["CANCEL_WITHDRAWN"]


def test_per_item_instructions_are_served_as_etc_info_values(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet([{"etcInfoValues": ["각인 문구: 사랑해", "포장: 선물용"]}, {}])
    first, second = data_of(api.sheet(s.shipment_box_id))["orderItems"]
    assert first["etcInfoValues"] == ["각인 문구: 사랑해", "포장: 선물용"] and first["etcInfoValue"] is None
    assert second["etcInfoValues"] == []


# --- B.4 acknowledgement ----------------------------------------------------------------------------------
def test_acknowledge_moves_accept_to_instruct(api: Api, fake: FakeCoupang) -> None:
    a, b = fake.add_sheet(1), fake.add_sheet(2)
    r = api.ack(a.shipment_box_id, b.shipment_box_id)
    assert r.json()["code"] == 200
    data = data_of(r)
    assert data["responseCode"] == 0 and "responseKey" in data and data["responseMessage"]
    assert data["responseList"] == [
        {"shipmentBoxId": box, "succeed": True, "resultCode": "OK", "resultMessage": "OK", "retryRequired": False}
        for box in (a.shipment_box_id, b.shipment_box_id)]
    assert fake.status(a.shipment_box_id) == fake.status(b.shipment_box_id) == "INSTRUCT"
    assert [x["shipmentBoxId"] for x in fake.acknowledgements] == [a.shipment_box_id, b.shipment_box_id]
    assert ids_of(api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="INSTRUCT")) == \
        [a.shipment_box_id, b.shipment_box_id]


def test_acknowledge_put_and_string_ids(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1)
    r = api.call("PUT", api.path("/ordersheets/acknowledgement"),
                 body={"vendorId": fake.vendor_id, "shipmentBoxIds": [str(s.shipment_box_id)]})
    assert only_result(r) == {"shipmentBoxId": s.shipment_box_id, "succeed": True, "resultCode": "OK",
                              "resultMessage": "OK", "retryRequired": False}


def test_acknowledge_partial_failed_and_none(api: Api, fake: FakeCoupang) -> None:
    ok, done, gone = fake.add_sheet(1), fake.add_sheet(1, status="INSTRUCT"), fake.add_sheet(1, canceled=True)
    held = fake.add_sheet(1)
    fake.hold_for_cancel(held.shipment_box_id)
    data = data_of(api.ack(ok.shipment_box_id, done.shipment_box_id, 42, gone.shipment_box_id,
                           held.shipment_box_id))
    assert data["responseCode"] == 1
    by_box = {x["shipmentBoxId"]: x for x in data["responseList"]}
    assert by_box[ok.shipment_box_id]["succeed"] is True
    assert [by_box[b]["resultCode"] for b in (done.shipment_box_id, 42, gone.shipment_box_id,
                                              held.shipment_box_id)] == \
        ["INVALID_STATUS", "NOT_FOUND_SHIPMENT_BOX", "ORDER_DELIVERY_CANCELED",
         "ORDER_DELIVERY_CANCELED_HOLDING_FOR_CANCEL"]
    assert by_box[done.shipment_box_id]["resultMessage"] == "배송상태를 변경할 수 없습니다"
    assert not any(by_box[b]["succeed"] or by_box[b]["retryRequired"] for b in by_box if b != ok.shipment_box_id)
    all_failed = data_of(api.ack(ok.shipment_box_id))                     # already INSTRUCT now
    assert all_failed["responseCode"] == 99 and all_failed["responseMessage"] == "배송상태를 변경할 수 없습니다"
    nothing = data_of(api.ack())
    assert nothing["responseCode"] == -1 and nothing["responseList"] == []
    assert [x["shipmentBoxId"] for x in fake.acknowledgements] == [ok.shipment_box_id]


def test_acknowledge_validation(api: Api, fake: FakeCoupang) -> None:
    boxes = [fake.add_sheet(1).shipment_box_id for _ in range(51)]
    assert_error(api.ack(*boxes), 400)                                     # > 50 ids
    assert len(data_of(api.ack(*boxes[:50]))["responseList"]) == 50
    assert_error(api.ack(boxes[50], vendor_in_body="A99999999"), 400)
    path = api.path("/ordersheets/acknowledgement")
    assert_error(api.call("PATCH", path, body={"vendorId": fake.vendor_id, "shipmentBoxIds": [1.5]}), 400)
    assert_error(api.call("PATCH", path, body=[1, 2]), 400)
    assert_error(api.call("PATCH", path, body={"vendorId": fake.vendor_id, "shipmentBoxIds": [boxes[50]]},
                          content_type="text/plain"), 400)
    assert fake.status(boxes[50]) == "ACCEPT"


def test_address_change_before_ack_shows_on_reread(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1)
    fake.change_receiver(s.shipment_box_id, addr1="대전광역시 유성구 대학로 99", addr2="3층")
    assert only_result(api.ack(s.shipment_box_id))["succeed"]
    receiver = data_of(api.sheet(s.shipment_box_id))["receiver"]
    assert receiver["addr1"] == "대전광역시 유성구 대학로 99" and receiver["addr2"] == "3층"


# --- B.5 invoices ---------------------------------------------------------------------------------------
def test_invoice_upload_moves_instruct_to_departure(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(2, status="INSTRUCT")
    r = api.invoices(dtos_for(fake, s.shipment_box_id, courier="HYUNDAI", invoice="312345678901"))
    body = r.json()
    assert body["code"] == "200" and body["message"] == "OK"                      # a string, as in the sample
    assert set(body["data"]) == {"responseCode", "responseMessage", "responseList"}
    assert body["data"]["responseCode"] == 0
    assert body["data"]["responseList"] == [{"shipmentBoxId": s.shipment_box_id, "succeed": True,
                                             "resultCode": "OK", "resultMessage": "OK", "retryRequired": False}]
    sheet = fake.sheet(s.shipment_box_id)
    assert sheet["status"] == "DEPARTURE" and sheet["invoiceNumber"] == "312345678901"
    assert sheet["deliveryCompanyName"] == "롯데택배"                                # HYUNDAI is Lotte
    assert all(it["invoiceNumberUploadDate"] == "2026-11-22T10:15:30" for it in sheet["orderItems"])
    assert [(x["shipmentBoxId"], x["vendorItemId"], x["invoiceNumber"], x["deliveryCompanyCode"])
            for x in fake.invoices] == [(s.shipment_box_id, v, "312345678901", "HYUNDAI") for v in s.vendor_item_ids]
    assert ids_of(api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="DEPARTURE")) == [s.shipment_box_id]


def test_invoice_code_can_be_a_number(clock: FakeClock) -> None:
    with FakeCoupang(clock=clock, rate_limit=None, invoice_code_as_string=False) as fake, \
         client(fake) as http:
        s = fake.add_sheet(1, status="INSTRUCT")
        assert Api(http, fake, clock).invoices(dtos_for(fake, s.shipment_box_id)).json()["code"] == 200


def test_reupload_is_refused_and_recorded_once(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1, status="INSTRUCT")
    assert only_result(api.invoices(dtos_for(fake, s.shipment_box_id)))["succeed"]
    again = data_of(api.invoices(dtos_for(fake, s.shipment_box_id, invoice="698765432100")))
    assert again["responseCode"] == 99
    (result,) = again["responseList"]
    assert result["resultCode"] == "NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD" and not result["retryRequired"]
    assert len(fake.invoices) == 1 and fake.sheet(s.shipment_box_id)["invoiceNumber"] == "612345678901"


@pytest.mark.parametrize(("setup", "code", "retry"), [
    ("accept", "INVALID_STATUS", False),
    ("canceled", "ORDER_DELIVERY_CANCELED", False),
    ("hold", "ORDER_DELIVERY_CANCELED_HOLDING_FOR_CANCEL", True),
    ("missing_item", "NOT_FOUND_VENDOR_ITEM", False),
    ("foreign_item", "NOT_FOUND_VENDOR_ITEM", False),
    ("unknown_box", "NOT_FOUND_SHIPMENT_BOX", False),
    ("wrong_order", "NOT_FOUND_SHIPMENT_BOX", False),
    ("no_invoice", "NOT_FOUND_INVOICE_NUMBER", False),
    ("bad_invoice", "INVALID_INVOICE_NUMBER", True),
    ("two_invoices", "IS_SEPARATE_MUST_BE_TRUE_WHEN_SEPARATE_DELIVERY", False),
    ("canceled_item_sent", "ORDER_DELIVERY_CANCELED", False),
])
def test_invoice_per_box_failures(api: Api, fake: FakeCoupang, setup: str, code: str, retry: bool) -> None:
    s = fake.add_sheet(2, status="ACCEPT" if setup == "accept" else "INSTRUCT", canceled=setup == "canceled")
    box = s.shipment_box_id
    dtos = dtos_for(fake, box)
    if setup == "hold":
        fake.hold_for_cancel(box, s.vendor_item_ids[0], 1)
    elif setup == "missing_item":
        dtos = dtos[:1]
    elif setup == "foreign_item":
        dtos[1]["vendorItemId"] = 123456
    elif setup == "unknown_box":
        dtos = [{**d, "shipmentBoxId": 777} for d in dtos]
        box = 777
    elif setup == "wrong_order":
        dtos = [{**d, "orderId": 1} for d in dtos]
    elif setup == "no_invoice":
        dtos = [{**d, "invoiceNumber": ""} for d in dtos]
    elif setup == "bad_invoice":
        dtos = [{**d, "invoiceNumber": "12-34"} for d in dtos]
    elif setup == "two_invoices":
        dtos[1]["invoiceNumber"] = "699999999999"
    elif setup == "canceled_item_sent":
        fake.cancel(box, s.vendor_item_ids[1])
        dtos = [*dtos_for(fake, box), {**dtos[0], "vendorItemId": s.vendor_item_ids[1]}]
    elif setup == "canceled":
        dtos = [{"shipmentBoxId": box, "orderId": s.order_id, "vendorItemId": v, "deliveryCompanyCode": "CJGLS",
                 "invoiceNumber": "612345678901", "splitShipping": False, "preSplitShipped": False,
                 "estimatedShippingDate": ""} for v in s.vendor_item_ids]
    data = data_of(api.invoices(dtos))
    assert data["responseCode"] == 99
    (result,) = data["responseList"]
    assert result == {**result, "shipmentBoxId": box, "succeed": False, "resultCode": code, "retryRequired": retry}
    assert result["resultMessage"]
    assert fake.invoices == []
    if setup != "unknown_box":
        assert fake.status(box) in {"ACCEPT", "INSTRUCT"}


def test_partially_cancelled_box_ships_the_rest(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet([{"shippingCount": 2}, {}], status="INSTRUCT")
    fake.cancel(s.shipment_box_id, s.vendor_item_ids[1])
    fake.cancel(s.shipment_box_id, s.vendor_item_ids[0], count=1)
    first, second = fake.sheet(s.shipment_box_id)["orderItems"]
    assert (first["shippingCount"], first["cancelCount"], first["canceled"]) == (1, 1, False)
    assert (second["shippingCount"], second["cancelCount"], second["canceled"]) == (0, 1, True)
    assert only_result(api.invoices(dtos_for(fake, s.shipment_box_id)))["succeed"]    # only the live item
    assert [x["vendorItemId"] for x in fake.invoices] == [s.vendor_item_ids[0]]


def test_partial_success_over_several_boxes(api: Api, fake: FakeCoupang) -> None:
    a, b = fake.add_sheet(1, status="INSTRUCT"), fake.add_sheet(1)
    data = data_of(api.invoices(dtos_for(fake, a.shipment_box_id) + dtos_for(fake, b.shipment_box_id,
                                                                             invoice="612345678902")))
    assert data["responseCode"] == 1
    assert [(x["shipmentBoxId"], x["resultCode"]) for x in data["responseList"]] == \
        [(a.shipment_box_id, "OK"), (b.shipment_box_id, "INVALID_STATUS")]
    assert data_of(api.invoices([]))["responseCode"] == -1


@pytest.mark.parametrize(("code", "name"), [("CJGLS", "CJ대한통운"), ("HYUNDAI", "롯데택배"), ("KGB", "로젠택배"),
                                            ("EPOST", "우체국택배"), ("HANJIN", "한진택배"), ("KGBPS", "KGB택배"),
                                            ("KGBLS", "KGB택배")])
def test_courier_codes(api: Api, fake: FakeCoupang, code: str, name: str) -> None:
    s = fake.add_sheet(1, status="INSTRUCT")
    assert only_result(api.invoices(dtos_for(fake, s.shipment_box_id, courier=code)))["succeed"]
    assert fake.sheet(s.shipment_box_id)["deliveryCompanyName"] == name


@pytest.mark.parametrize("dto_change", [
    {"deliveryCompanyCode": ""},
    {"deliveryCompanyCode": None},
    {"vendorItemId": None},
    {"orderId": "abc"},
    {"splitShipping": "false"},
    {"estimatedShippingDate": "2026/11/30"},
])
def test_invoice_request_validation_is_400(api: Api, fake: FakeCoupang, dto_change: dict[str, Any]) -> None:
    s = fake.add_sheet(1, status="INSTRUCT")
    assert_error(api.invoices([{**dtos_for(fake, s.shipment_box_id)[0], **dto_change}]), 400)
    assert fake.status(s.shipment_box_id) == "INSTRUCT" and fake.invoices == []


@pytest.mark.parametrize("code", ["LOTTE", "cjgls"])   # no such code (Lotte is HYUNDAI); codes are upper case
def test_an_unknown_courier_code_fails_the_whole_request_with_500(clock: FakeClock, code: str) -> None:
    with FakeCoupang(clock=clock, rate_limit=None) as fake, client(fake) as http:
        api = Api(http, fake, clock)
        good, bad = fake.add_sheet(1, status="INSTRUCT"), fake.add_sheet(1, status="INSTRUCT")
        r = api.invoices(dtos_for(fake, good.shipment_box_id) +
                         dtos_for(fake, bad.shipment_box_id, courier=code, invoice="612345678902"))
        assert_error(r, 500)
        assert fake.invoices == [] and fake.status(good.shipment_box_id) == fake.status(bad.shipment_box_id) == \
            "INSTRUCT"                                                   # nothing applied, the good box neither
        assert only_result(api.invoices(dtos_for(fake, good.shipment_box_id)))["succeed"]   # alone it goes
    with FakeCoupang(clock=clock, rate_limit=None, unknown_courier_status=400) as fake, client(fake) as http:
        s = fake.add_sheet(1, status="INSTRUCT")
        assert_error(Api(http, fake, clock).invoices(dtos_for(fake, s.shipment_box_id, courier=code)), 400)


def test_invoice_body_validation(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1, status="INSTRUCT")
    path = api.path("/orders/invoices")
    assert_error(api.call("POST", path, body={"vendorId": fake.vendor_id}), 400)
    assert_error(api.call("POST", path, body={"vendorId": "A00000001",
                                              "orderSheetInvoiceApplyDtos": dtos_for(fake, s.shipment_box_id)}), 400)
    dto = dtos_for(fake, s.shipment_box_id)[0]
    assert_error(api.invoices([dto, dto]), 400)                                        # same item twice
    r = api.http.post(path, content=b"{not json", headers={
        "Authorization": authorization(fake.access_key, fake.secret_key, "POST", path, "", api.clock()),
        "Content-Type": "application/json;charset=UTF-8"})
    assert_error(r, 400)


def test_direct_delivery_takes_any_number(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1, status="INSTRUCT")
    r = api.invoices(dtos_for(fake, s.shipment_box_id, courier="DIRECT", invoice="기사님 직접"))
    assert only_result(r)["succeed"]
    assert fake.sheet(s.shipment_box_id)["deliveryCompanyName"] == "업체직송"


def test_direct_can_be_refused_or_become_none_tracking(clock: FakeClock) -> None:
    with FakeCoupang(clock=clock, rate_limit=None, allow_direct=False) as fake, \
         client(fake) as http:
        s = fake.add_sheet(1, status="INSTRUCT")
        r = Api(http, fake, clock).invoices(dtos_for(fake, s.shipment_box_id, courier="DIRECT"))
        assert only_result(r)["resultCode"] == "NOT_ALLOW_VENDOR_DIRECT"
    with FakeCoupang(clock=clock, rate_limit=None, direct_sets_none_tracking=True) as fake, \
         client(fake) as http:
        s = fake.add_sheet(1, status="INSTRUCT")
        assert only_result(Api(http, fake, clock).invoices(dtos_for(fake, s.shipment_box_id, courier="DIRECT")))[
            "succeed"]
        assert fake.status(s.shipment_box_id) == "NONE_TRACKING"


def test_duplicate_invoice_number_when_enabled(clock: FakeClock) -> None:
    with FakeCoupang(clock=clock, rate_limit=None, reject_duplicate_invoice_number=True) as fake, \
         client(fake) as http:
        api = Api(http, fake, clock)
        a, b = fake.add_sheet(1, status="INSTRUCT"), fake.add_sheet(1, status="INSTRUCT")
        assert only_result(api.invoices(dtos_for(fake, a.shipment_box_id)))["succeed"]
        result = only_result(api.invoices(dtos_for(fake, b.shipment_box_id)))
        assert result["resultCode"] == "DUPLICATE_INVOICE_NUMBER" and result["retryRequired"] is True


def test_split_shipping(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(2, status="INSTRUCT")
    box, (v1, v2) = s.shipment_box_id, s.vendor_item_ids
    dtos = dtos_for(fake, box, splitShipping=True)
    dtos[1].update(invoiceNumber="", estimatedShippingDate="2026-11-25")
    assert only_result(api.invoices(dtos))["succeed"]
    sheet = fake.sheet(box)
    assert sheet["status"] == "DEPARTURE" and sheet["splitShipping"] is True
    assert sheet["orderItems"][1]["estimatedShippingDate"] == "2026-11-25"
    # the rest follows later with preSplitShipped=true; without the flag it is a re-upload
    rest = [{**dtos[1], "invoiceNumber": "612345678999", "estimatedShippingDate": ""}]
    assert only_result(api.invoices(rest))["resultCode"] == "NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD"
    assert only_result(api.invoices([{**rest[0], "preSplitShipped": True}]))["succeed"]
    assert [(x["vendorItemId"], x["invoiceNumber"]) for x in fake.invoices] == \
        [(v1, "612345678901"), (v2, ""), (v2, "612345678999")]
    single = fake.add_sheet(1, status="INSTRUCT")
    r = api.invoices(dtos_for(fake, single.shipment_box_id, splitShipping=True))
    assert only_result(r)["resultCode"] == "NOT_ALLOW_SEPARATE_WHEN_ONE_VENDOR_ITEM"
    normal = fake.add_sheet(2, status="DEPARTURE")
    r = api.invoices(dtos_for(fake, normal.shipment_box_id, splitShipping=True, preSplitShipped=True))
    assert only_result(r)["resultCode"] == "NOT_ALLOW_SEPARATE_AFTER_NORMAL_DELIVERY"
    mixed = fake.add_sheet(2, status="INSTRUCT")
    dtos = dtos_for(fake, mixed.shipment_box_id)
    dtos[0]["splitShipping"] = True
    assert only_result(api.invoices(dtos))["resultCode"] == "IS_SEPARATE_MUST_BE_TRUE_WHEN_SEPARATE_DELIVERY"


def test_a_box_split_in_wing_wants_the_split_flags_for_the_rest(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(3, status="INSTRUCT")
    box, (v1, v2, v3) = s.shipment_box_id, s.vendor_item_ids
    fake.ship_split(box, [v1], "612345678901")
    sheet = fake.sheet(box)
    assert (sheet["status"], sheet["splitShipping"], sheet["invoiceNumber"]) == ("DEPARTURE", True, "612345678901")
    items = {it["vendorItemId"]: it for it in sheet["orderItems"]}
    assert items[v1]["invoiceNumberUploadDate"] and not items[v2]["invoiceNumberUploadDate"]
    assert items[v3]["estimatedShippingDate"] == "2026-11-24"
    rest = [d for d in dtos_for(fake, box, invoice="612345678999") if d["vendorItemId"] != v1]
    # the docs' remark: 분리배송 접수 후 일반배송으로 처리 할 수 없습니다
    assert only_result(api.invoices(rest))["resultCode"] == "IS_SEPARATE_MUST_BE_TRUE_WHEN_SEPARATE_DELIVERY"
    split = [{**d, "splitShipping": True} for d in rest]
    assert only_result(api.invoices(split))["resultCode"] == "NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD"
    assert only_result(api.invoices(split[:1]))["resultCode"] == "NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD"
    r = api.invoices([{**d, "preSplitShipped": True} for d in split[:1]])
    assert only_result(r)["resultCode"] == "NOT_FOUND_VENDOR_ITEM"      # every item still to ship, at once
    assert only_result(api.invoices([{**d, "preSplitShipped": True} for d in split]))["succeed"]
    assert [(x["vendorItemId"], x["invoiceNumber"], x["splitShipping"], x["preSplitShipped"])
            for x in fake.invoices] == [(v1, "612345678901", True, False), (v2, "", True, False),
                                        (v3, "", True, False), (v2, "612345678999", True, True),
                                        (v3, "612345678999", True, True)]
    with pytest.raises(ValueError):
        fake.ship_split(fake.add_sheet(1, status="INSTRUCT").shipment_box_id, [], "612345678903")


def test_update_invoices(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(2, status="INSTRUCT")
    box = s.shipment_box_id
    assert only_result(api.invoices(dtos_for(fake, box), update=True))["resultCode"] == "INVALID_STATUS"
    assert only_result(api.invoices(dtos_for(fake, box)))["succeed"]
    r = api.invoices(dtos_for(fake, box, courier="HANJIN", invoice="412345678901"), update=True)
    assert r.json()["code"] == "200" and only_result(r)["succeed"]
    sheet = fake.sheet(box)
    assert (sheet["status"], sheet["deliveryCompanyName"], sheet["invoiceNumber"]) == \
        ("DEPARTURE", "한진택배", "412345678901")
    assert len(fake.invoices) == 2 and [x["invoiceNumber"] for x in fake.invoice_updates] == ["412345678901"] * 2
    assert only_result(api.invoices(dtos_for(fake, box)[:1], update=True))["resultCode"] == "NOT_FOUND_VENDOR_ITEM"
    for status in ("DELIVERING", "FINAL_DELIVERY"):
        fake.set_status(box, status)
        assert only_result(api.invoices(dtos_for(fake, box, invoice="412345678902"), update=True))["succeed"]
    assert fake.sheet(box)["deliveredDate"] and fake.sheet(box)["inTrasitDateTime"]
    moved = fake.add_sheet(1, status="INSTRUCT")
    fake.set_status(moved.shipment_box_id, "DELIVERING")                  # seeded straight into transit
    assert fake.sheet(moved.shipment_box_id)["invoiceNumber"]
    assert only_result(api.invoices(dtos_for(fake, moved.shipment_box_id, invoice="512345678901"),
                                    update=True))["succeed"]
    gone = fake.add_sheet(1, status="DEPARTURE")
    fake.cancel(gone.shipment_box_id)
    r = api.invoices([{"shipmentBoxId": gone.shipment_box_id, "orderId": gone.order_id,
                       "vendorItemId": gone.vendor_item_ids[0], "deliveryCompanyCode": "CJGLS",
                       "invoiceNumber": "612345678903"}], update=True)
    assert only_result(r)["resultCode"] == "ORDER_DELIVERY_CANCELED"
    seeded = fake.add_sheet(1, status="NONE_TRACKING")
    assert fake.sheet(seeded.shipment_box_id)["deliveryCompanyName"] == "업체직송"
    assert only_result(api.invoices(dtos_for(fake, seeded.shipment_box_id, courier="DIRECT", invoice="x"),
                                    update=True))["succeed"]


# --- B.7 limits -----------------------------------------------------------------------------------------
def test_rate_limit_429_then_recovers(clock: FakeClock) -> None:
    rate_clock = FakeClock(0)
    with FakeCoupang(clock=clock, rate_clock=rate_clock, forbidden_threshold=None) as fake, \
         client(fake) as http:
        api = Api(http, fake, clock)
        params = {"createdAtFrom": TODAY, "createdAtTo": TODAY, "status": "ACCEPT"}
        assert [api.sheets(**params).status_code for _ in range(10)] == [200] * 10     # ~10 calls/s
        r = api.sheets(**params)
        assert r.status_code == 429 and r.json()["code"] == "ERROR"
        rate_clock.advance(0.1)                                                          # one token back
        assert api.sheets(**params).status_code == 200
        assert api.sheets(**params).status_code == 429
        rate_clock.advance(1.0)
        assert api.sheets(**params).status_code == 200
        fake.set_rate_limit(None)
        assert all(api.sheets(**params).status_code == 200 for _ in range(30))


def test_rate_limit_block_lasts_and_retry_after(clock: FakeClock) -> None:
    rate_clock = FakeClock(0)
    with FakeCoupang(clock=clock, rate_clock=rate_clock, rate_limit=2, rate_block_seconds=300, retry_after=600,
                     forbidden_threshold=None) as fake, client(fake) as http:
        api = Api(http, fake, clock)
        s = fake.add_sheet(1)
        assert [api.sheet(s.shipment_box_id).status_code for _ in range(3)] == [200, 200, 429]
        rate_clock.advance(10)
        r = api.sheet(s.shipment_box_id)
        assert r.status_code == 429 and r.headers["Retry-After"] == "600"                # blocked for minutes
        rate_clock.advance(291)
        assert api.sheet(s.shipment_box_id).status_code == 200


def test_burst_of_failed_calls_gives_a_temporary_403_html_page(clock: FakeClock) -> None:
    rate_clock = FakeClock(0)
    with FakeCoupang(clock=clock, rate_clock=rate_clock, rate_limit=None, forbidden_threshold=3,
                     forbidden_window=10, forbidden_seconds=60) as fake, client(fake) as http:
        api = Api(http, fake, clock)
        bad = Api(http, fake, clock, secret_key="f" * 40)
        s = fake.add_sheet(1)
        assert bad.sheet(s.shipment_box_id).status_code == 401
        rate_clock.advance(11)                                   # the first failure leaves the window
        assert [bad.sheet(s.shipment_box_id).status_code for _ in range(3)] == [401, 401, 401]
        r = api.sheet(s.shipment_box_id)                         # even a good call is denied now
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
        assert "<TITLE>Access Denied</TITLE>" in r.text and "Reference" in r.text
        with pytest.raises(json.JSONDecodeError):
            r.json()
        assert fake.access_denied and fake.requests[-1].blocked
        rate_clock.advance(59)
        assert api.sheet(s.shipment_box_id).status_code == 403
        rate_clock.advance(1.5)
        assert api.sheet(s.shipment_box_id).status_code == 200 and not fake.access_denied
        fake.deny_access(5)
        assert api.sheet(s.shipment_box_id).status_code == 403
        fake.allow_access()
        assert api.sheet(s.shipment_box_id).status_code == 200


def test_default_limits_are_on() -> None:
    defaults = {k: p.default for k, p in inspect.signature(FakeCoupang).parameters.items()}
    assert defaults["rate_limit"] == 10.0 and defaults["burst"] is None            # burst = rate
    assert defaults["forbidden_threshold"] == 20 and defaults["signature_max_skew"] == 300


# --- injected failures ----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 503, 504, 521])
def test_injected_5xx_skips_the_request(api: Api, fake: FakeCoupang, status: int) -> None:
    s = fake.add_sheet(1)
    fake.fail_next("acknowledgement", status)
    r = api.ack(s.shipment_box_id)
    assert_error(r, status)
    assert fake.status(s.shipment_box_id) == "ACCEPT"                     # nothing applied
    assert fake.calls("acknowledgement")[-1].injected == str(status)
    assert only_result(api.ack(s.shipment_box_id))["succeed"]             # the next call is normal


def test_injected_504_on_acknowledgement_after_applying_it(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1)
    fake.fail_next("acknowledgement", 504, process=True)
    assert_error(api.ack(s.shipment_box_id), 504)
    assert fake.status(s.shipment_box_id) == "INSTRUCT"                   # B.4: check the sheet before retrying
    assert data_of(api.sheet(s.shipment_box_id))["status"] == "INSTRUCT"
    assert only_result(api.ack(s.shipment_box_id))["resultCode"] == "INVALID_STATUS"


def test_injected_count_method_and_other_statuses(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1)
    fake.fail_next("ordersheets", 503, count=2, method="GET")
    assert [api.sheet(s.shipment_box_id).status_code for _ in range(3)] == [503, 503, 200]
    fake.fail_next(None, 429)
    assert_error(api.sheet(s.shipment_box_id), 429, "Too Many Requests")
    fake.fail_next(None, 403)
    r = api.sheet(s.shipment_box_id)
    assert r.status_code == 403 and "Access Denied" in r.text
    fake.fail_next(None, 500, code="ERROR", message="서버 오류")
    assert_error(api.sheet(s.shipment_box_id), 500, "서버 오류")
    fake.fail_next(None, 500)
    fake.clear_failures()
    assert api.sheet(s.shipment_box_id).status_code == 200
    with pytest.raises(ValueError):
        fake.fail_next(None, "explode")


def test_injected_timeout_answers_late_and_does_not_block_shutdown(clock: FakeClock) -> None:
    fake = FakeCoupang(clock=clock, rate_limit=None)
    with fake, client(fake, 0.2) as http:
        api = Api(http, fake, clock)
        s = fake.add_sheet(1, status="INSTRUCT")
        fake.fail_next("invoices", "timeout", delay=0.3)                 # late 504, nothing applied
        with client(fake, 2.0) as patient:
            r = Api(patient, fake, clock).invoices(dtos_for(fake, s.shipment_box_id))
        assert r.status_code == 504 and fake.invoices == []
        fake.fail_next("invoices", "timeout", delay=60, process=True)   # applied, the answer never comes
        with pytest.raises(httpx.ReadTimeout):
            api.invoices(dtos_for(fake, s.shipment_box_id))
        assert fake.status(s.shipment_box_id) == "DEPARTURE" and len(fake.invoices) == 1
        assert [c.injected for c in fake.calls("invoices")] == ["timeout", "timeout"]
        started = time.monotonic()
    assert time.monotonic() - started < 3                                # the 60 s answer was cut short
    assert not [t for t in threading.enumerate() if "process_request_thread" in t.name or t.name == "fake-coupang"]


def test_injected_malformed_json(api: Api, fake: FakeCoupang) -> None:
    fake.fail_next("ordersheets", "malformed")
    r = api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT")
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT").json()["data"] == []


def test_injected_disconnect(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1)
    fake.fail_next("acknowledgement", "disconnect")
    with pytest.raises(httpx.RemoteProtocolError):
        api.ack(s.shipment_box_id)
    assert fake.requests[-1].status is None and fake.status(s.shipment_box_id) == "ACCEPT"
    assert only_result(api.ack(s.shipment_box_id))["succeed"]


def test_injected_per_box_invoice_failure_then_retry(api: Api, fake: FakeCoupang) -> None:
    a, b = fake.add_sheet(1, status="INSTRUCT"), fake.add_sheet(1, status="INSTRUCT")
    fake.fail_box(b.shipment_box_id)                                       # UNDEFINED_ERROR_OCCUR, once
    dtos = dtos_for(fake, a.shipment_box_id) + dtos_for(fake, b.shipment_box_id, invoice="612345678902")
    data = data_of(api.invoices(dtos))
    assert data["responseCode"] == 1
    failed = data["responseList"][1]
    assert failed == {**failed, "shipmentBoxId": b.shipment_box_id, "succeed": False,
                      "resultCode": "UNDEFINED_ERROR_OCCUR", "retryRequired": True}
    assert fake.status(b.shipment_box_id) == "INSTRUCT"
    retry = data_of(api.invoices(dtos_for(fake, b.shipment_box_id, invoice="612345678902")))
    assert retry["responseCode"] == 0
    assert sorted(x["shipmentBoxId"] for x in fake.invoices) == sorted([a.shipment_box_id, b.shipment_box_id])


@pytest.mark.parametrize(("code", "retry"), [("DUPLICATE_INVOICE_NUMBER", True), ("PERMISSION_DENIED", True),
                                             ("ORDER_DELIVERY_PARTIAL_STOP_REQUESTED", True),
                                             ("PSD_NOT_ALLOW_TO_CHANGE", False)])
def test_injected_per_box_codes_carry_their_retry_class(api: Api, fake: FakeCoupang, code: str, retry: bool) -> None:
    s = fake.add_sheet(1, status="INSTRUCT")
    fake.fail_box(s.shipment_box_id, code=code, times=2)
    for _ in range(2):
        result = only_result(api.invoices(dtos_for(fake, s.shipment_box_id)))
        assert (result["resultCode"], result["retryRequired"], result["succeed"]) == (code, retry, False)
    assert only_result(api.invoices(dtos_for(fake, s.shipment_box_id)))["succeed"]


def test_injected_per_box_ack_and_update_failures(api: Api, fake: FakeCoupang) -> None:
    s = fake.add_sheet(1)
    fake.fail_box(s.shipment_box_id, op="ack", times=None)
    for _ in range(2):
        data = data_of(api.ack(s.shipment_box_id))
        assert data["responseCode"] == 99 and data["responseList"][0]["retryRequired"] is True
    fake.clear_failures()
    assert only_result(api.ack(s.shipment_box_id))["succeed"]
    assert only_result(api.invoices(dtos_for(fake, s.shipment_box_id)))["succeed"]
    fake.fail_box(s.shipment_box_id, op="update", code="INVALID_INVOICE_NUMBER", message="번호 오류")
    result = only_result(api.invoices(dtos_for(fake, s.shipment_box_id), update=True))
    assert (result["resultCode"], result["resultMessage"], result["retryRequired"]) == \
        ("INVALID_INVOICE_NUMBER", "번호 오류", True)
    with pytest.raises(ValueError):
        fake.fail_box(1, op="cancel")


# --- lifecycle and seeding ------------------------------------------------------------------------------
def test_stop_with_an_idle_keep_alive_connection(clock: FakeClock) -> None:
    fake = FakeCoupang(clock=clock)
    fake.start()
    with client(fake) as http:
        api = Api(http, fake, clock)
        assert api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT").status_code == 200
        started = time.monotonic()
        fake.stop()
        assert time.monotonic() - started < 2
        with pytest.raises(httpx.TransportError):
            api.sheets(createdAtFrom=TODAY, createdAtTo=TODAY, status="ACCEPT")


def test_seeding_validates(fake: FakeCoupang) -> None:
    with pytest.raises(ValueError):
        fake.add_sheet(1, status="SHIPPED")
    with pytest.raises(ValueError):
        fake.add_sheet([{"vendorItemId": 1}, {"vendorItemId": 1}])
    with pytest.raises(ValueError):
        fake.add_sheet(1, paid_at=datetime(2026, 11, 22, 10, 0))        # naive
    s = fake.add_sheet(1)
    with pytest.raises(ValueError):
        fake.add_sheet(1, shipment_box_id=s.shipment_box_id)
    with pytest.raises(KeyError):
        fake.sheet(1)
    split = fake.add_sheet(1, order_id=s.order_id)                       # one order, two boxes
    assert split.order_id == s.order_id and split.shipment_box_id != s.shipment_box_id
    assert fake.shipment_box_ids() == [s.shipment_box_id, split.shipment_box_id]
