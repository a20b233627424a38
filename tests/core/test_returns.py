"""The returns inspection state machine (core/returns.py), rule by rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packdesk.core.enums import PackOutcome, ScanSource
from packdesk.core.returns import (
    BeginInspection,
    Condition,
    ConditionScanned,
    EndInspection,
    EnterReturns,
    ExpectedItem,
    LeaveReturns,
    LinkOriginal,
    LogReturnScan,
    Original,
    ReturnClosing,
    ReturnCodeScanned,
    ReturnCommandScanned,
    ReturnItemScanned,
    ReturnScanKind,
    ReturnsMachine,
    ReturnTimeout,
    RMsg,
    StartReturnRecording,
)
from packdesk.core.station import Command, ItemRef, Level, PackerRef, PlaySound, Scan, Sound, StopRecording
from packdesk.core.words import station_words

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
ALICE = PackerRef(1, "김포장")
MUG = ExpectedItem(1, "머그컵", "화이트", 2, ("8800000000011",))
TEA = ExpectedItem(3, "녹차 티백", "", 1, ("8800000000035",))
ORIGINAL = Original(7, "600000000001", ("ORD-1",), (MUG, TEA), pack_session_id=4)
STRANGER = ItemRef(9, "다른 가게 상품")


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def scan(self, code: str) -> Scan:
        self.at += timedelta(seconds=1)
        return Scan(code, ScanSource.WEDGE, self.at)


def entered() -> tuple[ReturnsMachine, Clock]:
    m, c = ReturnsMachine(), Clock()
    m.handle(EnterReturns(c.scan("PD-CMD-RETURNS"), ALICE, pack_open=False))
    return m, c


def started(original: Original | None = ORIGINAL) -> tuple[ReturnsMachine, Clock]:
    m, c = entered()
    m.handle(ReturnCodeScanned(c.scan("RT-123"), "key-1", original, ALICE))
    return m, c


def test_the_mode_needs_a_packer_and_no_open_pack() -> None:
    m, c = ReturnsMachine(), Clock()
    m.handle(EnterReturns(c.scan("PD-CMD-RETURNS"), ALICE, pack_open=True))
    assert not m.state.active and m.state.message.code is RMsg.PACK_OPEN
    m.handle(EnterReturns(c.scan("PD-CMD-RETURNS"), None, pack_open=False))
    assert not m.state.active and m.state.message.code is RMsg.PACKER_REQUIRED
    fx = m.handle(EnterReturns(c.scan("PD-CMD-RETURNS"), ALICE, pack_open=False))
    assert m.state.active and m.state.message.code is RMsg.READY and PlaySound(Sound.OK) in fx


def test_a_known_return_starts_recording_at_once_and_ticks_expected_items() -> None:
    m, c = entered()
    fx = m.handle(ReturnCodeScanned(c.scan("600000000001"), "key-1", ORIGINAL, ALICE))
    begin = next(f for f in fx if isinstance(f, BeginInspection))
    rec = next(f for f in fx if isinstance(f, StartReturnRecording))
    assert begin.original == ORIGINAL and rec.name == "600000000001" and rec.order_nos == ("ORD-1",)
    assert m.state.message.code is RMsg.STARTED and m.state.message.params["expected"] == 3
    fx = m.handle(ReturnItemScanned(c.scan("8800000000011"), ItemRef(1, "머그컵", "화이트")))
    assert m.state.message.code is RMsg.ITEM_EXPECTED and m.state.message.params["scanned"] == 1
    log = next(f for f in fx if isinstance(f, LogReturnScan))
    assert log.accepted and log.expected and log.line_no == 1 and log.kind is ReturnScanKind.ITEM


def test_an_item_not_sent_or_one_too_many_is_kept_as_not_ours() -> None:
    m, c = started()
    m.handle(ReturnItemScanned(c.scan("STRANGER-1"), STRANGER))
    assert m.state.message.code is RMsg.ITEM_NOT_OURS
    m.handle(ReturnItemScanned(c.scan("8800000000035"), ItemRef(3, "녹차 티백")))
    m.handle(ReturnItemScanned(c.scan("8800000000035"), ItemRef(3, "녹차 티백")))  # only one was sent
    m.handle(ReturnItemScanned(c.scan("NOBARCODE"), None))
    insp = m.state.inspection
    assert insp is not None
    assert [ln.expected for ln in insp.lines] == [False, True, False, False]
    assert insp.lines[3].code == "NOBARCODE" and insp.lines[3].item_id is None


def test_a_condition_marks_the_item_just_scanned_and_complete_needs_every_item_marked() -> None:
    m, c = started()
    m.handle(ConditionScanned(c.scan("PD-RET-OK"), Condition.OK))
    assert m.state.message.code is RMsg.NO_ITEM_TO_MARK and m.state.message.level is Level.ERROR
    m.handle(ReturnItemScanned(c.scan("8800000000011"), ItemRef(1, "머그컵", "화이트")))
    m.handle(ReturnItemScanned(c.scan("STRANGER-1"), STRANGER))
    m.handle(ConditionScanned(c.scan("PD-RET-OTHER"), Condition.OTHER_PRODUCT))
    m.handle(ReturnCommandScanned(c.scan("PD-CMD-COMPLETE"), Command.COMPLETE))
    assert m.state.message.code is RMsg.UNMARKED and m.state.message.params["count"] == 1
    assert m.state.inspection is not None  # still open


def test_completing_stops_the_video_and_stores_every_line_with_its_condition() -> None:
    m, c = started()
    m.handle(ReturnItemScanned(c.scan("8800000000011"), ItemRef(1, "머그컵", "화이트")))
    m.handle(ConditionScanned(c.scan("PD-RET-OK"), Condition.OK))
    m.handle(ReturnItemScanned(c.scan("8800000000011"), ItemRef(1, "머그컵", "화이트")))
    m.handle(ConditionScanned(c.scan("PD-RET-OK"), Condition.OK))
    m.handle(ConditionScanned(c.scan("PD-RET-DAMAGED"), Condition.DAMAGED))  # corrected: the last one wins
    fx = m.handle(ReturnCommandScanned(c.scan("PD-CMD-COMPLETE"), Command.COMPLETE))
    stop = next(f for f in fx if isinstance(f, StopRecording))
    end = next(f for f in fx if isinstance(f, EndInspection))
    assert stop.pack_key == end.key == "key-1" and end.outcome is PackOutcome.COMPLETED
    assert [ln.condition for ln in end.lines] == [Condition.OK, Condition.DAMAGED]
    msg = m.state.message
    assert msg.code is RMsg.COMPLETE and (msg.params["returned"], msg.params["expected"]) == (2, 3)
    assert msg.params["problems"] == 1 and m.state.inspection is None and m.state.done is not None
    assert m.state.active  # the mode stays on for the next return


def test_an_unknown_return_label_records_and_waits_for_the_original() -> None:
    m, c = started(original=None)
    assert m.state.message.code is RMsg.STARTED_UNKNOWN and m.state.message.level is Level.WARNING
    m.handle(ReturnItemScanned(c.scan("8800000000011"), ItemRef(1, "머그컵", "화이트")))
    assert m.state.message.code is RMsg.ITEM_BEFORE_ORIGINAL
    m.handle(ReturnCommandScanned(c.scan("PD-CMD-COMPLETE"), Command.COMPLETE))
    assert m.state.message.code is RMsg.NO_ORIGINAL
    m.handle(ReturnCodeScanned(c.scan("NOPE"), "key-2", None, ALICE))
    assert m.state.message.code is RMsg.ORIGINAL_NOT_FOUND
    fx = m.handle(ReturnCodeScanned(c.scan("ORD-1"), "key-3", ORIGINAL, ALICE))
    assert LinkOriginal("key-1", ORIGINAL) in fx and m.state.message.code is RMsg.LINKED
    assert m.state.inspection is not None and m.state.inspection.key == "key-1"


def test_leaving_and_signing_out_wait_for_the_open_return() -> None:
    m, c = started()
    m.handle(LeaveReturns(c.scan("PD-CMD-PACKING")))
    assert m.state.active and m.state.message.code is RMsg.INSPECTION_OPEN
    m.handle(ReturnCommandScanned(c.scan("PD-CMD-LOGOUT"), Command.LOGOUT))
    assert m.state.message.code is RMsg.INSPECTION_OPEN
    m.handle(ReturnCommandScanned(c.scan("PD-CMD-CANCEL"), Command.CANCEL))
    assert m.state.message.code is RMsg.CANCELLED and m.state.done is None
    m.handle(ReturnCommandScanned(c.scan("PD-CMD-LOGOUT"), Command.LOGOUT))
    assert m.state.message.code is RMsg.LOGOUT_IN_RETURNS and m.state.active
    m.handle(LeaveReturns(c.scan("PD-CMD-PACKING")))
    assert not m.state.active and m.state.message.code is RMsg.LEFT


def test_timeout_and_closing_end_the_open_return() -> None:
    m, c = started()
    fx = m.handle(ReturnTimeout(c.scan("x").at))
    assert any(isinstance(f, EndInspection) and f.outcome is PackOutcome.TIMED_OUT for f in fx)
    m.handle(ReturnCodeScanned(c.scan("RT-9"), "key-9", ORIGINAL, ALICE))
    fx = m.handle(ReturnClosing(c.scan("x").at))
    assert StopRecording("key-9", PackOutcome.CLOSED, c.at) in fx and m.state.inspection is None


def test_a_refusal_again_is_counted() -> None:
    m, c = entered()
    m.handle(ConditionScanned(c.scan("PD-RET-OK"), Condition.OK))
    m.handle(ConditionScanned(c.scan("PD-RET-OK"), Condition.OK))
    assert m.state.message.repeat == 2


def test_every_returns_message_reads_in_both_languages() -> None:
    w = station_words(RMsg.MARKED, {"name": "머그컵", "option": "화이트", "condition": "damaged", "line_no": 2})
    assert w.ko == "2번 머그컵 · 화이트: 파손" and w.en == "#2 머그컵 · 화이트: Damaged"
    for code in RMsg:
        assert station_words(code, {}).ko and station_words(code, {}).en


def test_a_return_that_cannot_be_filmed_is_not_started_when_recording_is_required() -> None:
    m, c = ReturnsMachine(require_recording=True), Clock()
    m.handle(EnterReturns(c.scan("PD-CMD-RETURNS"), ALICE, pack_open=False))
    fx = m.handle(ReturnCodeScanned(c.scan("RT-1"), "key-1", ORIGINAL, ALICE, recording_problem="camera_unavailable"))
    assert m.state.message.code is RMsg.RECORDING_UNAVAILABLE and m.state.inspection is None
    assert not any(isinstance(f, StartReturnRecording | BeginInspection) for f in fx)
    m = ReturnsMachine()  # not required: it goes on, unfilmed
    m.handle(EnterReturns(c.scan("PD-CMD-RETURNS"), ALICE, pack_open=False))
    m.handle(ReturnCodeScanned(c.scan("RT-1"), "key-1", ORIGINAL, ALICE, recording_problem="camera_unavailable"))
    assert m.state.inspection is not None
