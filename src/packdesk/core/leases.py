"""Leases: one station at a time runs a warehouse-wide job. Same atomic pattern as waybill claims: insert
if absent, else take over only if it is ours or has lapsed — decided by the database.

A lease also says that a piece of work has a live process behind it (a collection run holds ``run:<id>``
while it goes on): held by ``PROCESS``, it is known to be orphaned as soon as that process is gone from this
PC (``process_gone``), and on any PC once it lapses."""

from __future__ import annotations

import os
import socket
import sys
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from packdesk.core import models as m
from packdesk.core.db import changed_rows, insert_new


def acquire(s: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Hold (or keep holding) the lease for ``ttl``; False while another station holds it."""
    values = {"name": name, "holder": holder, "acquired_at": now, "expires_at": now + ttl}
    if insert_new(s, m.Lease, values, "name"):
        return True
    L = m.Lease
    took = changed_rows(s.execute(update(L).where(L.name == name, or_(L.holder == holder, L.expires_at < now))
                                  .values(holder=holder, expires_at=now + ttl,
                                          acquired_at=now)))
    return took == 1


def holder(s: Session, name: str, now: datetime) -> str | None:
    row = s.execute(select(m.Lease.holder, m.Lease.expires_at).where(m.Lease.name == name)).first()
    return row.holder if row and row.expires_at >= now else None


def release(s: Session, name: str, holder_name: str) -> None:
    s.execute(delete(m.Lease).where(m.Lease.name == name, m.Lease.holder == holder_name))


# this process, as a lease holder: "<pid>@<host name>"
PROCESS = f"{os.getpid()}@{socket.gethostname()}"[:64]


def process_gone(holder_name: str) -> bool:
    """True when ``holder_name`` is a ``PROCESS`` of this PC that no longer runs. Another PC's process, or a
    holder that is not a process (a station name), cannot be told from here: False."""
    pid_text, _, host = holder_name.partition("@")
    if not pid_text.isdigit() or host != PROCESS.partition("@")[2] or holder_name == PROCESS:
        return False
    return not _pid_alive(int(pid_text))


def _pid_alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would end the process there
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() != 87  # ERROR_INVALID_PARAMETER: no such process
        try:
            code = wintypes.DWORD()
            return not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
