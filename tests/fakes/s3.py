"""A real S3-compatible server on 127.0.0.1 for the video-link tests: moto's S3 (``moto.server``'s WSGI app,
the one its standalone server runs), behind a gate that does what moto leaves out.

moto 5.2.6 checks no signature unless IAM authentication is switched on (then only the ``Authorization``
header's, against IAM users it made up) and never reads ``X-Amz-Expires``: a presigned URL there works with
any key and for ever (seen: an URL made to last 1 s still answered 200 after 2.5 s, and a wrong secret key
wrote objects). Real S3, R2, Naver Cloud and MinIO refuse both, and the product's promises (a link that
expires, wrong keys said as such) rest on that. So the gate checks AWS Signature Version 4 as AWS documents it
("Authenticating Requests: Using the Authorization Header" and "Using Query Parameters"): the access key, the
signature made with the secret key, and a presigned URL's lifetime; it answers as S3 does (403 with
``InvalidAccessKeyId``, ``SignatureDoesNotMatch`` or ``AccessDenied`` "Request has expired").
``test_s3_fake.py`` shows each refusal, so a test that leans on one can fail.

It also counts the requests by kind (``calls``) so a test can see which parts an upload sent.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

ACCESS_KEY = "PACKDESKTESTKEY"
SECRET_KEY = "packdesk-test-secret-key"
REGION = "kr-standard"


class _Quiet(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # werkzeug logs every request at INFO: not what the tests read


def _error(start_response: StartResponse, code: str, message: str) -> Iterable[bytes]:
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>{uuid.uuid4()}</RequestId></Error>").encode()
    start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    enc = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in enc)


def _signature(secret: str, amz_date: str, scope: str, canonical: str) -> str:
    parts = scope.split("/")  # access key / date / region / service / aws4_request
    if len(parts) != 5:
        return ""
    date, region, service = parts[1:4]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, "/".join(parts[1:]),
                         hashlib.sha256(canonical.encode()).hexdigest()])
    return hmac.new(_signing_key(secret, date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()


class FakeS3:
    """``with FakeS3() as s3:`` — ``s3.endpoint``, one bucket made per ``bucket()`` call."""

    def __init__(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.access_key, self.secret_key, self.clock = access_key, secret_key, clock
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, self._gate, threaded=True, request_handler=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-s3", daemon=True)

    def __enter__(self) -> FakeS3:
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._thread.join(10)
        self._server.server_close()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def client(self, secret_key: str | None = None) -> Any:
        """A boto3 client with this server's keys (the test's own hands, not the product's)."""
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=self.access_key, aws_secret_access_key=secret_key or self.secret_key,
                            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def bucket(self) -> str:
        name = f"packs-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def count(self, kind: str) -> int:
        with self._lock:
            return self.calls[kind]

    # -- the gate ----------------------------------------------------------------------------------------
    def _gate(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        parts = urlsplit(raw)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = dict(pairs)
        method = environ["REQUEST_METHOD"]
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if "X-Amz-Signature" in query:
            refused = self._check_query(environ, method, parts.path, pairs, query, start_response)
        elif auth.startswith("AWS4-HMAC-SHA256 "):
            refused = self._check_header(environ, method, parts.path, pairs, auth, start_response)
        else:
            refused = None  # anonymous: moto refuses it (private bucket), as S3 does
        if refused is not None:
            return refused
        with self._lock:
            self.calls[self._kind(method, query)] += 1
        return self._app(environ, start_response)  # type: ignore[no-any-return]

    @staticmethod
    def _kind(method: str, query: dict[str, str]) -> str:
        if method == "PUT" and "partNumber" in query:
            return "upload_part"
        if method == "POST" and "uploads" in query:
            return "create_multipart"
        if method == "POST" and "uploadId" in query:
            return "complete_multipart"
        if method == "GET" and "uploadId" in query:
            return "list_parts"
        return method.lower()

    def _headers(self, environ: Environ, names: list[str]) -> str:
        out = []
        for name in names:
            if name == "host":
                value = environ.get("HTTP_HOST", "")
            elif name in ("content-type", "content-length"):
                value = environ.get(name.upper().replace("-", "_"), "")
            else:
                value = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
            out.append(f"{name}:{' '.join(str(value).split())}\n")
        return "".join(out)

    def _check_header(self, environ: Environ, method: str, path: str, pairs: list[tuple[str, str]], auth: str,
                      start_response: StartResponse) -> Iterable[bytes] | None:
        fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        scope, signed, given = fields.get("Credential", ""), fields.get("SignedHeaders", ""), fields.get("Signature")
        if scope.split("/")[0] != self.access_key:
            return _error(start_response, "InvalidAccessKeyId",
                          "The AWS Access Key Id you provided does not exist in our records.")
        names = signed.split(";")
        canonical = "\n".join([method, path, _canonical_query(pairs), self._headers(environ, names), signed,
                               environ.get("HTTP_X_AMZ_CONTENT_SHA256", "UNSIGNED-PAYLOAD")])
        if not hmac.compare_digest(_signature(self.secret_key, environ.get("HTTP_X_AMZ_DATE", ""), scope, canonical),
                                   given or ""):
            return _error(start_response, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you provided.")
        return None

    def _check_query(self, environ: Environ, method: str, path: str, pairs: list[tuple[str, str]],
                     query: dict[str, str], start_response: StartResponse) -> Iterable[bytes] | None:
        scope = query.get("X-Amz-Credential", "")
        if scope.split("/")[0] != self.access_key:
            return _error(start_response, "InvalidAccessKeyId",
                          "The AWS Access Key Id you provided does not exist in our records.")
        signed = query.get("X-Amz-SignedHeaders", "host")
        canonical = "\n".join([method, path, _canonical_query([p for p in pairs if p[0] != "X-Amz-Signature"]),
                               self._headers(environ, signed.split(";")), signed, "UNSIGNED-PAYLOAD"])
        amz_date = query.get("X-Amz-Date", "")
        if not hmac.compare_digest(_signature(self.secret_key, amz_date, scope, canonical),
                                   query["X-Amz-Signature"]):
            return _error(start_response, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you provided.")
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if self.clock() > signed_at + timedelta(seconds=int(query.get("X-Amz-Expires", "0"))):
            return _error(start_response, "AccessDenied", "Request has expired")
        return None
