"""The buyer's video link: a pack's video in the seller's own S3-compatible storage (AWS S3, Naver Cloud Object
Storage, Cloudflare R2, MinIO) and a link to it that expires.

- What is uploaded is the recording as an .mp4 every browser plays: the review's packet copy
  (``review.playable_copy``: no re-encoding, ``faststart`` so a phone starts playing before the end arrives).
- The link is a presigned GET of that one object (AWS Signature Version 4 in the query string, at most 7 days):
  it opens that video and nothing else; the bucket stays private, its other objects answer 403 to anyone
  without the keys.
- The object's name is opaque: ``<prefix><32 hex>.mp4``, a hash of the recording's SHA-256 (the index's),
  never a waybill, an order number or anything of the buyer. The same recording always gets the same name, so
  a second click finds it there (nothing uploaded twice) and a restarted upload finds its own parts.
- A video over one part (``part_size``, 8 MiB; S3's floor is 5 MiB) goes up by multipart upload and is
  resumable without anything stored here: after a kill or an outage the next try finds the unfinished upload
  by its name (``ListMultipartUploads``), reads the parts already there (``ListParts``) and sends only those
  whose MD5 (their ETag) differs from this PC's bytes. The object appears only when the last part is in
  (``CompleteMultipartUpload``), so an object found by name is a complete one.
- ``max_bytes_per_s`` bounds the upload's bandwidth (the shop's line is shared with the marketplaces' APIs):
  reading the bytes is throttled, and botocore reads a part once to hash it and once to send it, so the wire
  sees at most the limit.

Errors are ``VideoLinkError`` with a code for people: the keys refused, the storage unreachable, the bucket
missing, not set up. Runs on a thread of its own (``ui/ops.run``), never the UI's or the station's DB thread;
nothing here imports Qt. Keys come from the OS keyring (``services/secrets.py``), never settings or logs.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select

from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import RecordingStatus
from packdesk.core.errors import KnownError
from packdesk.core.models import utcnow
from packdesk.services import review
from packdesk.services.secrets import get_named_secret, set_named_secret

log = logging.getLogger("packdesk.video_link")

ACCESS_KEY_SECRET = "video-storage-access-key"   # the keyring's names (services/secrets.py)
SECRET_KEY_SECRET = "video-storage-secret-key"
MIN_PART = 5 * 1024 * 1024       # S3's smallest part but the last
PART_SIZE = 8 * 1024 * 1024
MAX_LIFETIME = timedelta(days=7)  # a Signature Version 4 URL lasts at most a week


class VideoLinkError(KnownError):
    code = "video_link_failed"


@dataclass(frozen=True)
class Storage:
    """Where videos go. ``secret_key`` is never printed (``repr``) nor logged."""

    endpoint: str            # https://kr.object.ncloudstorage.com, https://<account>.r2.cloudflarestorage.com, …
    bucket: str
    region: str
    access_key: str
    secret_key: str = field(repr=False)
    prefix: str = "packdesk/"


def save_keys(access_key: str, secret_key: str) -> None:
    """Into the OS keyring; raises ``SecretStoreUnavailable`` where the PC has none."""
    set_named_secret(ACCESS_KEY_SECRET, access_key.strip())
    set_named_secret(SECRET_KEY_SECRET, secret_key.strip())


def storage(endpoint: str, bucket: str, region: str, prefix: str = "packdesk/") -> Storage:
    """The storage the settings name, with its keys from the keyring. Refused when anything is missing."""
    access, secret = get_named_secret(ACCESS_KEY_SECRET), get_named_secret(SECRET_KEY_SECRET)
    if not (endpoint.strip() and bucket.strip() and access and secret):
        raise VideoLinkError("video_link_not_set_up", detail="endpoint, bucket or keys missing")
    return Storage(endpoint.strip(), bucket.strip(), region.strip() or "us-east-1", access, secret, prefix)


def object_key(prefix: str, sha256: str) -> str:
    """An opaque name derived from the video's own hash: nothing of the waybill or the buyer in it."""
    digest = hashlib.sha256(b"packdesk-video-link\0" + sha256.encode("ascii")).hexdigest()[:32]
    return f"{prefix}{digest}.mp4"


@dataclass(frozen=True)
class Upload:
    key: str
    size: int                # bytes of the .mp4 in the storage
    parts_sent: int = 0      # 0 and ``already_there``: a second click sent nothing
    parts_kept: int = 0      # parts a killed upload had sent, found there and not sent again
    already_there: bool = False


@dataclass(frozen=True)
class VideoLink:
    url: str
    key: str
    expires_at: datetime     # aware, UTC
    upload: Upload


# ------------------------------------------------------------------ the storage's client and its errors

def _client(st: Storage) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=st.endpoint, region_name=st.region, aws_access_key_id=st.access_key,
        aws_secret_access_key=st.secret_key,
        # path style: every S3-compatible service takes it (a bucket name with dots breaks virtual hosts' TLS)
        # checksums only where S3 requires them: botocore 1.36+ otherwise adds CRC32 headers or aws-chunked
        # trailers that several S3-compatible services (older MinIO, Naver Cloud, R2 at first) refuse
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=10,
                      read_timeout=60, retries={"max_attempts": 3, "mode": "standard"},
                      request_checksum_calculation="when_required", response_checksum_validation="when_required"))


_KEYS_REFUSED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "403",
                 "AuthorizationHeaderMalformed"}
_NO_BUCKET = {"NoSuchBucket", "404"}


def _known(e: Exception, st: Storage) -> KnownError:
    """boto3's exception as one of ours (people act on the code; the log gets the rest, no keys in it)."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    host = st.endpoint
    if isinstance(e, ClientError):
        code = str(e.response.get("Error", {}).get("Code", ""))
        detail = f"{e.operation_name}: {code} {e.response.get('Error', {}).get('Message', '')}".strip()
        if code in _KEYS_REFUSED:
            return VideoLinkError("video_link_keys_refused", detail=detail, endpoint=host)
        if code in _NO_BUCKET:
            return VideoLinkError("video_link_bucket_missing", detail=detail, bucket=st.bucket, endpoint=host)
        return VideoLinkError("video_link_failed", detail=detail, error=code or type(e).__name__)
    if isinstance(e, EndpointConnectionError | BotoCoreError):
        return VideoLinkError("video_link_unreachable", detail=f"{type(e).__name__}: {e}", endpoint=host)
    if isinstance(e, ValueError):  # an endpoint that is not a URL
        return VideoLinkError("video_link_not_set_up", detail=f"{type(e).__name__}: {e}")
    return VideoLinkError("video_link_failed", detail=f"{type(e).__name__}: {e}", error=type(e).__name__)


def _call(st: Storage, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except KnownError:
        raise
    except Exception as e:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(e, BotoCoreError | ClientError | ValueError):
            raise _known(e, st) from None
        raise


def check(st: Storage) -> None:
    """The settings' "test connection": the keys sign, the bucket is there. Raises ``VideoLinkError``."""
    client = _client(st)
    _call(st, lambda: client.head_bucket(Bucket=st.bucket))


# ------------------------------------------------------------------ bandwidth

class Throttle:
    """At most ``rate`` bytes a second on average, with a burst of a quarter second (a token bucket).
    ``rate`` None: no limit. Shared by every upload of one uploader."""

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.clock, self.sleep = clock, sleep
        self._lock = threading.Lock()
        self._tokens = (rate or 0) / 4
        self._at = clock()

    def take(self, n: int) -> None:
        if not self.rate or n <= 0:
            return
        with self._lock:
            now = self.clock()
            self._tokens = min(self.rate / 4, self._tokens + (now - self._at) * self.rate) - n
            self._at = now
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self.sleep(wait)


class _Part:
    """One part of the file as botocore reads it (seek, read, tell), through the throttle."""

    def __init__(self, f: BinaryIO, start: int, size: int, throttle: Throttle,
                 cancel: threading.Event | None) -> None:
        self.f, self.start, self.size, self.throttle, self.cancel = f, start, size, throttle, cancel
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        if self.cancel is not None and self.cancel.is_set():
            raise VideoLinkError("video_link_cancelled", detail="upload stopped")
        n = self.size - self.pos if n is None or n < 0 else min(n, self.size - self.pos)
        if n <= 0:
            return b""
        self.throttle.take(n)
        self.f.seek(self.start + self.pos)
        data = self.f.read(n)
        self.pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else self.pos + offset if whence == 1 else self.size + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def __len__(self) -> int:
        return self.size


# ------------------------------------------------------------------ upload

@dataclass(frozen=True)
class Source:
    """What is uploaded of a recording: its file and its hash (the index's)."""

    recording_id: int
    path: Path
    sha256: str


def source(db: Database, recording_id: int) -> Source:
    """The recording's file and hash, read in one short session; refused for a video still being recorded,
    deleted by retention, or missing on this PC."""
    with db.session() as s:
        row = s.execute(select(m.Recording.path, m.Recording.sha256, m.Recording.status, m.Recording.deleted_at)
                        .where(m.Recording.id == recording_id)).one_or_none()
    if row is None:
        raise review.ReviewError("recording_not_found", recording_id=recording_id)
    path = Path(row.path)
    if row.deleted_at is not None or not path.is_file():
        raise review.ReviewError("recording_file_missing", detail=str(path), path=str(path))
    if row.status is RecordingStatus.RECORDING or not row.sha256:
        raise VideoLinkError("video_link_not_finished", detail=f"recording {recording_id} has no hash yet")
    return Source(recording_id, path, row.sha256)


Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


def upload(st: Storage, src: Source, work_dir: Path, *, part_size: int = PART_SIZE,
           throttle: Throttle | None = None, progress: Progress | None = None,
           cancel: threading.Event | None = None) -> Upload:
    """The recording's .mp4 into the bucket under ``object_key``, unless it is there already; a killed or
    failed upload of it before is resumed, not restarted (module docstring)."""
    if part_size < MIN_PART:
        raise ValueError(f"part_size {part_size} is under S3's {MIN_PART}")
    throttle = throttle or Throttle(None)
    key = object_key(st.prefix, src.sha256)
    client = _client(st)
    there = _head(st, client, key)
    if there is not None:
        log.info("video of recording %s is in the storage already (%s, %d bytes)", src.recording_id, key, there)
        return Upload(key, there, already_there=True)
    mp4 = work_dir / f"{key.rsplit('/', 1)[-1]}"
    if not mp4.is_file():  # a killed upload's copy is kept and sent on (its parts' MD5s are checked anyway)
        work_dir.mkdir(parents=True, exist_ok=True)
        tmp = mp4.with_suffix(".part.mp4")
        review.playable_copy(src.path, tmp)
        tmp.replace(mp4)
    size = mp4.stat().st_size
    if size <= part_size:
        with mp4.open("rb") as f:
            body = _Part(f, 0, size, throttle, cancel)
            _call(st, lambda: client.put_object(Bucket=st.bucket, Key=key, Body=body, ContentType="video/mp4",
                                                Metadata={"source-sha256": src.sha256}))
        result = Upload(key, size, parts_sent=1)
    else:
        result = _multipart(st, client, key, src, mp4, size, part_size, throttle, progress, cancel)
    if progress:
        progress(size, size)
    mp4.unlink(missing_ok=True)
    log.info("video of recording %s uploaded as %s: %d bytes, %d parts sent, %d kept from before",
             src.recording_id, key, size, result.parts_sent, result.parts_kept)
    return result


def _head(st: Storage, client: Any, key: str) -> int | None:
    from botocore.exceptions import ClientError

    try:
        return int(client.head_object(Bucket=st.bucket, Key=key)["ContentLength"])
    except ClientError as e:
        if str(e.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound"):
            # a HEAD's 404 is the object's or the bucket's: say which
            _call(st, lambda: client.head_bucket(Bucket=st.bucket))
            return None
        raise _known(e, st) from None
    except Exception as e:
        raise _known(e, st) from None


def _multipart(st: Storage, client: Any, key: str, src: Source, mp4: Path, size: int, part_size: int,
               throttle: Throttle, progress: Progress | None, cancel: threading.Event | None) -> Upload:
    uploads = _call(st, lambda: client.list_multipart_uploads(Bucket=st.bucket, Prefix=key)).get("Uploads", [])
    mine = sorted((u for u in uploads if u.get("Key") == key), key=lambda u: u.get("Initiated") or 0)
    if mine:
        upload_id = mine[-1]["UploadId"]
        have = _parts(st, client, key, upload_id)
    else:
        upload_id = _call(st, lambda: client.create_multipart_upload(
            Bucket=st.bucket, Key=key, ContentType="video/mp4",
            Metadata={"source-sha256": src.sha256}))["UploadId"]
        have = {}
    done: list[dict[str, Any]] = []
    sent = kept = 0
    with mp4.open("rb") as f:
        for number, start in enumerate(range(0, size, part_size), start=1):
            length = min(part_size, size - start)
            f.seek(start)
            etag = '"' + hashlib.md5(f.read(length), usedforsecurity=False).hexdigest() + '"'
            if have.get(number) == (etag, length):
                kept += 1
            else:
                body = _Part(f, start, length, throttle, cancel)
                answer = _call(st, partial(client.upload_part, Bucket=st.bucket, Key=key, UploadId=upload_id,
                                           PartNumber=number, Body=body))
                etag = answer["ETag"]
                sent += 1
            done.append({"PartNumber": number, "ETag": etag})
            if progress:
                progress(start + length, size)
    _call(st, lambda: client.complete_multipart_upload(Bucket=st.bucket, Key=key, UploadId=upload_id,
                                                       MultipartUpload={"Parts": done}))
    return Upload(key, size, parts_sent=sent, parts_kept=kept)


def _parts(st: Storage, client: Any, key: str, upload_id: str) -> dict[int, tuple[str, int]]:
    """Part number -> (ETag, size) of what an earlier try left there."""
    out: dict[int, tuple[str, int]] = {}
    marker = 0
    while True:
        page = _call(st, partial(client.list_parts, Bucket=st.bucket, Key=key, UploadId=upload_id,
                                 PartNumberMarker=marker))
        for p in page.get("Parts", []):
            out[int(p["PartNumber"])] = (str(p["ETag"]), int(p["Size"]))
        if not page.get("IsTruncated"):
            return out
        marker = int(page["NextPartNumberMarker"])


# ------------------------------------------------------------------ the link

def link(st: Storage, key: str, lifetime: timedelta, *, now: Callable[[], datetime] = utcnow) -> tuple[str, datetime]:
    """A presigned GET of ``key`` alone, valid for ``lifetime`` (1 s to 7 days). Signing is local: no call."""
    seconds = int(lifetime.total_seconds())
    if not 1 <= seconds <= int(MAX_LIFETIME.total_seconds()):
        raise VideoLinkError("video_link_lifetime", detail=f"{seconds} s", days=MAX_LIFETIME.days)
    client = _client(st)
    at = now()
    url = _call(st, lambda: client.generate_presigned_url(
        "get_object", Params={"Bucket": st.bucket, "Key": key, "ResponseContentType": "video/mp4"},
        ExpiresIn=seconds))
    return str(url), at + timedelta(seconds=seconds)


def video_link(db: Database, recording_id: int, st: Storage, lifetime: timedelta, work_dir: Path, *,
               part_size: int = PART_SIZE, throttle: Throttle | None = None, progress: Progress | None = None,
               cancel: threading.Event | None = None) -> VideoLink:
    """The review's "video link" button: upload if needed, then a fresh link."""
    src = source(db, recording_id)
    done = upload(st, src, work_dir, part_size=part_size, throttle=throttle, progress=progress, cancel=cancel)
    url, expires = link(st, done.key, lifetime)
    return VideoLink(url, done.key, expires, done)
