"""The station state machine, rule by rule, plus invariants over random scan sequences."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packdesk.core.enums import LineStatus, PackOutcome, ScanKind, ScanSource
from packdesk.core.station import (
    FORCE_CANCELLED,
    BeginPack,
    BindLabel,
    Closing,
    Command,
    CommandScanned,
    CompleteMode,
    CountScanned,
    EndPack,
    ItemRef,
    ItemScanned,
    LabelScanned,
    Level,
    LinesChanged,
    LogScan,
    Msg,
    PackerIdentified,
    PackerRef,
    PackersChanged,
    PackPlan,
    PlanItem,
    PlanLine,
    PlaySound,
    RecorderLost,
    Scan,
    ShowMessage,
    Sound,
    StartRecording,
    StationConfig,
    StationMachine,
    StationState,
    StopRecording,
    Timeout,
    WaybillScanned,
    step,
)

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
MUG = PlanItem(1, "MUG-WH", "머그컵", "화이트", ("8800000000011",))
CUP = PlanItem(2, "CUP-BK", "텀블러", "블랙", ("8800000000028", "CUP-ALT"))
TEA = PlanItem(3, "TEA-12", "녹차 티백", "", ("8800000000035",))
OTHER = ItemRef(9, "다른 상품")
ALICE = PackerRef(1, "김포장")
BOB = PackerRef(2, "이포장")


def line(line_id: int, components: tuple[tuple[int, int], ...], qty: int = 1,
         status: LineStatus = LineStatus.CONFIRMED, packed_at: datetime | None = None) -> PlanLine:
    return PlanLine(line_id, "ORD-1", f"PO-{line_id}", f"상품{line_id}", "", qty, status, components, packed_at)


def plan(*lines: PlanLine, waybill_id: int = 100, tracking: str = "600000000001") -> PackPlan:
    return PackPlan(waybill_id, tracking, "CJGLS", "홍길동", lines, {i.item_id: i for i in (MUG, CUP, TEA)})


def scan(code: str, minutes: float = 0) -> Scan:
    return Scan(code, ScanSource.WEDGE, T0 + timedelta(minutes=minutes))


def item_ev(it: PlanItem | ItemRef | None, code: str | None = None) -> ItemScanned:
    if isinstance(it, PlanItem):
        return ItemScanned(scan(code or it.barcodes[0]), it.ref)
    return ItemScanned(scan(code or "X"), it)


def waybill_ev(p: PackPlan, key: str = "k1") -> WaybillScanned:
    return WaybillScanned(scan(p.tracking_number), p, key)


def cmd(c: Command) -> CommandScanned:
    return CommandScanned(scan(f"PD-CMD-{c.value}"), c)


def of(effects: list, kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in effects if isinstance(e, kind)]


def sound(effects: list) -> Sound:  # type: ignore[type-arg]
    (s,) = of(effects, PlaySound)
    return s.sound


def msg(effects: list) -> Msg:  # type: ignore[type-arg]
    (m,) = of(effects, ShowMessage)
    return m.message.code


def logged(effects: list) -> LogScan:  # type: ignore[type-arg]
    (lg,) = of(effects, LogScan)
    return lg


def with_packer() -> StationMachine:
    m = StationMachine(StationConfig())
    m.handle(PackerIdentified(scan("BADGE-1"), ALICE))
    return m


# ------------------------------------------------------------------ packer and commands


def test_initial_state_has_nobody_signed_in() -> None:
    st0 = StationState()  # READY: the screen asks for a packer badge (ui/messages.py)
    assert st0.message.code is Msg.READY and st0.pack is None and st0.packer is None


def test_packer_badge_sets_packer_and_is_logged() -> None:
    m = StationMachine(StationConfig())
    fx = m.handle(PackerIdentified(scan("BADGE-1"), ALICE))
    assert m.state.packer == ALICE
    assert sound(fx) is Sound.OK and msg(fx) is Msg.PACKER_SET
    lg = logged(fx)
    assert lg.kind is ScanKind.PACKER and lg.accepted and lg.packer_name == "김포장"


def test_another_packers_badge_mid_pack_is_refused_and_the_pack_goes_on() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),), qty=2))))
    m.handle(item_ev(MUG))
    fx = m.handle(PackerIdentified(scan("BADGE-2"), BOB))
    assert m.state.packer == ALICE and m.state.pack is not None and m.state.pack.counts == {1: 1}
    assert sound(fx) is Sound.ERROR and msg(fx) is Msg.PACKER_CHANGE_DURING_PACK
    lg = logged(fx)
    assert lg.kind is ScanKind.PACKER and not lg.accepted and lg.reason == "packer_change_during_pack"
    assert lg.pack_key == "k1" and lg.packer_name == "김포장"  # the refusal is part of the open pack's story
    assert not of(fx, BeginPack) and not of(fx, EndPack) and not of(fx, StopRecording)
    fx = m.handle(item_ev(MUG))  # the pack goes on under the one who started it
    assert of(fx, EndPack)[0].outcome is PackOutcome.COMPLETED
    fx = m.handle(PackerIdentified(scan("BADGE-2"), BOB))  # between packs the badge changes the packer
    assert m.state.packer == BOB and msg(fx) is Msg.PACKER_SET and logged(fx).accepted


def test_the_same_packers_badge_mid_pack_changes_nothing() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    pack = m.state.pack
    fx = m.handle(PackerIdentified(scan("BADGE-1"), ALICE))
    assert m.state.packer == ALICE and m.state.pack == pack
    assert sound(fx) is Sound.OK and msg(fx) is Msg.PACKER_ALREADY and m.state.message.level is Level.INFO
    lg = logged(fx)
    assert lg.kind is ScanKind.PACKER and lg.accepted and lg.pack_key == "k1"
    assert of(fx, ShowMessage)[0].message.params["name"] == "김포장"


def test_a_deactivated_packers_badge_is_refused_by_name() -> None:
    m = StationMachine(StationConfig())
    fx = m.handle(PackerIdentified(scan("BADGE-9"), PackerRef(9, "박퇴사"), active=False))
    assert m.state.packer is None and sound(fx) is Sound.ERROR and msg(fx) is Msg.PACKER_INACTIVE
    assert m.state.message.params["name"] == "박퇴사"
    lg = logged(fx)
    assert lg.kind is ScanKind.PACKER and not lg.accepted and lg.reason == "packer_inactive"
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    fx = m.handle(PackerIdentified(scan("BADGE-9"), PackerRef(9, "박퇴사"), active=False))  # mid-pack too
    assert msg(fx) is Msg.PACKER_INACTIVE and m.state.packer == ALICE and m.state.pack is not None


# ------------------------------------------------------------------ the packers change (the staff screen)


def test_a_packer_deactivated_while_idle_is_signed_out_at_once() -> None:
    m = with_packer()
    fx = m.handle(PackersChanged(T0, {2: BOB}))
    assert m.state.packer is None and msg(fx) is Msg.PACKER_DEACTIVATED and sound(fx) is Sound.WARNING
    assert m.state.message.params == {"name": "김포장"} and not of(fx, LogScan)  # no scan: nothing logged
    fx = m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    assert msg(fx) is Msg.PACKER_REQUIRED


def test_a_packer_deactivated_mid_pack_finishes_it_then_is_signed_out() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),), qty=2))))
    fx = m.handle(PackersChanged(T0, {}))
    assert msg(fx) is Msg.PACKER_DEACTIVATED_AFTER_PACK and sound(fx) is Sound.WARNING
    assert m.state.packer == ALICE and m.state.pack is not None and m.state.sign_out_after_pack
    assert m.handle(PackersChanged(T0, {})) == []  # told once
    m.handle(item_ev(MUG))
    fx = m.handle(item_ev(MUG))
    (end,) = of(fx, EndPack)
    assert end.outcome is PackOutcome.COMPLETED and end.packed_line_ids == (1,)
    assert msg(fx) is Msg.PACK_COMPLETE and sound(fx) is Sound.COMPLETE  # the pack's own ending, then out
    assert m.state.packer is None and not m.state.sign_out_after_pack and m.state.pack is None
    assert m.state.message.params["signed_out"] == "김포장"


@pytest.mark.parametrize("ending", [Command.CANCEL, None])
def test_a_pack_cancelled_or_timed_out_also_signs_a_deactivated_packer_out(ending: Command | None) -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    m.handle(PackersChanged(T0, {2: BOB}))
    fx = m.handle(cmd(ending) if ending else Timeout(T0))
    assert of(fx, EndPack) and m.state.packer is None
    assert m.state.message.params["signed_out"] == "김포장"


def test_a_packer_reactivated_before_their_pack_ends_stays_signed_in() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    m.handle(PackersChanged(T0, {}))
    assert m.handle(PackersChanged(T0, {1: ALICE})) == [] and not m.state.sign_out_after_pack
    fx = m.handle(item_ev(MUG))
    assert of(fx, EndPack) and m.state.packer == ALICE and "signed_out" not in m.state.message.params


def test_the_signed_in_packer_follows_a_rename_and_nobody_else_matters() -> None:
    m = with_packer()
    renamed = PackerRef(1, "김포장B")
    assert m.handle(PackersChanged(T0, {1: renamed, 2: BOB})) == [] and m.state.packer == renamed
    before = m.state
    assert m.handle(PackersChanged(T0, {1: renamed})) == [] and m.state == before
    nobody = StationMachine(StationConfig())
    assert nobody.handle(PackersChanged(T0, {})) == [] and nobody.state == StationState()
    by_name = StationMachine(StationConfig(), StationState(packer=PackerRef(None, "손님")))  # no row of its own
    assert by_name.handle(PackersChanged(T0, {})) == [] and by_name.state.packer == PackerRef(None, "손님")


def test_waybill_without_packer_is_refused() -> None:
    m = StationMachine(StationConfig())
    fx = m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    assert m.state.pack is None
    assert sound(fx) is Sound.ERROR and msg(fx) is Msg.PACKER_REQUIRED
    assert not of(fx, StartRecording) and not logged(fx).accepted
    assert logged(fx).reason == "packer_required"


def test_logout_when_idle_clears_packer() -> None:
    m = with_packer()
    fx = m.handle(cmd(Command.LOGOUT))
    assert m.state.packer is None and msg(fx) is Msg.LOGGED_OUT and logged(fx).accepted


def test_logout_during_pack_is_refused() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    fx = m.handle(cmd(Command.LOGOUT))
    assert m.state.packer == ALICE and m.state.pack is not None
    assert sound(fx) is Sound.ERROR and msg(fx) is Msg.LOGOUT_DURING_PACK


def test_complete_and_cancel_without_pack_are_refused() -> None:
    for c in (Command.COMPLETE, Command.CANCEL):
        m = with_packer()
        fx = m.handle(cmd(c))
        assert msg(fx) is Msg.NO_ACTIVE_PACK and sound(fx) is Sound.ERROR
        assert logged(fx).kind is ScanKind.COMMAND and not logged(fx).accepted


# ------------------------------------------------------------------ waybill scans


def test_waybill_starts_pack_records_and_logs_in_order() -> None:
    m = with_packer()
    p = plan(line(1, ((1, 2),)), line(2, ((2, 1),)))
    fx = m.handle(waybill_ev(p))
    assert [type(e) for e in fx] == [BeginPack, StartRecording, LogScan, PlaySound, ShowMessage]
    assert fx[0] == BeginPack("k1", p, ALICE, T0)
    assert fx[1] == StartRecording("k1", "600000000001", "김포장", T0)
    assert logged(fx).accepted and logged(fx).kind is ScanKind.WAYBILL and logged(fx).pack_key == "k1"
    assert sound(fx) is Sound.OK and msg(fx) is Msg.PACK_STARTED
    assert m.state.pack is not None and m.state.pack.remaining() == {1: 2, 2: 1}


def test_waybill_with_no_lines_is_refused() -> None:
    fx = with_packer().handle(waybill_ev(plan()))
    assert msg(fx) is Msg.WAYBILL_EMPTY


def test_waybill_all_cancelled_is_refused() -> None:
    m = with_packer()
    fx = m.handle(waybill_ev(plan(line(1, ((1, 1),), status=LineStatus.CANCELLED))))
    assert msg(fx) is Msg.WAYBILL_CANCELLED and sound(fx) is Sound.ERROR and m.state.pack is None


def test_waybill_force_cancelled_by_a_supervisor_says_so() -> None:
    forced = replace(line(1, ((1, 1),), status=LineStatus.CANCELLED), claim_status=FORCE_CANCELLED)
    m = with_packer()
    fx = m.handle(waybill_ev(plan(forced, replace(forced, line_id=2))))
    assert msg(fx) is Msg.WAYBILL_FORCE_CANCELLED and sound(fx) is Sound.ERROR and m.state.pack is None
    assert logged(fx).reason == "waybill_force_cancelled" and not logged(fx).accepted
    # one line cancelled by the buyer as well: that is a cancelled order, said as before
    buyer = replace(line(3, ((2, 1),), status=LineStatus.CANCELLED), claim_status="CANCEL_DONE")
    assert msg(with_packer().handle(waybill_ev(plan(forced, buyer)))) is Msg.WAYBILL_CANCELLED


def test_waybill_with_a_cancel_request_is_held() -> None:
    p = plan(line(1, ((1, 1),)), line(2, ((2, 1),), status=LineStatus.CANCEL_REQUESTED))
    fx = with_packer().handle(waybill_ev(p))
    assert msg(fx) is Msg.WAYBILL_CANCEL_REQUESTED and not of(fx, StartRecording)


def test_waybill_already_packed_says_when() -> None:
    at = T0 - timedelta(hours=2)
    p = plan(line(1, ((1, 1),), status=LineStatus.PACKED, packed_at=at),
             line(2, ((2, 1),), status=LineStatus.DISPATCHED, packed_at=None))
    fx = with_packer().handle(waybill_ev(p))
    (show,) = of(fx, ShowMessage)
    assert show.message.code is Msg.WAYBILL_ALREADY_PACKED and show.message.params["packed_at"] == at


def test_waybill_with_unmapped_line_is_refused_and_names_it() -> None:
    p = plan(line(1, ((1, 1),)), line(2, ()))
    fx = with_packer().handle(waybill_ev(p))
    (show,) = of(fx, ShowMessage)
    assert show.message.code is Msg.WAYBILL_UNMAPPED and "상품2" in show.message.params["products"]


def test_partly_cancelled_waybill_starts_with_a_warning() -> None:
    m = with_packer()
    p = plan(line(1, ((1, 1),)), line(2, ((2, 1),), status=LineStatus.CANCELLED))
    fx = m.handle(waybill_ev(p))
    assert msg(fx) is Msg.PACK_STARTED_PARTLY_CANCELLED and sound(fx) is Sound.WARNING
    assert m.state.pack is not None and m.state.pack.remaining() == {1: 1}


def test_same_waybill_again_is_a_warning_not_a_restart() -> None:
    m = with_packer()
    p = plan(line(1, ((1, 2),)))
    m.handle(waybill_ev(p))
    m.handle(item_ev(MUG))
    fx = m.handle(waybill_ev(p, key="k2"))
    assert msg(fx) is Msg.WAYBILL_SAME and sound(fx) is Sound.WARNING
    assert not logged(fx).accepted and not of(fx, StartRecording)
    assert m.state.pack is not None and m.state.pack.key == "k1" and m.state.pack.counts == {1: 1}


def test_other_waybill_during_pack_is_refused() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    fx = m.handle(waybill_ev(plan(line(5, ((2, 1),)), waybill_id=101, tracking="600000000002"), key="k2"))
    (show,) = of(fx, ShowMessage)
    assert show.message.code is Msg.OTHER_WAYBILL_ACTIVE and show.message.params["tracking"] == "600000000001"
    assert m.state.pack is not None and m.state.pack.key == "k1"


def test_waybill_held_by_another_station_is_refused_and_says_by_whom() -> None:
    from packdesk.core.station import ClaimHolder

    p = plan(line(1, ((1, 1),)))
    held = ClaimHolder("STATION-3", "이서연", T0 - timedelta(minutes=3))
    m = with_packer()
    fx = m.handle(WaybillScanned(scan(p.tracking_number), p, "k1", claimed_by=held))
    (show,) = of(fx, ShowMessage)
    assert show.message.code is Msg.WAYBILL_CLAIMED and show.message.params["station"] == "STATION-3"
    assert show.message.params["since"] == held.since and m.state.pack is None and not of(fx, BeginPack)


def test_recording_problem_blocks_only_when_required() -> None:
    p = plan(line(1, ((1, 1),)))
    ev = WaybillScanned(scan(p.tracking_number), p, "k1", recording_problem="disk_low")
    blocked = StationMachine(StationConfig(require_recording=True))
    blocked.handle(PackerIdentified(scan("B"), ALICE))
    fx = blocked.handle(ev)
    (show,) = of(fx, ShowMessage)
    assert show.message.code is Msg.RECORDING_UNAVAILABLE and show.message.params["problem"] == "disk_low"
    assert blocked.state.pack is None and not of(fx, StartRecording)
    lenient = with_packer()
    fx = lenient.handle(ev)
    assert msg(fx) is Msg.PACK_STARTED and of(fx, StartRecording)  # the UI warns separately


# ------------------------------------------------------------------ item scans


def test_items_count_up_then_auto_complete() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),), qty=2), line(2, ((2, 1),)))))
    fx = m.handle(item_ev(MUG))
    assert sound(fx) is Sound.ITEM and msg(fx) is Msg.ITEM_OK
    (show,) = of(fx, ShowMessage)
    assert show.message.params == {"name": "머그컵", "option": "화이트", "item_id": 1, "scanned": 1, "expected": 2}
    assert logged(fx).item_id == 1 and logged(fx).accepted
    m.handle(item_ev(CUP, "CUP-ALT"))  # any of an item's barcodes counts
    fx = m.handle(item_ev(MUG))
    assert [type(e) for e in fx] == [LogScan, StopRecording, EndPack, PlaySound, ShowMessage]
    assert of(fx, EndPack) == [EndPack("k1", PackOutcome.COMPLETED, T0, (1, 2))]
    assert sound(fx) is Sound.COMPLETE and msg(fx) is Msg.PACK_COMPLETE
    assert m.state.pack is None and m.state.message.level is Level.SUCCESS


def test_a_twelve_pack_needs_twelve_scans() -> None:
    """Without a count barcode, one scan per unit (while 6 or more are left, each scan says a count would do)."""
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((3, 12),)))))
    for n in range(11):
        fx = m.handle(item_ev(TEA))
        assert msg(fx) is (Msg.ITEM_OK_MANY_LEFT if 11 - n >= 6 else Msg.ITEM_OK), n
    fx = m.handle(item_ev(TEA))
    assert msg(fx) is Msg.PACK_COMPLETE


def test_one_too_many_is_refused() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)), line(2, ((2, 1),)))))
    m.handle(item_ev(MUG))
    fx = m.handle(item_ev(MUG))
    (show,) = of(fx, ShowMessage)
    assert show.message.code is Msg.TOO_MANY and show.message.params["expected"] == 1
    assert sound(fx) is Sound.ERROR and m.state.pack is not None and m.state.pack.counts == {1: 1}


def test_wrong_item_is_refused() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    fx = m.handle(item_ev(OTHER))
    assert msg(fx) is Msg.WRONG_ITEM and logged(fx).item_id == 9 and not logged(fx).accepted


def test_item_of_cancelled_line_is_refused() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)), line(2, ((2, 1),), status=LineStatus.CANCELLED))))
    fx = m.handle(item_ev(CUP))
    assert msg(fx) is Msg.CANCELLED_LINE_ITEM and sound(fx) is Sound.ERROR


def test_item_of_already_packed_line_is_refused() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)), line(2, ((2, 1),), status=LineStatus.PACKED))))
    fx = m.handle(item_ev(CUP))
    assert msg(fx) is Msg.PACKED_LINE_ITEM


def test_unknown_barcode_is_refused_idle_and_packing() -> None:
    m = with_packer()
    fx = m.handle(item_ev(None, "ZZZ"))
    assert msg(fx) is Msg.UNKNOWN_BARCODE and logged(fx).kind is ScanKind.UNKNOWN
    m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    fx = m.handle(item_ev(None, "ZZZ"))
    assert msg(fx) is Msg.UNKNOWN_BARCODE and logged(fx).pack_key == "k1"


def test_item_while_idle_asks_for_waybill() -> None:
    fx = with_packer().handle(item_ev(MUG))
    assert msg(fx) is Msg.ITEM_WITHOUT_WAYBILL and sound(fx) is Sound.ERROR


# ------------------------------------------------------------------ completion mode, cancel, timeout


def test_command_mode_waits_for_complete_barcode() -> None:
    m = StationMachine(StationConfig(complete_mode=CompleteMode.COMMAND))
    m.handle(PackerIdentified(scan("B"), ALICE))
    m.handle(waybill_ev(plan(line(1, ((1, 2),)))))
    m.handle(item_ev(MUG))
    fx = m.handle(cmd(Command.COMPLETE))
    (show,) = of(fx, ShowMessage)
    assert show.message.code is Msg.NOT_COMPLETE and show.message.params["remaining"] == 1
    fx = m.handle(item_ev(MUG))
    assert msg(fx) is Msg.ALL_SCANNED_SCAN_COMPLETE and not of(fx, EndPack) and m.state.pack is not None
    fx = m.handle(cmd(Command.COMPLETE))
    assert of(fx, EndPack)[0].outcome is PackOutcome.COMPLETED and sound(fx) is Sound.COMPLETE


def test_cancel_command_stops_recording_and_packs_nothing() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 2),)))))
    m.handle(item_ev(MUG))
    fx = m.handle(cmd(Command.CANCEL))  # an item is in: asked again first
    assert msg(fx) is Msg.CANCEL_CONFIRM and not of(fx, EndPack) and m.state.cancel_armed
    fx = m.handle(cmd(Command.CANCEL))
    assert of(fx, StopRecording) == [StopRecording("k1", PackOutcome.CANCELLED, T0)]
    assert of(fx, EndPack) == [EndPack("k1", PackOutcome.CANCELLED, T0, ())]
    assert msg(fx) is Msg.PACK_CANCELLED and m.state.pack is None


def test_timeout_ends_an_open_pack_and_is_silent_when_idle() -> None:
    m = with_packer()
    before = m.state
    assert m.handle(Timeout(T0)) == [] and m.state is before
    m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    fx = m.handle(Timeout(T0 + timedelta(minutes=10)))
    assert of(fx, EndPack)[0].outcome is PackOutcome.TIMED_OUT and msg(fx) is Msg.PACK_TIMED_OUT
    assert not of(fx, LogScan) and m.state.pack is None


def test_recorder_lost_between_packs_is_a_warning_only() -> None:
    m = with_packer()
    fx = m.handle(RecorderLost(T0))
    assert sound(fx) is Sound.WARNING and msg(fx) is Msg.RECORDER_RESTARTING
    assert m.state.message.level is Level.WARNING and m.state.packer == ALICE  # orange, nothing else changes
    assert not of(fx, StartRecording) and not of(fx, EndPack) and not of(fx, LogScan)


def test_recorder_lost_mid_pack_films_the_rest_when_recording_is_not_required() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 2),)))))
    m.handle(item_ev(MUG))
    later = T0 + timedelta(seconds=20)
    fx = m.handle(RecorderLost(later))
    assert of(fx, StartRecording) == [StartRecording("k1", "600000000001", "김포장", later)]  # a second file
    assert sound(fx) is Sound.WARNING and msg(fx) is Msg.RECORDER_GAP and m.state.message.level is Level.WARNING
    assert m.state.pack is not None and m.state.pack.counts == {1: 1} and not of(fx, EndPack)
    fx = m.handle(item_ev(MUG))  # the pack goes on
    assert of(fx, EndPack)[0].outcome is PackOutcome.COMPLETED


def test_recorder_lost_mid_pack_stops_it_when_recording_is_required() -> None:
    m = StationMachine(StationConfig(require_recording=True))
    m.handle(PackerIdentified(scan("BADGE-1"), ALICE))
    m.handle(waybill_ev(plan(line(1, ((1, 2),)))))
    m.handle(item_ev(MUG))
    fx = m.handle(RecorderLost(T0))
    assert of(fx, StopRecording) == [StopRecording("k1", PackOutcome.ABANDONED, T0)]
    assert of(fx, EndPack) == [EndPack("k1", PackOutcome.ABANDONED, T0, ())]  # nothing marked packed
    assert not of(fx, StartRecording) and m.state.pack is None and m.state.packer == ALICE
    assert sound(fx) is Sound.WARNING and msg(fx) is Msg.RECORDER_LOST_PACK_STOPPED
    assert m.state.message.params["tracking"] == "600000000001"
    fx = m.handle(waybill_ev(plan(line(1, ((1, 2),))), key="k2"))  # scanned again: a new pack, filmed whole
    assert of(fx, BeginPack) and of(fx, StartRecording)[0].pack_key == "k2"


def test_closing_mid_pack_stops_the_video_and_stores_the_pack_as_closed() -> None:
    m = with_packer()
    before = m.state
    assert m.handle(Closing(T0)) == [] and m.state is before  # nothing open: nothing to do
    m.handle(waybill_ev(plan(line(1, ((1, 2),)))))
    m.handle(item_ev(MUG))
    fx = m.handle(Closing(T0 + timedelta(seconds=5)))
    at = T0 + timedelta(seconds=5)
    assert fx == [StopRecording("k1", PackOutcome.CLOSED, at), EndPack("k1", PackOutcome.CLOSED, at, ())]
    assert m.state.pack is None and m.state.packer == ALICE


def test_plan_finds_items_by_any_barcode() -> None:
    p = plan(line(1, ((1, 1),)))
    assert p.item_for_barcode("CUP-ALT") is CUP and p.item_for_barcode("nope") is None


def test_step_rejects_a_non_event() -> None:
    with pytest.raises(TypeError):
        step(StationState(), "scan", StationConfig())  # type: ignore[arg-type]


def test_step_is_pure() -> None:
    s0 = StationState(packer=ALICE)
    ev = waybill_ev(plan(line(1, ((1, 1),))))
    assert step(s0, ev, StationConfig()) == step(s0, ev, StationConfig())
    assert s0.pack is None


# ------------------------------------------------------------------ invariants over random sequences

P1 = plan(line(1, ((1, 2),)), line(2, ((2, 1),)), line(3, ((3, 1),), status=LineStatus.CANCELLED))
P2 = plan(line(4, ((3, 3),)), waybill_id=101, tracking="600000000002")
P3 = plan(line(5, ((1, 1),), status=LineStatus.PACKED), waybill_id=102, tracking="600000000003")

events = st.one_of(
    st.sampled_from([item_ev(MUG), item_ev(CUP), item_ev(TEA), item_ev(OTHER), item_ev(None),
                     cmd(Command.COMPLETE), cmd(Command.CANCEL), cmd(Command.LOGOUT),
                     PackerIdentified(scan("B1"), ALICE), PackerIdentified(scan("B2"), BOB),
                     PackerIdentified(scan("B9"), PackerRef(9, "박퇴사"), active=False), Timeout(T0),
                     PackersChanged(T0, {2: BOB}), PackersChanged(T0, {1: ALICE, 2: BOB}), RecorderLost(T0)]),
    st.builds(lambda p, k: waybill_ev(p, f"k{k}"), st.sampled_from([P1, P2, P3]), st.integers(0, 10**6)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=40), st.sampled_from(list(CompleteMode)), st.booleans())
def test_invariants_hold_for_any_scan_sequence(seq: list, mode: CompleteMode, required: bool) -> None:  # type: ignore[type-arg]
    m = StationMachine(StationConfig(complete_mode=mode, require_recording=required))
    recording: str | None = None
    armed_before = False
    for ev in seq:
        packer_before, pack_before = m.state.packer, m.state.pack
        fx = m.handle(ev)
        if pack_before is not None and m.state.pack is not None:
            assert m.state.packer == packer_before  # nobody takes over an open pack
        if not isinstance(ev, Timeout | PackersChanged | RecorderLost):
            # every scan: exactly one log row, one sound and one message
            assert len(of(fx, LogScan)) == 1 and len(of(fx, PlaySound)) == 1 and len(of(fx, ShowMessage)) == 1
            assert of(fx, LogScan)[0].accepted == (sound(fx) is not Sound.ERROR and
                                                   msg(fx) is not Msg.WAYBILL_SAME)
        for e in fx:
            if isinstance(e, StartRecording):
                # only a lost recorder films the open pack again (the first recording was cut)
                assert recording is None or (isinstance(ev, RecorderLost) and recording == e.pack_key)
                recording = e.pack_key
            elif isinstance(e, StopRecording):
                assert recording == e.pack_key
                recording = None
        pack = m.state.pack
        assert (pack is None) == (recording is None)
        assert pack is None or m.state.packer is not None  # an open pack always has its packer
        # CANCEL waits for its second scan only on an open pack with something scanned, and only right after it
        assert not m.state.cancel_armed or (pack is not None and sum(pack.counts.values()) > 0
                                            and isinstance(ev, CommandScanned | LinesChanged | PackersChanged
                                                           | RecorderLost | Timeout))
        if isinstance(ev, CommandScanned) and ev.command is Command.CANCEL and pack_before is not None:
            # a pack with progress is never cancelled by one CANCEL scan
            assert (pack is None) == (not sum(pack_before.counts.values()) or armed_before)
        armed_before = m.state.cancel_armed
        if m.state.done is not None:  # the box left on screen is the one that completed, every item in
            assert m.state.done.all_scanned and pack is None
        if pack is not None:
            expected = pack.plan.expected()
            assert all(0 < n <= expected[i] for i, n in pack.counts.items())
            assert mode is CompleteMode.COMMAND or not pack.all_scanned


def test_plan_matches_a_case_lost_scan_only_when_unique() -> None:
    shirt_s = PlanItem(4, "TS-S", "티셔츠", "S", ("ts-blk-s",))
    p = PackPlan(1, "6", "CJGLS", "", (), {4: shirt_s, 5: PlanItem(5, "A", "a", "", ("AB-1",)),
                                          6: PlanItem(6, "B", "b", "", ("ab-1",))})
    assert p.item_for_barcode("TS-BLK-S") is shirt_s   # unique when folded
    assert p.item_for_barcode("Ab-1") is None           # AB-1 and ab-1 both exist: ambiguous, no guess
    assert p.item_for_barcode("ab-1").item_id == 6      # type: ignore[union-attr] - exact wins


# ------------------------------------------------------------------ the open pack's lines change elsewhere


def test_a_line_cancelled_while_packing_is_said_loudly_and_its_items_refused() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)), line(2, ((2, 1),)))))
    assert m.handle(LinesChanged(T0, {})) == []                                  # nothing of this pack
    assert m.handle(LinesChanged(T0, {99: LineStatus.CANCELLED})) == []          # another order's line
    assert m.handle(LinesChanged(T0, {1: LineStatus.CONFIRMED})) == []           # unchanged
    fx = m.handle(LinesChanged(T0, {2: LineStatus.CANCELLED}))
    assert sound(fx) is Sound.ERROR and msg(fx) is Msg.LINE_CANCELLED_MEANWHILE and not of(fx, LogScan)
    assert m.state.message.level is Level.ERROR and "상품2" in m.state.message.params["products"]
    assert m.state.pack is not None and m.state.pack.plan.expected() == {1: 1}
    fx = m.handle(item_ev(CUP))                       # its item now belongs to a cancelled line
    assert msg(fx) is Msg.CANCELLED_LINE_ITEM
    fx = m.handle(item_ev(MUG))                       # the rest completes; only line 1 is packed
    assert of(fx, EndPack)[0].packed_line_ids == (1,)


def test_other_changes_only_follow_the_database() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),), status=LineStatus.NEW), line(2, ((2, 1),),
                                                                           status=LineStatus.CANCELLED))))
    message = m.state.message
    assert m.handle(LinesChanged(T0, {1: LineStatus.CONFIRMED, 2: LineStatus.CANCEL_REQUESTED})) == []
    assert m.state.message == message  # not a new cancel of a packable line: nothing to say
    assert m.state.pack is not None and m.state.pack.plan.lines[0].status is LineStatus.CONFIRMED


def test_lines_changing_with_no_pack_open_change_nothing() -> None:
    m = with_packer()
    before = m.state
    assert m.handle(LinesChanged(T0, {1: LineStatus.CANCELLED})) == [] and m.state == before


# ------------------------------------------------------------------ a parcel opened from its packing slip

PARCEL_KEY = "PD-P-ABCD2345"
LABEL_NO = "561234567894"


def parcel_plan(*lines: PlanLine, parcel_id: int = 7, key: str = PARCEL_KEY) -> PackPlan:
    """A parcel with no waybill yet: what ``core/queries.load_parcel_plan`` gives for a slip's barcode."""
    return PackPlan(None, key, "", "홍길동", lines, {i.item_id: i for i in (MUG, CUP, TEA)}, parcel_id, key)


def label_ev(number: str = LABEL_NO, problem: str = "", warning: str = "", **params: object) -> LabelScanned:
    return LabelScanned(scan(number), "CJGLS", number, problem, warning, params)


def parcel_packing(mode: CompleteMode = CompleteMode.AUTO) -> StationMachine:
    m = StationMachine(StationConfig(complete_mode=mode))
    m.handle(PackerIdentified(scan("BADGE-1"), ALICE))
    m.handle(waybill_ev(parcel_plan(line(1, ((1, 1),)), line(2, ((2, 1),))), key="pk"))
    return m


def test_a_parcel_starts_like_a_waybill_and_records_under_its_key() -> None:
    m = with_packer()
    fx = m.handle(WaybillScanned(scan(PARCEL_KEY), parcel_plan(line(1, ((1, 1),))), "pk"))
    assert msg(fx) is Msg.PACK_STARTED and sound(fx) is Sound.OK
    (rec,) = of(fx, StartRecording)
    assert rec.tracking_number == PARCEL_KEY
    assert of(fx, BeginPack)[0].plan.parcel_id == 7 and m.state.pack is not None
    assert m.state.pack.plan.awaits_label and m.state.message.params["tracking"] == PARCEL_KEY


@pytest.mark.parametrize("mode", list(CompleteMode))
def test_every_item_in_asks_for_the_label_in_either_mode(mode: CompleteMode) -> None:
    m = parcel_packing(mode)
    m.handle(item_ev(MUG))
    fx = m.handle(item_ev(CUP))
    assert msg(fx) is Msg.SCAN_LABEL and sound(fx) is Sound.LABEL and m.state.message.level is Level.WARNING
    assert not of(fx, EndPack) and not of(fx, StopRecording) and m.state.pack is not None
    assert logged(fx).accepted and logged(fx).kind is ScanKind.ITEM


def test_complete_before_the_label_is_refused_and_the_pack_stays_open() -> None:
    m = parcel_packing(CompleteMode.COMMAND)
    fx = m.handle(cmd(Command.COMPLETE))
    assert msg(fx) is Msg.NOT_COMPLETE                  # items first, as for a waybill
    m.handle(item_ev(MUG))
    m.handle(item_ev(CUP))
    fx = m.handle(cmd(Command.COMPLETE))
    assert msg(fx) is Msg.LABEL_REQUIRED and sound(fx) is Sound.ERROR and not of(fx, EndPack)
    assert logged(fx).reason == "label_required" and m.state.pack is not None


def test_a_good_label_binds_and_completes_in_that_order() -> None:
    m = parcel_packing()
    m.handle(item_ev(MUG))
    m.handle(item_ev(CUP))
    fx = m.handle(label_ev())
    assert [type(e) for e in fx] == [LogScan, BindLabel, StopRecording, EndPack, PlaySound, ShowMessage]
    assert of(fx, BindLabel) == [BindLabel("pk", 7, "CJGLS", LABEL_NO, T0)]
    assert of(fx, EndPack)[0].outcome is PackOutcome.COMPLETED and of(fx, EndPack)[0].packed_line_ids == (1, 2)
    assert logged(fx).kind is ScanKind.LABEL and logged(fx).accepted and logged(fx).pack_key == "pk"
    assert msg(fx) is Msg.PACK_COMPLETE and sound(fx) is Sound.COMPLETE
    assert m.state.pack is None and m.state.message.params["tracking"] == LABEL_NO


def test_a_label_whose_check_digit_is_set_to_warn_completes_with_a_warning() -> None:
    m = parcel_packing()
    m.handle(item_ev(MUG))
    m.handle(item_ev(CUP))
    fx = m.handle(label_ev("561234567890", warning="tracking_check_digit"))
    assert of(fx, BindLabel) and msg(fx) is Msg.PACK_COMPLETE_LABEL_WARNING and sound(fx) is Sound.WARNING
    assert m.state.message.level is Level.WARNING and m.state.pack is None


def test_a_misread_label_is_refused_before_it_binds_and_the_pack_waits_for_a_good_one() -> None:
    m = parcel_packing()
    m.handle(item_ev(MUG))
    m.handle(item_ev(CUP))
    fx = m.handle(label_ev("56123456789", "tracking_length", length=11, lengths="10, 12", courier="CJGLS"))
    assert msg(fx) is Msg.LABEL_INVALID and sound(fx) is Sound.ERROR and not of(fx, BindLabel)
    assert not of(fx, EndPack) and m.state.pack is not None
    assert m.state.message.params["check"] == "tracking_length" and m.state.message.params["length"] == 11
    assert (logged(fx).kind, logged(fx).accepted, logged(fx).reason) == (ScanKind.LABEL, False, "label_invalid")
    fx = m.handle(label_ev())
    assert of(fx, BindLabel) and msg(fx) is Msg.PACK_COMPLETE


def test_a_number_in_use_is_refused_whenever_it_is_scanned() -> None:
    m = parcel_packing()
    fx = m.handle(label_ev(problem="tracking_used", used_by="PD-P-OTHER234"))
    assert msg(fx) is Msg.LABEL_USED and m.state.message.params["used_by"] == "PD-P-OTHER234"
    m.handle(item_ev(MUG))
    m.handle(item_ev(CUP))
    fx = m.handle(label_ev(problem="tracking_used", used_by="2026000001"))
    assert msg(fx) is Msg.LABEL_USED and not of(fx, BindLabel) and m.state.pack is not None


def test_a_label_before_the_items_are_in() -> None:
    m = parcel_packing()
    m.handle(item_ev(MUG))
    fx = m.handle(label_ev())
    assert msg(fx) is Msg.LABEL_TOO_EARLY and m.state.message.params["remaining"] == 1 and not of(fx, BindLabel)
    fx = m.handle(label_ev("HELLO", "tracking_not_digits"))  # unreadable as a number, and no item: unknown
    assert msg(fx) is Msg.UNKNOWN_BARCODE and logged(fx).kind is ScanKind.UNKNOWN
    assert m.state.pack is not None and m.state.pack.counts == {1: 1}


def test_a_label_with_no_parcel_waiting_is_an_unknown_barcode() -> None:
    m = with_packer()
    assert msg(m.handle(label_ev())) is Msg.UNKNOWN_BARCODE     # the pack timed out during the lookup
    m.handle(waybill_ev(plan(line(1, ((1, 1),)))))
    fx = m.handle(label_ev())
    assert msg(fx) is Msg.UNKNOWN_BARCODE and m.state.pack is not None and not of(fx, BindLabel)


def test_the_open_parcel_scanned_again_and_another_one() -> None:
    m = parcel_packing()
    fx = m.handle(WaybillScanned(scan(PARCEL_KEY), parcel_plan(line(1, ((1, 1),))), "pk2"))
    assert msg(fx) is Msg.WAYBILL_SAME and m.state.pack is not None and m.state.pack.key == "pk"
    other = parcel_plan(line(3, ((3, 1),)), parcel_id=8, key="PD-P-OTHER234")
    fx = m.handle(WaybillScanned(scan("PD-P-OTHER234"), other, "pk3"))
    assert msg(fx) is Msg.OTHER_WAYBILL_ACTIVE and m.state.message.params["tracking"] == PARCEL_KEY
    fx = m.handle(waybill_ev(plan(line(4, ((3, 1),)))))           # a waybill is another pack too
    assert msg(fx) is Msg.OTHER_WAYBILL_ACTIVE


def test_cancelling_a_parcel_binds_nothing() -> None:
    m = parcel_packing()
    m.handle(item_ev(MUG))
    m.handle(item_ev(CUP))
    m.handle(cmd(Command.CANCEL))
    fx = m.handle(cmd(Command.CANCEL))
    assert msg(fx) is Msg.PACK_CANCELLED and not of(fx, BindLabel)
    assert of(fx, EndPack)[0].outcome is PackOutcome.CANCELLED and m.state.pack is None


PARCEL = parcel_plan(line(11, ((1, 1),)), line(12, ((2, 2),)))
label_events = st.sampled_from([label_ev(), label_ev("561234567890", warning="tracking_check_digit"),
                                label_ev("5612", "tracking_length"), label_ev(problem="tracking_used")])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(events, label_events, st.builds(lambda k: waybill_ev(PARCEL, f"p{k}"),
                                                          st.integers(0, 10**6))), max_size=40),
       st.sampled_from(list(CompleteMode)))
def test_a_label_binds_only_to_a_parcel_whose_items_are_all_in(seq: list, mode: CompleteMode) -> None:  # type: ignore[type-arg]
    m = StationMachine(StationConfig(complete_mode=mode))
    for ev in seq:
        before = m.state.pack
        fx = m.handle(ev)
        binds, ends = of(fx, BindLabel), of(fx, EndPack)
        if binds:
            assert before is not None and before.plan.awaits_label and before.all_scanned
            assert isinstance(ev, LabelScanned) and not ev.problem
            assert binds[0].pack_key == before.key and binds[0].parcel_id == before.plan.parcel_id
            assert [e.outcome for e in ends] == [PackOutcome.COMPLETED] and m.state.pack is None
        elif before is not None and before.plan.awaits_label:
            assert all(e.outcome is not PackOutcome.COMPLETED for e in ends)  # never completes without one
        pack = m.state.pack
        if pack is not None and pack.all_scanned and mode is CompleteMode.AUTO:
            assert pack.plan.awaits_label


def test_instructions_are_read_per_item_from_its_packable_lines() -> None:
    """Engraving text (Coupang's etcInfoValues) goes with the item it is for; a cancelled line's does not count."""
    from dataclasses import replace

    p = plan(replace(line(1, ((MUG.item_id, 1),)), instructions="각인 문구: 사랑해\n포장: 선물용"),
             replace(line(2, ((MUG.item_id, 1), (TEA.item_id, 2))), instructions="각인 문구: 사랑해"),
             replace(line(3, ((CUP.item_id, 1),), status=LineStatus.CANCELLED), instructions="각인 문구: 안녕"),
             line(4, ((TEA.item_id, 1),)))
    assert p.instructions_for(MUG.item_id) == ("각인 문구: 사랑해", "포장: 선물용")
    assert p.instructions_for(TEA.item_id) == ("각인 문구: 사랑해",)
    assert p.instructions_for(CUP.item_id) == ()


# ------------------------------------------------------------------ what the packer is shown (issue #20)


def test_cancel_with_nothing_scanned_ends_the_pack_at_once() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 2),)))))
    fx = m.handle(cmd(Command.CANCEL))
    assert msg(fx) is Msg.PACK_CANCELLED and of(fx, EndPack) and m.state.pack is None


def test_cancel_asks_again_naming_what_would_be_thrown_away() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 2),)), line(2, ((2, 1),)))))
    m.handle(item_ev(MUG))
    m.handle(item_ev(CUP))
    fx = m.handle(cmd(Command.CANCEL))
    assert msg(fx) is Msg.CANCEL_CONFIRM and sound(fx) is Sound.WARNING
    assert m.state.message.params["scanned"] == 2 and m.state.message.level is Level.WARNING
    lg = logged(fx)
    assert lg.accepted and lg.kind is ScanKind.COMMAND and not of(fx, StopRecording)
    assert m.state.pack is not None and m.state.pack.counts == {1: 1, 2: 1}  # nothing lost


@pytest.mark.parametrize("between", [item_ev(MUG), item_ev(TEA), item_ev(None), cmd(Command.COMPLETE)])
def test_any_other_scan_forgets_the_first_cancel(between: object) -> None:
    """An item scanned (the packer goes on), a refused scan or COMPLETE: the next CANCEL asks again."""
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 3),)))))
    m.handle(item_ev(MUG))
    m.handle(cmd(Command.CANCEL))
    m.handle(between)  # type: ignore[arg-type]
    assert not m.state.cancel_armed and m.state.pack is not None
    fx = m.handle(cmd(Command.CANCEL))
    assert msg(fx) is Msg.CANCEL_CONFIRM and not of(fx, EndPack)


def test_a_background_change_keeps_the_first_cancel() -> None:
    """Lines changing elsewhere are no scan: the packer's second CANCEL still ends the pack."""
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 2),)), line(2, ((2, 1),)))))
    m.handle(item_ev(MUG))
    m.handle(cmd(Command.CANCEL))
    m.handle(LinesChanged(T0, {2: LineStatus.CONFIRMED}))
    m.handle(PackersChanged(T0, {1: ALICE}))
    assert m.state.cancel_armed
    assert msg(m.handle(cmd(Command.CANCEL))) is Msg.PACK_CANCELLED


def test_a_timeout_after_the_first_cancel_leaves_nothing_armed() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 2),)))))
    m.handle(item_ev(MUG))
    m.handle(cmd(Command.CANCEL))
    m.handle(Timeout(T0))
    assert m.state.pack is None and not m.state.cancel_armed


def test_the_same_refusal_again_is_counted() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 1),)), line(2, ((2, 1),)))))
    m.handle(item_ev(TEA))
    assert m.state.message.code is Msg.WRONG_ITEM and m.state.message.repeat == 1
    fx = m.handle(item_ev(TEA))
    (show,) = of(fx, ShowMessage)
    assert show.message.repeat == 2 and sound(fx) is Sound.ERROR
    m.handle(item_ev(TEA))
    assert m.state.message.repeat == 3
    m.handle(item_ev(None, "NOPE"))  # another refusal: counted from one
    assert m.state.message.code is Msg.UNKNOWN_BARCODE and m.state.message.repeat == 1
    m.handle(item_ev(TEA))
    m.handle(item_ev(MUG))  # accepted between: the next refusal is a first again
    m.handle(item_ev(TEA))
    assert m.state.message.repeat == 1


def test_an_item_scan_names_its_option_and_row() -> None:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((1, 2),)), line(2, ((2, 1),)))))
    m.handle(item_ev(MUG))
    params = m.state.message.params
    assert (params["name"], params["option"], params["item_id"]) == ("머그컵", "화이트", 1)
    m.handle(item_ev(MUG))
    m.handle(item_ev(MUG))  # too many: the refusal names the option too
    assert m.state.message.code is Msg.TOO_MANY and m.state.message.params["option"] == "화이트"


def test_the_completed_box_stays_until_the_next_waybill() -> None:
    m = with_packer()
    p = plan(line(1, ((1, 1),)))
    m.handle(waybill_ev(p))
    m.handle(item_ev(MUG))
    assert m.state.pack is None and m.state.done is not None and m.state.done.counts == {1: 1}
    m.handle(item_ev(TEA))  # a stray scan: refused, the box is still shown
    assert m.state.done is not None
    m.handle(waybill_ev(plan(line(2, ((2, 1),)), waybill_id=101, tracking="600000000002"), "k2"))
    assert m.state.done is None and m.state.pack is not None
    m.handle(cmd(Command.CANCEL))  # cancelled: no box to show
    assert m.state.done is None


def test_already_packed_names_when_where_and_by_whom() -> None:
    from packdesk.core.station import PackedBy

    at = T0 - timedelta(days=3)
    p = replace(plan(line(1, ((1, 1),), status=LineStatus.PACKED, packed_at=at)),
                packed_by=PackedBy("STATION-2", "이포장", at))
    fx = with_packer().handle(waybill_ev(p))
    (show,) = of(fx, ShowMessage)
    assert show.message.code is Msg.WAYBILL_ALREADY_PACKED
    assert {k: show.message.params[k] for k in ("packed_at", "station", "packer")} == {
        "packed_at": at, "station": "STATION-2", "packer": "이포장"}


# ---------------------------------------------------------------- multi-packs: a count, confirmed by the item


def count_ev(n: int) -> CountScanned:
    return CountScanned(scan(f"PD-QTY-{n}"), n)


def tea_pack(qty: int = 24) -> StationMachine:
    m = with_packer()
    m.handle(waybill_ev(plan(line(1, ((TEA.item_id, 12),), qty=qty // 12), line(2, ((MUG.item_id, 1),)))))
    return m


def test_many_left_the_item_scan_says_a_count_would_do() -> None:
    m = tea_pack()
    fx = m.handle(item_ev(TEA))
    assert msg(fx) is Msg.ITEM_OK_MANY_LEFT and m.state.message.params["left"] == 23
    assert logged(fx).quantity == 1 and m.state.pack is not None and m.state.pack.counts[TEA.item_id] == 1
    m.handle(item_ev(MUG))  # one mug: nothing to say of counts
    assert m.state.message.code is Msg.ITEM_OK


def test_the_hint_follows_the_setting() -> None:
    m = StationMachine(StationConfig(count_hint_at=0))
    m.handle(PackerIdentified(scan("BADGE-1"), ALICE))
    m.handle(waybill_ev(plan(line(1, ((TEA.item_id, 12),)))))
    assert msg(m.handle(item_ev(TEA))) is Msg.ITEM_OK  # 0: never
    m = tea_pack(12)
    for _ in range(6):  # 11, 10 … 6 left: said; 5 left: not
        assert msg(m.handle(item_ev(TEA))) is Msg.ITEM_OK_MANY_LEFT
    assert msg(m.handle(item_ev(TEA))) is Msg.ITEM_OK


def test_a_count_then_the_item_puts_that_many_in_and_is_recorded_as_such() -> None:
    m = tea_pack()
    fx = m.handle(count_ev(12))
    assert msg(fx) is Msg.COUNT_READY and sound(fx) is Sound.OK and m.state.pending_count == 12
    assert logged(fx).kind is ScanKind.COMMAND and logged(fx).accepted
    assert m.state.pack is not None and m.state.pack.counts == {}  # nothing counted before the item confirms
    fx = m.handle(item_ev(TEA))
    lg = logged(fx)
    assert (lg.kind, lg.accepted, lg.item_id, lg.quantity) == (ScanKind.ITEM, True, TEA.item_id, 12)
    assert msg(fx) is Msg.ITEM_COUNTED and m.state.message.params["scanned"] == 12
    assert m.state.pack.counts[TEA.item_id] == 12 and m.state.pending_count == 0
    m.handle(item_ev(TEA))  # the count was for one scan: the next counts one
    assert m.state.pack.counts[TEA.item_id] == 13


def test_a_count_that_completes_the_box_completes_it() -> None:
    m = tea_pack(12)
    m.handle(item_ev(MUG))
    m.handle(count_ev(12))
    fx = m.handle(item_ev(TEA))
    (end,) = of(fx, EndPack)
    assert end.outcome is PackOutcome.COMPLETED and logged(fx).quantity == 12


def test_a_count_bigger_than_what_is_left_is_refused() -> None:
    m = tea_pack(12)
    fx = m.handle(count_ev(24))  # no item of the box has 24 left: said at once
    assert msg(fx) is Msg.COUNT_MORE_THAN_LEFT and not logged(fx).accepted and m.state.pending_count == 0
    assert m.state.message.params["left"] == 12
    m.handle(item_ev(TEA))
    m.handle(count_ev(12))  # 12 were needed, one is in: 11 left of the tea
    assert m.state.message.code is Msg.COUNT_MORE_THAN_LEFT
    m.handle(count_ev(10))
    fx = m.handle(item_ev(MUG))  # the mug has one left, the count says 10
    assert msg(fx) is Msg.COUNT_MORE_THAN_LEFT and logged(fx).item_id == MUG.item_id
    assert m.state.pack is not None and m.state.pack.counts == {TEA.item_id: 1} and m.state.pending_count == 0


def test_a_wrong_item_after_the_count_is_refused_and_drops_the_count() -> None:
    m = tea_pack()
    m.handle(count_ev(12))
    fx = m.handle(item_ev(OTHER))
    assert msg(fx) is Msg.WRONG_ITEM and m.state.pending_count == 0
    m.handle(item_ev(TEA))  # one, not twelve
    assert m.state.pack is not None and m.state.pack.counts[TEA.item_id] == 1


def test_cancel_drops_a_waiting_count_and_keeps_the_pack() -> None:
    m = tea_pack()
    m.handle(item_ev(TEA))
    m.handle(count_ev(12))
    fx = m.handle(cmd(Command.CANCEL))
    assert msg(fx) is Msg.COUNT_CLEARED and not of(fx, EndPack)
    assert m.state.pending_count == 0 and not m.state.cancel_armed and m.state.pack is not None
    m.handle(item_ev(TEA))
    assert m.state.pack.counts[TEA.item_id] == 2


def test_a_count_needs_an_open_pack_and_a_number() -> None:
    m = with_packer()
    assert msg(m.handle(count_ev(12))) is Msg.NO_ACTIVE_PACK
    m = tea_pack()
    assert msg(m.handle(count_ev(0))) is Msg.COUNT_INVALID
    assert msg(m.handle(CountScanned(scan("PD-QTY-99999"), 99999))) is Msg.COUNT_INVALID
    assert m.state.pending_count == 0


def test_a_timeout_or_a_line_change_keeps_the_count_and_the_pack_end_drops_it() -> None:
    m = tea_pack()
    m.handle(count_ev(12))
    m.handle(LinesChanged(T0, {2: LineStatus.CONFIRMED}))
    assert m.state.pending_count == 12
    m.handle(Timeout(T0 + timedelta(hours=1)))
    assert m.state.pack is None and m.state.pending_count == 0
