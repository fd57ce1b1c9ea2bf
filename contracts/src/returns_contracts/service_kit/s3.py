"""The one way a service builds its S3 client (minio), like `app.new_mongo_client` for MongoDB.

minio is synchronous: callers go through `asyncio.to_thread`. One client (one urllib3
connection pool) serves the whole process.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from minio import Minio


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
