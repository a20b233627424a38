"""The RealPacking driver over real HTTP against the fake program: templates, order, retries, failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from packdesk.core.enums import PackOutcome
from packdesk.devices.realpacking import (
    JSON,
    RealPackingConfig,
    RealPackingRecorder,
    RequestTemplate,
    marker_path,
    probe_connection,
)
from packdesk.devices.recorder import (
    RecorderEvent,
    RecorderState,
    RecordingFailed,
    RecordingFinished,
    RecordingJob,
    RecordingStarted,
)
from tests.fakes.realpacking import FakeRealPacking
from tests.waiting import wait_until

PACKER = "김민수"
PACKER_UTF8 = "%EA%B9%80%EB%AF%BC%EC%88%98"


def job(key: str = "k1", waybill: str = "601000000011", packer: str = PACKER) -> RecordingJob:
    return RecordingJob(key, waybill, "STATION-1", packer, datetime.now(UTC), ("ORD-1", "ORD-2"))


@pytest.fixture
def fake() -> Iterator[FakeRealPacking]:
    with FakeRealPacking() as f:
        yield f


class Harness:
    def __init__(self, fake: FakeRealPacking) -> None:
        self.fake = fake
        self.events: list[RecorderEvent] = []
        self.recorders: list[RealPackingRecorder] = []

    def recorder(self, **config: object) -> RealPackingRecorder:
        config.setdefault("port", self.fake.port)
        config.setdefault("retry_pause_s", 0.01)
        rec = RealPackingRecorder(RealPackingConfig(**config), emit=self.events.append)  # type: ignore[arg-type]
        self.recorders.append(rec)
        return rec

    def of(self, kind: type[RecorderEvent]) -> list[RecorderEvent]:
        return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, kind: type[RecorderEvent], count: int = 1, timeout: float = 5.0) -> list[RecorderEvent]:
        wait_until(lambda: len(self.of(kind)) >= count, timeout, f"{count} {kind.__name__}")
        return self.of(kind)


@pytest.fixture
def rp(fake: FakeRealPacking) -> Iterator[Harness]:
    harness = Harness(fake)
    yield harness
    for rec in harness.recorders:
        rec.close()
        wait_until(lambda rec=rec: not rec._thread.is_alive(), 5, "the worker thread to end")


def test_start_and_stop_send_the_templates_in_order(rp: Harness, fake: FakeRealPacking) -> None:
    rec = rp.recorder()
    assert rec.state == RecorderState.IDLE and rec.ready() == (True, "")
    j = job()
    rec.start(j)
    assert rec.state == RecorderState.RECORDING
    started = rp.wait_for(RecordingStarted)[0]
    assert started == RecordingStarted("k1", marker_path("601000000011"), j.started_at)
    assert str(started.path) == "realpacking:601000000011"  # same string on Windows and POSIX

    rec.stop("k1", PackOutcome.COMPLETED)
    assert rec.state == RecorderState.IDLE
    finished = rp.wait_for(RecordingFinished)[0]
    assert isinstance(finished, RecordingFinished)
    assert (finished.pack_key, finished.path, finished.outcome) == ("k1", started.path, PackOutcome.COMPLETED)
    assert (finished.frames, finished.dropped, finished.size_bytes) == (0, 0, 0)
    assert finished.started_at == j.started_at <= finished.ended_at

    start, stop = fake.received
    assert (start.method, start.path) == ("GET", "/start")
    assert start.query == {"waybill": "601000000011", "station": "STATION-1", "packer": PACKER}
    assert f"packer={PACKER_UTF8}" in start.target  # UTF-8 percent-encoded, %20 style
    assert (stop.method, stop.path, stop.query) == ("GET", "/stop", {"waybill": "601000000011"})
    assert not rp.of(RecordingFailed)


def test_a_stop_never_overtakes_its_start(rp: Harness, fake: FakeRealPacking) -> None:
    rec = rp.recorder()
    fake.delay_next(0.3)  # the start is answered late; a concurrent sender would get the stop in first
    rec.start(job())
    rec.stop("k1", PackOutcome.COMPLETED)
    rp.wait_for(RecordingFinished)
    start, stop = fake.received
    assert (start.path, stop.path) == ("/start", "/stop")
    assert stop.at >= start.at + 0.29


def test_placeholders_in_path_and_unknown_braces_left_alone(rp: Harness, fake: FakeRealPacking) -> None:
    start = RequestTemplate("GET", "/rec/{waybill}/{packer}", {"who": "{packer}@{station}", "raw": "{nope}",
                                                              "orders": "{order_nos}", "key": "{pack_key}"})
    stop = RequestTemplate("GET", "/rec/{waybill}/end", {"how": "{outcome}"})
    rec = rp.recorder(start=start, stop=stop)
    rec.start(job(waybill="A 1/2"))
    rec.stop("k1", PackOutcome.COMPLETED)
    rp.wait_for(RecordingFinished)
    got_start, got_stop = fake.received
    assert got_start.target.startswith(f"/rec/A%201%2F2/{PACKER_UTF8}?")
    assert got_start.query == {"who": f"{PACKER}@STATION-1", "raw": "{nope}", "orders": "ORD-1,ORD-2", "key": "k1"}
    assert got_stop.target == "/rec/A%201%2F2/end?how=completed"


def test_post_form_body(rp: Harness, fake: FakeRealPacking) -> None:
    start = RequestTemplate("POST", "/api/record", body="cmd=start&barcode={waybill}&worker={packer}")
    rec = rp.recorder(start=start)
    fake.fail_next(1, 503)  # and the retry sends the same body again
    rec.start(job(packer="김 민수&1"))
    rp.wait_for(RecordingStarted)
    first, got = fake.received
    assert got.method == "POST" and got.path == "/api/record" and got.query == {}
    assert got.headers["content-type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert got.form() == {"cmd": "start", "barcode": "601000000011", "worker": "김 민수&1"}
    assert first.body == got.body


def test_post_json_body(rp: Harness, fake: FakeRealPacking) -> None:
    start = RequestTemplate("POST", "/record", body='{"barcode": "{waybill}", "worker": "{packer}", "on": true}',
                            content_type=JSON)
    rec = rp.recorder(start=start)
    rec.start(job(packer='김"민수'))
    rp.wait_for(RecordingStarted)
    got = fake.received[0]
    assert got.headers["content-type"] == "application/json; charset=utf-8"
    assert got.text() == '{"barcode": "601000000011", "worker": "김\\"민수", "on": true}'


def test_cp949_charset_for_a_korean_windows_program(rp: Harness) -> None:
    with FakeRealPacking(charset="cp949") as fake:
        rec = rp.recorder(port=fake.port, start=RequestTemplate("GET", "/start", {"packer": "{packer}"},
                                                                     charset="cp949"))
        rec.start(job())
        rp.wait_for(RecordingStarted)
        rec.close()
        got = fake.received[0]
    assert got.target == "/start?packer=%B1%E8%B9%CE%BC%F6"
    assert got.query == {"packer": PACKER}


def test_a_cancelled_pack_sends_the_cancel_template_or_else_the_stop(rp: Harness, fake: FakeRealPacking) -> None:
    cancel = RequestTemplate("GET", "/cancel", {"waybill": "{waybill}", "why": "{outcome}"})
    with_cancel = rp.recorder(cancel=cancel)
    with_cancel.start(job("k1"))
    with_cancel.stop("k1", PackOutcome.CANCELLED)
    plain = rp.recorder()
    plain.start(job("k2", "602"))
    plain.stop("k2", PackOutcome.TIMED_OUT)
    finished = rp.wait_for(RecordingFinished, 2)
    assert {(e.pack_key, e.outcome) for e in finished} == {("k1", PackOutcome.CANCELLED),  # type: ignore[union-attr]
                                                            ("k2", PackOutcome.TIMED_OUT)}
    by_path = {r.path: r.query for r in fake.received}
    assert by_path["/cancel"] == {"waybill": "601000000011", "why": "cancelled"}
    assert by_path["/stop"] == {"waybill": "602"}


def test_a_new_start_stops_the_pack_still_recording(rp: Harness, fake: FakeRealPacking) -> None:
    rec = rp.recorder()
    rec.start(job("k1", "601"))
    rec.start(job("k2", "602"))
    rec.stop("k1", PackOutcome.COMPLETED)  # stale: k1 was already ended; ignored
    finished = rp.wait_for(RecordingFinished)
    wait_until(lambda: len(fake.received) == 3, what="three requests")
    assert [(r.path, r.query["waybill"]) for r in fake.received] == [("/start", "601"), ("/stop", "601"),
                                                                      ("/start", "602")]
    assert finished[0].outcome == PackOutcome.ABANDONED  # type: ignore[union-attr]
    assert rec.state == RecorderState.RECORDING


def test_an_error_answer_is_retried_once_and_then_accepted(rp: Harness, fake: FakeRealPacking) -> None:
    rec = rp.recorder()
    fake.fail_next(1, 500)
    rec.start(job())
    rp.wait_for(RecordingStarted)
    assert fake.paths() == ["/start", "/start"]
    assert not rp.of(RecordingFailed)
    assert rec.ready() == (True, "") and rec.state == RecorderState.RECORDING


def test_two_error_answers_fail_the_recording(rp: Harness, fake: FakeRealPacking,
                                              expect_warnings: pytest.LogCaptureFixture) -> None:
    rec = rp.recorder()
    fake.fail_next(2, 500, "camera busy")
    rec.start(job())
    failed = rp.wait_for(RecordingFailed)[0]
    assert isinstance(failed, RecordingFailed)
    assert (failed.pack_key, failed.code) == ("k1", "recorder_error")
    assert "HTTP 500" in failed.detail and "camera busy" in failed.detail and "/start" in failed.detail
    assert "거부" in failed.detail and "refused" in failed.detail
    assert fake.paths() == ["/start", "/start"]
    assert rec.state == RecorderState.FAILED
    assert rec.ready() == (False, "recorder_error")
    warnings = [r for r in expect_warnings.records
                if r.name == "packdesk.recorder.realpacking" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "601000000011" in warnings[0].getMessage()

    # the pack goes on; its stop is still sent (in case the start did arrive) but not reported twice
    rec.stop("k1", PackOutcome.COMPLETED)
    wait_until(lambda: fake.paths()[-1:] == ["/stop"], what="the stop")
    wait_until(lambda: rec.state != RecorderState.FAILED, what="the stop to clear the failure")
    assert not rp.of(RecordingFinished) and len(rp.of(RecordingFailed)) == 1


def test_a_timeout_is_retried_once_then_reported_unreachable(rp: Harness, fake: FakeRealPacking,
                                                             expect_warnings: pytest.LogCaptureFixture) -> None:
    rec = rp.recorder(timeout_s=0.3)
    fake.delay_next(1.0, count=2)
    t0 = time.monotonic()
    rec.start(job())
    failed = rp.wait_for(RecordingFailed)[0]
    assert isinstance(failed, RecordingFailed)
    assert failed.code == "recorder_unreachable"
    assert "0.3" in failed.detail and "Timeout" in failed.detail
    assert 0.6 <= time.monotonic() - t0 < 1.8  # two 0.3 s timeouts, not two 1 s delays
    assert fake.paths() == ["/start", "/start"]
    assert rec.ready() == (False, "recorder_unreachable")


def test_nothing_listening_is_unreachable_and_recovers_when_the_program_returns(
        rp: Harness, fake: FakeRealPacking, expect_warnings: pytest.LogCaptureFixture) -> None:
    rec = rp.recorder()
    fake.go_down()
    rec.start(job())
    failed = rp.wait_for(RecordingFailed)[0]
    assert isinstance(failed, RecordingFailed)
    assert (failed.code, failed.pack_key) == ("recorder_unreachable", "k1")
    assert f"127.0.0.1:{fake.port}" in failed.detail and "connection" in failed.detail
    assert rec.state == RecorderState.FAILED and rec.ready() == (False, "recorder_unreachable")

    fake.come_up()  # RealPacking is started again; ready() probes in the background until it answers
    wait_until(lambda: rec.ready() == (True, ""), what="the probe to see RealPacking back")
    assert fake.paths()[:1] == ["/"]
    rec.stop("k1", PackOutcome.COMPLETED)  # still sent, in case the start did arrive; not reported twice
    rec.start(job("k2"))
    assert rp.wait_for(RecordingStarted)[0].pack_key == "k2"
    assert fake.paths()[-2:] == ["/stop", "/start"]
    assert len(rp.of(RecordingFailed)) == 1 and not rp.of(RecordingFinished)


def test_start_and_stop_return_at_once_while_the_program_is_slow(rp: Harness, fake: FakeRealPacking) -> None:
    rec = rp.recorder()
    fake.delay_next(1.0, count=2)
    t0 = time.monotonic()
    rec.start(job())
    t1 = time.monotonic()
    rec.stop("k1", PackOutcome.COMPLETED)
    t2 = time.monotonic()
    assert t1 - t0 < 0.05 and t2 - t1 < 0.05
    rp.wait_for(RecordingFinished)
    assert fake.paths() == ["/start", "/stop"]


def test_connection_test(rp: Harness, fake: FakeRealPacking) -> None:
    rec = rp.recorder()
    ok, detail = rec.test_connection()
    assert ok and "HTTP 200" in detail and "연결됨" in detail and "Connected" in detail
    assert [(r.method, r.path) for r in fake.received] == [("GET", "/")]  # nothing that starts filming

    fake.fail_next(1, 404, "no page")
    ok, detail = probe_connection(RealPackingConfig(port=fake.port))
    assert ok and "HTTP 404" in detail  # something answers: the listener just has no page there

    fake.fail_next(1, 503, "busy")
    ok, detail = rec.test_connection()
    assert not ok and "HTTP 503" in detail and "busy" in detail
    assert not rp.of(RecordingFailed) and rec.state == RecorderState.IDLE  # a test is not a recording


def test_connection_test_with_nothing_listening_or_no_answer(fake: FakeRealPacking) -> None:
    fake.delay_next(1.0)
    ok, detail = probe_connection(RealPackingConfig(port=fake.port, timeout_s=0.2))
    assert not ok and "응답 없음" in detail and "No answer" in detail
    fake.go_down()
    ok, detail = probe_connection(RealPackingConfig(port=fake.port))
    assert not ok and "연결할 수 없습니다" in detail and "Cannot connect" in detail and str(fake.port) in detail
    ok, detail = probe_connection(RealPackingConfig(host="[::1", port=fake.port))
    assert not ok and "Request failed" in detail and "invalid URL" in detail


def test_an_invalid_host_fails_the_recording_instead_of_the_worker(
        rp: Harness, expect_warnings: pytest.LogCaptureFixture) -> None:
    rec = rp.recorder(host="[::1")
    rec.start(job())
    failed = rp.wait_for(RecordingFailed)[0]
    assert isinstance(failed, RecordingFailed) and failed.code == "recorder_error" and "invalid URL" in failed.detail
    assert rec.ready() == (False, "recorder_error")


def test_close_sends_what_is_queued_and_stops_the_pack(rp: Harness, fake: FakeRealPacking) -> None:
    rec = rp.recorder()
    fake.delay_next(0.2, count=2)
    rec.start(job("k1", "601"))
    rec.stop("k1", PackOutcome.COMPLETED)
    rec.start(job("k2", "602"))  # still recording when the app closes: stopped as abandoned
    rec.close()
    assert not rec._thread.is_alive()
    assert [(r.path, r.query["waybill"]) for r in fake.received] == [
        ("/start", "601"), ("/stop", "601"), ("/start", "602"), ("/stop", "602")]
    assert [(e.pack_key, e.outcome) for e in rp.of(RecordingFinished)] == [  # type: ignore[union-attr]
        ("k1", PackOutcome.COMPLETED), ("k2", PackOutcome.ABANDONED)]
    rec.start(job("k3"))  # after close: nothing sent, nothing raised
    rec.close()
    assert len(fake.received) == 4


def test_close_waits_a_bounded_time(rp: Harness, fake: FakeRealPacking,
                                    expect_warnings: pytest.LogCaptureFixture) -> None:
    rec = rp.recorder(timeout_s=5.0)
    fake.delay_next(5.0, count=3)
    rec.start(job())
    wait_until(lambda: len(fake.received) == 1, what="the start to arrive")
    t0 = time.monotonic()
    rec.close(timeout=0.3)
    assert time.monotonic() - t0 < 1.0
    assert any("not sent" in r.getMessage() for r in expect_warnings.records)
    fake.go_down()  # the program closes: the request in flight ends, the worker drops the rest and exits
    wait_until(lambda: not rec._thread.is_alive(), 5, "the worker to exit")
    assert fake.paths() == ["/start"] and not rp.of(RecordingFinished) and not rp.of(RecordingFailed)


def test_a_value_the_charset_cannot_write_is_a_recorder_error(rp: Harness, fake: FakeRealPacking,
                                                              expect_warnings: pytest.LogCaptureFixture) -> None:
    rec = rp.recorder(start=RequestTemplate("GET", "/start", {"packer": "{packer}"}, charset="cp949"))
    rec.start(job(packer="김민수😀"))
    failed = rp.wait_for(RecordingFailed)[0]
    assert isinstance(failed, RecordingFailed) and failed.code == "recorder_error"
    assert fake.received == []


def test_template_lines_and_validation() -> None:
    t = RequestTemplate.from_line("get /rec/start?barcode={waybill}&worker={packer}&flag=")
    assert t == RequestTemplate("GET", "/rec/start", {"barcode": "{waybill}", "worker": "{packer}", "flag": ""})
    assert RequestTemplate.from_line(t.as_line()) == t
    assert RequestTemplate.from_line("POST /x").as_line() == "POST /x"
    with pytest.raises(ValueError, match="GET or POST"):
        RequestTemplate("DELETE", "/x")
    with pytest.raises(ValueError, match="start with"):
        RequestTemplate("GET", "x")
    with pytest.raises(LookupError):
        RequestTemplate(charset="no-such-charset")


def test_marker_path_is_not_a_file_and_keeps_one_part() -> None:
    assert marker_path("A/B\\C") == Path("realpacking:A_B_C")
    assert len(marker_path("A/B").parts) == 1


def test_an_emit_handler_that_raises_does_not_stop_the_worker(fake: FakeRealPacking,
                                                              expect_warnings: pytest.LogCaptureFixture) -> None:
    seen: list[RecorderEvent] = []

    def emit(ev: RecorderEvent) -> None:
        seen.append(ev)
        if isinstance(ev, RecordingStarted):
            raise RuntimeError("handler bug")

    rec = RealPackingRecorder(RealPackingConfig(port=fake.port), emit=emit)
    rec.start(job())
    rec.stop("k1", PackOutcome.COMPLETED)
    rec.close()
    assert [type(e) for e in seen] == [RecordingStarted, RecordingFinished]
    assert any(r.levelno == logging.ERROR for r in expect_warnings.records)



def test_a_failed_stop_is_reported(rp: Harness, fake: FakeRealPacking,
                                   expect_warnings: pytest.LogCaptureFixture) -> None:
    rec = rp.recorder()
    rec.start(job())
    rp.wait_for(RecordingStarted)
    fake.fail_next(2, 500)
    rec.stop("k1", PackOutcome.COMPLETED)
    failed = rp.wait_for(RecordingFailed)[0]
    assert isinstance(failed, RecordingFailed) and (failed.pack_key, failed.code) == ("k1", "recorder_error")
    assert "/stop" in failed.detail and not rp.of(RecordingFinished)


def test_an_injected_transport_a_plain_text_body_and_a_cp949_answer(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content="녹화 시작".encode("cp949"))  # no charset, as an old program might

    transport = httpx.MockTransport(answer)
    events: list[RecorderEvent] = []
    start = RequestTemplate("POST", "/start", body="START {waybill} {packer}", content_type="text/plain")
    rec = RealPackingRecorder(RealPackingConfig(start=start), emit=events.append, transport=transport)
    assert rec.test_connection()[0]  # lends the transport to a short-lived client without closing it
    rec.start(job())
    wait_until(lambda: any(isinstance(e, RecordingStarted) for e in events), what="the start")
    rec.close()
    assert seen[1].content.decode() == f"START 601000000011 {PACKER}"
    assert seen[1].headers["content-type"] == "text/plain; charset=utf-8"
    assert any("녹화 시작" in r.getMessage() for r in caplog.records)
