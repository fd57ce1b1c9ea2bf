"""The one way a service builds its S3 client (minio), like `app.new_mongo_client` for MongoDB.

minio is synchronous: callers go through `asyncio.to_thread`. One client (one urllib3
connection pool) serves the whole process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.error import S3Error

# Answers of a make_bucket that lost a race with another process creating the same bucket.
_ALREADY_OURS = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})


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
