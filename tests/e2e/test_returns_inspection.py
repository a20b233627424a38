"""A Coupang return inspected at the station (issue #21), end to end with the product's own functions only:
the account added as its form adds it, the order collected from the fake Wing server, its products linked, its
label number typed in by a supervisor, the parcel packed at the station on camera; days later the buyer sends it
back with a swapped item. The packer switches the station to returns mode, scans Coupang's return label (which
PackDesk does not know: it says so, and films anyway), then the order number, takes out each item, marks its
condition, completes. The inspection is stored linked to the original order and its outbound pack, its video is
indexed and chained like any recording, and the chain verifies. From the returns review, the claim bundle for it
holds both films as recorded and the return's scans with each item's condition."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.enums import PackOutcome, RecordingStatus
from packdesk.services import claim_bundle as cb
from packdesk.services.integrity import verify
from packdesk.services.returns import RETURNS_OFF, RETURNS_ON
from packdesk.services.settings import CollectionSettings
from tests import coupang_shop as shop
from tests.fakes.coupang import FakeCoupang
from tests.services.test_claim_bundle import read_csv
from tests.ui.conftest import Packer
from tests.ui.test_claim_bundle_view import choose, click, dialog_of
from tests.ui.test_recording_gui import recording_settings
from tests.ui.test_returns_station import scan

pytestmark = pytest.mark.gui


@pytest.fixture
def fake() -> Iterator[FakeCoupang]:
    with FakeCoupang(rate_limit=None) as f:
        yield f


def complete_recordings(st, count: int) -> list[m.Recording]:  # type: ignore[no-untyped-def]
    st.service.worker.wait_idle(5)
    with st.db.session() as s:
        return list(s.scalars(select(m.Recording).where(m.Recording.status == RecordingStatus.COMPLETE)
                              .order_by(m.Recording.id)))


def coupang_station(make_station, qtbot, fake: FakeCoupang, tmp_path: Path, sold, orders: int,  # type: ignore[no-untyped-def]
                    waybill: str):
    """A station on a real Coupang account (the fake on 127.0.0.1) as its owner sets it up: the orders
    collected, the products linked, ``sold``'s waybill from the courier, a returns packer's badge; the recorder
    process filming. Returns the station, the account, the waybill, the badge and a packer at the scanner."""
    settings = recording_settings(tmp_path).model_copy(update={
        "demo_channel": False, "collection": CollectionSettings(enabled=False)})
    st = make_station(settings, packers=("박포장",))
    account = shop.coupang_account(st.db, fake)
    assert shop.collect(st.db, account).orders == orders
    shop.link_products(st.db, account)
    number = shop.give_waybill(st.db, account, sold.order_id, waybill)
    badge = shop.packer_badge(st.db, "최반품")
    st.service.reload_packers()
    qtbot.waitUntil(lambda: any(p.name == "최반품" for p, _ in st.service.packers), timeout=5000)
    camera = st.service.recorder
    qtbot.waitUntil(lambda: camera.frames_captured >= 35, timeout=30_000)  # the recorder process is up
    return st, account, number, badge, Packer(qtbot, st)


def test_a_coupang_return_is_inspected_on_camera_and_linked_to_its_pack(make_station, qtbot, fake,  # type: ignore[no-untyped-def]
                                                                          tmp_path: Path, monkeypatch) -> None:
    sold = fake.add_sheet(2, receiver=shop.receiver(0))          # two items in one box
    other = fake.add_sheet(2, receiver=shop.receiver(1))         # its second item: a product the first box lacks
    st, _, number, badge, p = coupang_station(make_station, qtbot, fake, tmp_path, sold, 2, "65000000001")

    # the parcel packed on camera
    scan(p, badge)
    scan(p, number)
    sent = [shop.barcode_of(str(v)) for v in sold.vendor_item_ids]
    for code in sent:
        scan(p, code)
    assert p.banner().startswith("포장 완료")
    qtbot.waitUntil(lambda: len(complete_recordings(st, 1)) == 1, timeout=15_000)

    # it comes back: one item of the two, and a product the buyer swapped in
    scan(p, RETURNS_ON)
    panel = st.window.returns_panel
    assert panel.isVisible() and panel.mode_bar.text() == "반품 검수 / Returns inspection"
    scan(p, "CPRT-77001234")                                       # Coupang's return label: not known here
    assert "모르는 반품 송장" in panel.banner.text() and panel.level() == "warning"
    rec_label = st.window.findChild(object, "recIndicator")
    qtbot.waitUntil(lambda: rec_label.property("state") == "recording", timeout=5000)   # filmed from the start
    scan(p, str(sold.order_id))                                    # the order number links it
    assert number in panel.heading.text() and len(panel.sent_texts()) == 2
    scan(p, sent[0])
    scan(p, "PD-RET-OK")
    swapped = other.vendor_item_ids[1]
    assert swapped not in sold.vendor_item_ids
    scan(p, shop.barcode_of(str(swapped)))                         # not what was sent
    assert "보낸 상품이 아닙니다" in panel.banner.text()
    scan(p, "PD-RET-OTHER")
    scan(p, "PD-CMD-COMPLETE")
    assert "보낸 2개 중 1개 반품, 다른 상품 1개, 문제 1개" in panel.banner.text()
    qtbot.waitUntil(lambda: len(complete_recordings(st, 2)) == 2, timeout=15_000)
    scan(p, RETURNS_OFF)
    assert panel.isHidden() and p.view.table.isVisible()

    outbound, returned = complete_recordings(st, 2)
    with st.db.session() as s:
        insp = s.scalars(select(m.ReturnInspection)).one()
        pack = s.scalars(select(m.PackSession).where(m.PackSession.outcome == PackOutcome.COMPLETED)).one()
        assert insp.return_code == "CPRT-77001234" and insp.order_nos == str(sold.order_id)
        assert insp.waybill_id == pack.waybill_id and insp.original_pack_session_id == pack.id
        assert insp.outcome is PackOutcome.COMPLETED and insp.packer_name == "최반품"
        items = s.scalars(select(m.ReturnItem).where(m.ReturnItem.inspection_id == insp.id)
                          .order_by(m.ReturnItem.line_no)).all()
        assert [(i.expected, i.condition) for i in items] == [(True, "ok"), (False, "other_product")]
    assert outbound.pack_key == pack.key and returned.pack_key == insp.key
    assert returned.tracking_number == "CPRT-77001234" and returned.pack_outcome is PackOutcome.COMPLETED
    assert Path(returned.path).is_file() and returned.frames > 0

    # the review: the return's video beside the outbound pack's, each with its scans
    rv = st.window.open_review()
    with qtbot.waitSignal(rv.recording_loaded, timeout=15_000):
        pass  # today's newest recording, opened as the review opens
    rv.returns_button.click()
    returns = rv.returns_window
    with qtbot.waitSignal(returns.loaded, timeout=15_000):
        pass  # the one inspection, picked and loaded
    assert returns.table.rowCount() == 1
    returns.search_box.setText(number)                             # found by its original waybill too
    with qtbot.waitSignal(returns.loaded, timeout=15_000):
        returns.search()
    said = {side: [returns.scan_lists[side].item(i).text() for i in range(returns.scan_lists[side].count())]
            for side in ("return", "outbound")}
    assert any("반품 송장" in t and "CPRT-77001234" in t for t in said["return"])
    assert any("#2" in t and "보낸 상품이 아닙니다" in t for t in said["return"])
    assert any("다른 상품 / Other product" in t for t in said["return"])
    assert sum(t.startswith(("00:", "--")) and "✓" in t for t in said["outbound"]) >= 3  # waybill + two items
    assert returns.players["return"].isEnabled() and returns.players["outbound"].isEnabled()
    assert number in returns.titles["outbound"].text() and "CPRT-77001234" in returns.titles["return"].text()

    # the claim bundle for this return, from the same window: both films as recorded, the return's scans
    click(qtbot, returns.claim_bundle_button)
    dialog = dialog_of(returns, qtbot)
    assert dialog.subject is not None and dialog.subject.kind == "return"
    assert "반품 CPRT-77001234" in dialog.info.text() and "2 recordings, 1 pack" in dialog.info.text()
    assert "return_scans.csv" in dialog.info.text()
    choose(qtbot, monkeypatch, dialog, tmp_path / "claims")
    click(qtbot, dialog.as_folder)
    with qtbot.waitSignal(dialog.exported, timeout=60_000) as done:
        click(qtbot, dialog.export_button)
    bundle = done.args[0]
    root = bundle.path
    assert [(e.recording_id, e.state) for e in bundle.entries] == [(outbound.id, "ok"), (returned.id, "ok")]
    for e, rec in zip(bundle.entries, (outbound, returned), strict=True):
        assert hashlib.sha256((root / e.original).read_bytes()).hexdigest() == rec.sha256
    for line in (root / cb.SUMS).read_text(encoding="utf-8").splitlines():  # what `sha256sum -c` does
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest, name
    if shutil.which("sha256sum"):
        run = subprocess.run(["sha256sum", "-c", cb.SUMS], cwd=root, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
    rows = read_csv(root / cb.RETURN_SCANS_CSV)
    col = {h.split(" / ")[1]: i for i, h in enumerate(rows[0])}
    assert [r[col["Code scanned"]] for r in rows[1:]] == [
        "CPRT-77001234", str(sold.order_id), sent[0], "PD-RET-OK", shop.barcode_of(str(swapped)), "PD-RET-OTHER",
        "PD-CMD-COMPLETE"]
    assert {(r[col["Item #"]], r[col["Item's condition at the end"]], r[col["Sent by the order"]])
            for r in rows[1:] if r[col["Item #"]]} == {("1", "정상 / Good", "예 / yes"),
                                                     ("2", "다른 상품 / Other product", "아니요 / no")}
    assert all(r[col["Return label"]] == "CPRT-77001234" and r[col["Original waybill"]] == number for r in rows[1:])
    scans = read_csv(root / "scans.csv")  # the outbound pack's: its waybill, then both items
    assert [r[8] for r in scans[1:]] == [number, *sent]
    dialog.close()
    returns.done(0)
    rv.close()

    report = verify(st.db, tmp_path / "videos")
    assert report.ok, report.problems
    # both videos hashed and chained (the outbound one and the return's), the outbound pack's link and the return's
    assert (report.checked_files, report.checked_links, report.checked_packs, report.checked_returns) == (2, 4, 1, 1)


def test_a_return_label_coupang_told_of_links_to_its_order_at_once(make_station, qtbot, fake,
                                                                     tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The buyer's return request carries the pickup waybill; the next collection brings it in as an expected
    return, and the packer's first scan of that label finds the original order: no order number to look up."""
    sold = fake.add_sheet(1, receiver=shop.receiver(0))
    st, account, number, badge, p = coupang_station(make_station, qtbot, fake, tmp_path, sold, 1, "65000000002")
    scan(p, badge)
    scan(p, number)
    sent = shop.barcode_of(str(sold.vendor_item_ids[0]))
    scan(p, sent)
    assert p.banner().startswith("포장 완료")

    # the completed pack's number goes to Coupang at once (the uploader is woken); then the box travels
    qtbot.waitUntil(lambda: bool(fake.sheet(sold.shipment_box_id)["invoiceNumber"]), timeout=10_000)
    fake.set_status(sold.shipment_box_id, "FINAL_DELIVERY")  # delivered; the buyer asks to send it back
    fake.request_return(sold.shipment_box_id, courier="CJGLS", invoice="561234567890")
    assert shop.collect(st.db, account).returns == 1

    scan(p, RETURNS_ON)
    panel = st.window.returns_panel
    scan(p, "561234567890")                                        # the pickup label, as the courier brings it
    assert "모르는 반품 송장" not in panel.banner.text()
    assert number in panel.heading.text() and len(panel.sent_texts()) == 1
    scan(p, sent)
    scan(p, "PD-RET-OK")
    scan(p, "PD-CMD-COMPLETE")
    assert "보낸 1개 중 1개 반품" in panel.banner.text()
    st.service.worker.wait_idle(5)
    with st.db.session() as s:
        insp = s.scalars(select(m.ReturnInspection)).one()
        assert insp.return_code == "561234567890" and insp.order_nos == str(sold.order_id)
        assert insp.outcome is PackOutcome.COMPLETED and insp.original_pack_session_id is not None
