"""A serial barcode scanner played through a real pseudo-terminal pair behind a stable symlink."""

from __future__ import annotations

import fcntl
import os
import struct
import termios
import tty
from pathlib import Path

from tests.waiting import wait_until


class FakeScanner:
    """A pty pair behind a stable symlink; write() to the master is the scanner sending bytes."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master: int | None = None
        self.slave: int | None = None

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        self.master, self.slave = master, slave
        # Re-point atomically, like udev replacing /dev/serial/by-id/... on re-enumeration.
        tmp = self.link.with_name(self.link.name + ".new")
        tmp.symlink_to(os.ttyname(slave))
        os.replace(tmp, self.link)

    def unplug(self) -> None:
        # Link first: the scanner must never reopen a dangling link onto a reused /dev/pts/N.
        self.link.unlink(missing_ok=True)
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def write(self, data: bytes) -> None:
        assert self.master is not None, "not plugged"
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view):]

    def unread_bytes(self) -> int:
        """Bytes still in the tty input queue, i.e. not yet read by the scanner thread."""
        assert self.slave is not None, "not plugged"
        raw = fcntl.ioctl(self.slave, termios.FIONREAD, b"\0\0\0\0")
        return int(struct.unpack("i", raw)[0])

    def wait_consumed(self) -> None:
        wait_until(lambda: self.unread_bytes() == 0, what="scanner to read the bytes")
