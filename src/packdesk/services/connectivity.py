"""Is the station online? A probe on a timer thread, and jobs that pause while offline and catch up after.

Packing never needs the network; collecting and uploading do. Rather than let every job fail, retry and
log its way through an outage, one monitor probes the marketplaces' hosts (a TCP connect: cheap, no
request the vendor could count against us) and says online/offline. Jobs wrapped by ``gated`` skip while
offline and run once as soon as the connection is back; listeners (the status bar, the uploader) hear
each change.

Flapping is damped: one failed probe is not yet "offline" (``failures_to_offline``, default 2); one good
probe is "online" again. Offline, the probe runs more often so the catch-up comes quickly.

Qt-free: listeners are called on the monitor's thread; the UI hands them to the main thread itself.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from sqlalchemy import select, text

from packdesk.channels import registry
from packdesk.core import models as m
from packdesk.core.db import Database

log = logging.getLogger("packdesk.connectivity")

Probe = Callable[[], bool]
Listener = Callable[[bool], None]



def tcp_probe(host: str, port: int, timeout: float = 3.0) -> Probe:
    """Can a TCP connection to ``host:port`` be opened within ``timeout``? (DNS included.)"""
    def probe() -> bool:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            return False
    return probe


def account_hosts(db: Database) -> list[tuple[str, int]]:
    """The (host, port) of every active marketplace account: its own address, else its market's
    (``channels/registry.py``); the demo shop and Excel need no network."""
    with db.session() as s:
        rows = s.execute(select(m.ChannelAccount.kind, m.ChannelAccount.options)
                         .where(m.ChannelAccount.active, m.ChannelAccount.paused.is_(False))).all()
    hosts: list[tuple[str, int]] = []
    for kind, options in rows:
        market = registry.market(kind)
        if market is None or not market.network:
            continue
        try:
            opts = json.loads(options or "{}")
        except ValueError:
            opts = {}
        base = opts.get(market.address_option) or market.default_address
        parts = urlsplit(base)
        if parts.hostname:
            host = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
            if host not in hosts:
                hosts.append(host)
    return hosts


def database_probe(db: Database) -> Probe:
    """Does the (shared) database answer ``SELECT 1``? The engine's connect timeout bounds the wait."""
    def probe() -> bool:
        try:
            with db.engine.connect() as c:
                c.execute(text("SELECT 1"))
            return True
        except Exception as e:  # any failure to reach it is "away"; the reason goes to the log
            log.info("database probe failed: %s", type(e).__name__)
            return False
    return probe


def marketplace_probe(db: Database, timeout: float = 3.0) -> Probe:
    """Online when at least one marketplace host answers (one host down is that host's outage, handled by
    retries, not the station's). No network account: nothing to be offline from, always online."""
    def probe() -> bool:
        hosts = account_hosts(db)
        return not hosts or any(tcp_probe(h, p, timeout)() for h, p in hosts)
    return probe


class ConnectivityMonitor:
    def __init__(self, probe: Probe, *, interval: float = 20.0, offline_interval: float = 5.0,
                 failures_to_offline: int = 2,
                 start_thread: Callable[[Callable[[], None]], None] | None = None) -> None:
        """``start_thread`` runs a job made up after an outage (default: a daemon thread of its own)."""
        self.probe = probe
        self.interval = interval
        self.offline_interval = offline_interval
        self.failures_to_offline = max(1, failures_to_offline)
        self._start_thread = start_thread or _daemon
        self._lock = threading.Lock()
        self._online: bool | None = None  # None: not probed yet (counted as online: try, don't wait)
        self._failures = 0
        self._listeners: list[Listener] = []
        self._missed: dict[str, Callable[[], object]] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def online(self) -> bool:
        with self._lock:
            return self._online is not False

    @property
    def known(self) -> bool:
        with self._lock:
            return self._online is not None

    def add_listener(self, listener: Listener) -> None:
        """Called with the state after the first probe and after every change (on the monitor's thread)."""
        with self._lock:
            self._listeners.append(listener)

    def check_now(self) -> bool:
        """Probe once, here; update the state and tell listeners if it changed. Returns the state."""
        try:
            ok = bool(self.probe())
        except Exception:
            log.exception("connectivity probe failed")
            ok = False
        with self._lock:
            before = self._online
            if ok:
                self._failures = 0
                self._online = True
            else:
                self._failures += 1
                if before is None or self._failures >= self.failures_to_offline:
                    self._online = False
            now = self._online
            changed = now != before
            listeners = list(self._listeners) if changed else []
            missed = list(self._missed.items()) if changed and now else []
            if missed:
                self._missed.clear()
        if changed:
            log.info("connectivity: %s", "online" if now else "offline")
        for listener in listeners:
            try:
                listener(bool(now))
            except Exception:
                log.exception("connectivity listener failed")
        for name, fn in missed:
            log.info("back online: running %s, skipped while offline", name)
            self._start_thread(_safe(name, fn))
        return bool(now)

    def gated(self, name: str, fn: Callable[[], object]) -> Callable[[], None]:
        """``fn`` that skips while offline; one skipped run is made up (on its own thread) once back online."""
        def run() -> None:
            if not self.online:
                with self._lock:
                    self._missed[name] = fn
                log.info("offline: %s skipped, it runs when the connection is back", name)
                return
            fn()
        return run

    # -- thread ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="packdesk-connectivity", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Probe now instead of at the next tick (e.g. a network call just failed)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.check_now()
            wait = self.interval if self.online else self.offline_interval
            self._wake.wait(wait)
            self._wake.clear()


def _daemon(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, name="packdesk-catch-up", daemon=True).start()


def _safe(name: str, fn: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except Exception:
            log.exception("%s failed after the connection came back", name)
    return run
