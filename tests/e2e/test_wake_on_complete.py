"""A completed pack wakes the uploader (issue #19 §2): its dispatch reaches the marketplace at once, not at the
uploader's next pass. The pass is set to ten minutes here, so only the wake can send it within the test."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from packdesk.core.tracking import with_check_digit
from packdesk.services import background
from packdesk.services import orders as so
from packdesk.services.settings import Settings
from tests.e2e.test_day_one import naver_market, open_shop
from tests.fakes.naver import FakeNaver
from tests.ui.conftest import Packer

pytestmark = pytest.mark.gui


def test_a_completed_pack_is_uploaded_at_once(make_station, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(background, "PASS_EVERY_S", 600)
    with FakeNaver(rate_limit=None) as naver:
        market = naver_market(naver)
        st = make_station(Settings(recorder="off", demo_channel=False))
        dispatch_pass: Any = st.jobs.scheduler.get_job("dispatch").trigger
        assert dispatch_pass.interval.total_seconds() == 600
        shop = open_shop(st.db, market)  # the account, a packer, the orders collected and linked
        number = with_check_digit("60001234500")
        with st.db.session() as s:  # buyer B's parcel (one order) gets its label's number, as typed in
            details = [so.order_detail(s, r.id) for r in so.search_orders(s)]
            parcels = Counter(d.parcel_key for d in details)
            (order,) = [d for d in details if parcels[d.parcel_key] == 1]
            so.attach_tracking(s, order.row.id, "CJGLS", number, "관리자")
            pids = sorted(d.product_order_id for d in so.order_detail(s, order.row.id).lines)
        st.window.reload_packers()  # as the staff screen does after adding one
        qtbot.waitUntil(lambda: any(badge == shop.badge for _, badge in st.service.packers), timeout=5000)
        st.jobs.scheduler.get_job("changes").func()  # the morning's line changes seen before the pack opens
        qtbot.waitUntil(lambda: st.background.monitor.known, timeout=5000)
        assert st.background.uploader.wait_idle(10)  # the start's drain and the first "online" one: nothing sent
        assert market.sent() == []

        packer = Packer(qtbot, st)
        packer.scan(shop.badge)
        packer.scan(number)
        pack = st.service.state.pack
        assert pack is not None
        for item_id, units in pack.plan.expected().items():
            for _ in range(units):
                packer.scan(shop.barcodes[item_id])
        qtbot.waitUntil(lambda: packer.banner() == f"포장 완료: {number}", timeout=5000)
        completed = time.monotonic()
        qtbot.waitUntil(lambda: sorted(pid for pid, _, _ in market.sent()) == pids, timeout=5000)
        assert time.monotonic() - completed < 15  # well before the old 15 s pass, with the pass at 600 s
        assert {(courier, sent) for _, courier, sent in market.sent()} == {("CJGLS", number)}
