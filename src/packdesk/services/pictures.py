"""Product pictures on this PC: the marketplaces' representative images and the photos a supervisor sets.

Kept in one folder under the data folder (``AppDirs.data / "pictures"``), each file named by a hash:
- a marketplace image by its URL's SHA-256 (a seller who uploads another picture gets a new URL, so the
  next catalogue sync fetches the new file and the old one is simply no longer named);
- an item's own photo by its content's SHA-256 (``own-<hash>.<ext>``), stored in ``items.image_path``: it
  wins over the marketplace's picture on the station.

Downloads go over the channels' HTTP layer (``channels/http.HttpClient``: timeouts, a rate limit per host,
retries), once per URL: a file on disk is never fetched again. A failure is logged (the URL's host and the
reason: a product picture holds no buyer's data) and skipped; it is tried again at the next sync. Nothing
here raises into a sync. Reading the files into thumbnails is the screens' business (``ui/thumbnails.py``),
never on the scan's path.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from packdesk.channels.base import ChannelError
from packdesk.channels.http import HttpClient, RetryPolicy
from packdesk.core import models as m
from packdesk.core.errors import KnownError

log = logging.getLogger("packdesk.pictures")

FOLDER = "pictures"
MAX_BYTES = 8 * 1024 * 1024  # a representative image is well under this; more is not a picture
OWN_PREFIX = "own-"
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")
# what a picture's first bytes say it is (the URL's ending and the server's content type can both be wrong)
_MAGIC = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"GIF8", ".gif"), (b"BM", ".bmp"))


def picture_kind(data: bytes) -> str | None:
    """The file ending for these bytes, or None when they are no picture PackDesk can show."""
    for magic, suffix in _MAGIC:
        if data.startswith(magic):
            return suffix
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


class PictureError(KnownError):
    """A picture that cannot be used: a file a supervisor chose that cannot be read (picture_unreadable) or
    is no picture (picture_not_image); a download that is none (picture_url, picture_too_big, …)."""

    code = "picture_not_image"


class PictureCache:
    def __init__(self, folder: Path, client_factory: Callable[[str], HttpClient] | None = None) -> None:
        """``client_factory``: an ``HttpClient`` for a ``scheme://host`` (tests hand in one with a fake clock)."""
        self.folder = folder
        self._client_factory = client_factory or (lambda base: HttpClient(base, retry=RetryPolicy(attempts=2),
                                                                           rate=10.0, burst=10.0))

    @staticmethod
    def url_key(url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()[:40]

    def path_for_url(self, url: str) -> Path | None:
        """The cached file of this URL's picture, if it was downloaded."""
        if not url:
            return None
        key = self.url_key(url)
        for suffix in PICTURE_SUFFIXES:
            path = self.folder / f"{key}{suffix}"
            if path.is_file():
                return path
        return None

    def own_path(self, name: str) -> Path | None:
        """An item's own photo (``items.image_path``: a file name in this folder), if this PC has it."""
        if not name:
            return None
        path = self.folder / Path(name).name  # a name, never a path out of the folder
        return path if path.is_file() else None

    def picture_for(self, own: str, url: str) -> Path | None:
        """What the station shows for an item: its own photo, else the marketplace's picture, else nothing."""
        return self.own_path(own) or self.path_for_url(url)

    # ------------------------------------------------------------------ marketplace pictures

    def fetch(self, urls: Iterable[str]) -> int:
        """Download the pictures not cached yet; returns how many were stored. Never raises: a picture that
        cannot be had is logged and tried again at the next sync."""
        wanted = [u for u in dict.fromkeys(urls) if u and self.path_for_url(u) is None]
        if not wanted:
            return 0
        clients: dict[str, HttpClient] = {}
        stored = 0
        try:
            for url in wanted:
                try:
                    stored += self._download(url, clients)
                except Exception as e:  # a picture must never stop a sync
                    log.warning("product picture from %s not stored: %s", urlsplit(url).netloc or "?", _why(e))
        finally:
            for client in clients.values():
                client.close()
        if stored:
            log.info("product pictures: %d stored in %s", stored, self.folder)
        return stored

    def _download(self, url: str, clients: dict[str, HttpClient]) -> int:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PictureError("picture_url", detail="not an http(s) URL")
        base = f"{parts.scheme}://{parts.netloc}"
        if base not in clients:
            clients[base] = self._client_factory(base)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        data = clients[base].request("GET", target, api="picture").content
        if len(data) > MAX_BYTES:
            raise PictureError("picture_too_big", detail=f"{len(data)} bytes")
        suffix = picture_kind(data)
        if suffix is None:
            raise PictureError("picture_not_image", detail="the reply is not a picture")
        self._write(self.folder / f"{self.url_key(url)}{suffix}", data)
        return 1

    # ------------------------------------------------------------------ a supervisor's photo

    def add_own(self, source: Path) -> str:
        """Copy a photo a supervisor chose into the folder; returns its name for ``items.image_path``.
        Raises ``PictureError`` when the file cannot be read or is no picture."""
        try:
            data = source.read_bytes()
        except OSError as e:
            raise PictureError("picture_unreadable", detail=type(e).__name__, file=source.name) from None
        suffix = picture_kind(data)
        if suffix is None or len(data) > MAX_BYTES:
            raise PictureError("picture_not_image", detail=f"{source.suffix} {len(data)} bytes", file=source.name)
        name = f"{OWN_PREFIX}{hashlib.sha256(data).hexdigest()[:40]}{suffix}"
        if not (self.folder / name).is_file():
            self._write(self.folder / name, data)
        return name

    def _write(self, path: Path, data: bytes) -> None:
        """Whole or not at all: a half-written picture is never read as one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _why(e: BaseException) -> str:
    if isinstance(e, ChannelError):
        return f"{e.code} {e.params.get('status', '')}".strip()
    if isinstance(e, KnownError):
        return e.code
    return type(e).__name__


def picture_folder(data: Path) -> Path:
    return data / FOLDER


def set_item_photo(s: Session, item_id: int, name: str) -> str:
    """An item's own photo (a name ``PictureCache.add_own`` gave; "" clears it): it wins over the marketplace's
    picture on the station. Returns the item's name (for the message)."""
    item = s.get(m.Item, item_id)
    if item is None:
        raise PictureError("picture_item_gone", detail=f"item {item_id}")
    item.image_path = name
    return item.name

