"""The one way a service builds its S3 client (minio), like `app.new_mongo_client` for MongoDB.

minio is synchronous: callers go through `asyncio.to_thread`. One client (one urllib3
connection pool) serves the whole process.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Answers of a make_bucket that lost a race with another process creating the same bucket.
_ALREADY_OURS = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
# Answers of a read of an object that is not there.
_NOT_THERE = frozenset({"NoSuchKey", "NoSuchObject"})


class S3Settings(BaseSettings):
    """The S3 settings of a service that stores objects; mixed into its settings class, which
    sets its own `s3_bucket`."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    # The local S3 server of `make run`; its demo credentials protect nothing but 127.0.0.1.
    s3_endpoint: str = "http://127.0.0.1:7070"
    s3_access_key: str = "demo-access-key"
    s3_secret_key: SecretStr = SecretStr("demo-secret-key-change-me")
    s3_bucket: str = "returns"
    s3_region: str = "us-east-1"
    s3_connect_timeout_seconds: float = 5.0
    s3_read_timeout_seconds: float = 30.0

    def minio_client(self) -> Minio:
        """The process's one S3 client, from these settings."""
        return new_minio_client(
            endpoint=self.s3_endpoint,
            access_key=self.s3_access_key,
            secret_key=self.s3_secret_key.get_secret_value(),
            region=self.s3_region,
            connect_timeout=self.s3_connect_timeout_seconds,
            read_timeout=self.s3_read_timeout_seconds,
        )


@dataclass(frozen=True, slots=True)
class S3Endpoint:
    """What minio wants: `host[:port]` without a scheme, and whether to use TLS."""

    host: str
    secure: bool


def parse_endpoint(url: str) -> S3Endpoint:
    """`http://127.0.0.1:7070` -> S3Endpoint("127.0.0.1:7070", secure=False).

    A URL without a scheme is taken as plain HTTP. A path, query or user info is refused:
    minio addresses buckets itself and would silently ignore them.
    """
    text = url.strip()
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"S3 endpoint {url!r}: the scheme must be http or https")
    if not parts.hostname:
        raise ValueError(f"S3 endpoint {url!r} has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"S3 endpoint {url!r} must not have a path or a query")
    if parts.username or parts.password:
        raise ValueError(f"S3 endpoint {url!r} must not carry credentials")
    port = parts.port  # raises ValueError on a port that is not a number
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return S3Endpoint(
        host=host if port is None else f"{host}:{port}", secure=parts.scheme == "https"
    )


def new_minio_client(
    *,
    endpoint: str,
    access_key: str,
    secret_key: str,
    region: str,
    connect_timeout: float,
    read_timeout: float,
) -> Minio:
    """The process's one S3 client, with timeouts and retries bounded for a service.

    minio's default pool waits up to 5 minutes and retries 5 times, which would hang readiness
    checks and consumers long after S3 went away.
    """
    parsed = parse_endpoint(endpoint)
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        maxsize=10,
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )
    return Minio(
        endpoint=parsed.host,
        access_key=access_key,
        secret_key=secret_key,
        secure=parsed.secure,
        region=region,
        http_client=http,
    )


class BucketClient(Protocol):
    """The part of the minio client that `ensure_bucket` uses."""

    def bucket_exists(self, bucket_name: str) -> bool: ...

    def make_bucket(
        self, bucket_name: str, location: str | None = None, object_lock: bool = False
    ) -> None: ...


def ensure_bucket(client: BucketClient, bucket: str, region: str) -> bool:
    """Create `bucket` unless it exists; True if this call created it.

    Synchronous like minio: call it through `asyncio.to_thread`. Safe when several processes
    start at once: losing the race to create the bucket counts as "it exists".
    """
    if client.bucket_exists(bucket_name=bucket):
        return False
    try:
        client.make_bucket(bucket_name=bucket, location=region)
    except S3Error as error:
        if error.code in _ALREADY_OURS:
            return False
        raise
    return True


class BucketAdmin:
    """A bucket's existence and readiness (works on any `BucketClient`)."""

    def __init__(self, client: BucketClient, bucket: str, region: str) -> None:
        self._client = client
        self.bucket = bucket
        self._region = region

    async def ensure_exists(self) -> bool:
        """Create the bucket unless it exists; True if this call created it."""
        return await asyncio.to_thread(ensure_bucket, self._client, self.bucket, self._region)

    async def check(self) -> object:
        """Readiness: the server answers and the bucket is there."""
        if not await asyncio.to_thread(self._client.bucket_exists, bucket_name=self.bucket):
            raise LookupError(f"bucket {self.bucket!r} does not exist")
        return True


class Bucket:
    """The objects of one private bucket through the minio client: put, read, list, remove.
    Every call goes through `asyncio.to_thread` so the event loop never waits on S3."""

    def __init__(self, client: Minio, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self._client.put_object,
            bucket_name=self.bucket,
            object_name=key,
            data=io.BytesIO(data),
            length=len(data),
            content_type=content_type,
        )

    async def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        return await asyncio.to_thread(self._get, key)

    def _get(self, key: str) -> bytes | None:
        try:
            response = self._client.get_object(bucket_name=self.bucket, object_name=key)
        except S3Error as error:
            if error.code in _NOT_THERE:
                return None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    async def remove(self, keys: Iterable[str]) -> None:
        """Remove the objects; a key that is already gone is fine."""
        wanted = list(keys)
        if wanted:
            await asyncio.to_thread(self._remove, wanted)

    def _remove(self, keys: list[str]) -> None:
        failures = list(
            self._client.remove_objects(
                bucket_name=self.bucket,
                delete_object_list=[DeleteObject(key) for key in keys],
            )
        )
        real = [failure for failure in failures if failure.code not in ("NoSuchKey",)]
        if real:
            raise RuntimeError(f"S3 could not remove {len(real)} object(s): {real[0].message}")

    async def keys_under(self, prefix: str) -> list[str]:
        return await asyncio.to_thread(self._keys_under, prefix)

    def _keys_under(self, prefix: str) -> list[str]:
        return [
            str(item.object_name)
            for item in self._client.list_objects(
                bucket_name=self.bucket, prefix=prefix, recursive=True
            )
            if item.object_name is not None
        ]

    async def remove_under(self, prefix: str) -> int:
        """Remove every object under `prefix`; how many there were."""
        keys = await self.keys_under(prefix)
        await self.remove(keys)
        return len(keys)
