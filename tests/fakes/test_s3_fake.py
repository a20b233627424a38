"""The fake S3's own checks, the ones moto leaves out (``tests/fakes/s3.py``): each refuses what real S3
refuses, so the product's tests that lean on them can fail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.fakes.s3 import FakeS3


@pytest.fixture
def s3() -> Iterator[tuple[FakeS3, list[datetime]]]:
    now = [datetime.now(UTC)]
    with FakeS3(clock=lambda: now[0]) as server:
        yield server, now


def test_signed_requests_work_and_a_wrong_secret_or_key_is_refused(s3: tuple[FakeS3, list[datetime]]) -> None:
    server, _ = s3
    bucket = server.bucket()
    server.client().put_object(Bucket=bucket, Key="a", Body=b"1")
    assert server.client().get_object(Bucket=bucket, Key="a")["Body"].read() == b"1"
    with pytest.raises(ClientError) as e:
        server.client("wrong").put_object(Bucket=bucket, Key="b", Body=b"2")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    ours = server.client()
    server.access_key = "OTHER"  # the server knows another key now: ours is unknown
    with pytest.raises(ClientError) as e:
        ours.get_object(Bucket=bucket, Key="a")
    assert e.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_a_presigned_url_opens_one_object_until_it_expires(s3: tuple[FakeS3, list[datetime]]) -> None:
    server, now = s3
    bucket = server.bucket()
    client = server.client()
    client.put_object(Bucket=bucket, Key="a", Body=b"video")
    client.put_object(Bucket=bucket, Key="b", Body=b"other")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"}, ExpiresIn=60)
    assert httpx.get(url).content == b"video"
    assert httpx.get(url.replace("/a?", "/b?")).status_code == 403  # another name: the signature no longer fits
    assert httpx.get(f"{server.endpoint}/{bucket}/a").status_code == 403  # no signature: private
    forged = server.client("wrong").generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"},
                                                           ExpiresIn=60)
    assert httpx.get(forged).status_code == 403
    now[0] += timedelta(seconds=59)
    assert httpx.get(url).status_code == 200
    now[0] += timedelta(seconds=2)
    answer = httpx.get(url)
    assert answer.status_code == 403 and b"Request has expired" in answer.content
