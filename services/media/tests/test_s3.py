"""The S3 endpoint setting as minio wants it, and creating the bucket once."""

from __future__ import annotations

import pytest
import urllib3
from minio.error import S3Error

from returns_contracts.service_kit.s3 import S3Endpoint, parse_endpoint
from returns_media.adapters.s3 import PhotoBucket


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:7070", S3Endpoint("127.0.0.1:7070", secure=False)),
        ("http://127.0.0.1:7070/", S3Endpoint("127.0.0.1:7070", secure=False)),
        ("https://s3.eu-west-3.amazonaws.com", S3Endpoint("s3.eu-west-3.amazonaws.com", True)),
        ("HTTPS://S3.example.com:9443", S3Endpoint("s3.example.com:9443", secure=True)),
        ("127.0.0.1:17070", S3Endpoint("127.0.0.1:17070", secure=False)),
        ("http://[::1]:7070", S3Endpoint("[::1]:7070", secure=False)),
    ],
)
def test_an_endpoint_url_becomes_minio_s_host_and_secure(url: str, expected: S3Endpoint) -> None:
    assert parse_endpoint(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1:7070",
        "http://",
        "http://127.0.0.1:7070/bucket",
        "http://127.0.0.1:7070?x=1",
        "http://key:secret@127.0.0.1:7070",
        "http://127.0.0.1:port",
    ],
)
def test_an_endpoint_minio_cannot_use_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(url)


class FakeBuckets:
    def __init__(self, existing: set[str], race: bool = False) -> None:
        self.buckets = existing
        self.race = race
        self.made: list[tuple[str, str | None]] = []

    def bucket_exists(self, bucket_name: str) -> bool:
        return bucket_name in self.buckets

    def make_bucket(
        self, bucket_name: str, location: str | None = None, object_lock: bool = False
    ) -> None:
        if self.race:
            raise S3Error(
                response=urllib3.HTTPResponse(status=409),
                code="BucketAlreadyOwnedByYou",
                message="created meanwhile",
                resource=f"/{bucket_name}",
                request_id="request-1",
                host_id="host-1",
            )
        self.made.append((bucket_name, location))
        self.buckets.add(bucket_name)


async def test_a_missing_bucket_is_created_in_the_region() -> None:
    client = FakeBuckets(set())

    assert await PhotoBucket(client, "returns-media", "us-east-1").ensure_exists()

    assert client.made == [("returns-media", "us-east-1")]


async def test_an_existing_bucket_is_left_alone() -> None:
    client = FakeBuckets({"returns-media"})

    assert not await PhotoBucket(client, "returns-media", "us-east-1").ensure_exists()

    assert client.made == []


async def test_a_bucket_created_meanwhile_by_another_process_is_fine() -> None:
    client = FakeBuckets(set(), race=True)

    assert not await PhotoBucket(client, "returns-media", "us-east-1").ensure_exists()


async def test_readiness_fails_while_the_bucket_is_missing() -> None:
    bucket = PhotoBucket(FakeBuckets(set()), "returns-media", "us-east-1")

    with pytest.raises(LookupError):
        await bucket.check()
    await bucket.ensure_exists()
    assert await bucket.check() is True
