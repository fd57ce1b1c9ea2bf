"""The label bucket, through the minio client.

minio is synchronous: every call goes through `asyncio.to_thread` so the event loop never waits
on S3. One client (one connection pool) serves the whole process.
"""

from __future__ import annotations

import asyncio
import io
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.error import S3Error

# Answers of a make_bucket that lost a race with another process creating the same bucket.
_ALREADY_OURS = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
_NOT_THERE = frozenset({"NoSuchKey", "NoSuchObject"})


def new_minio_client(
    *,
    endpoint: str,
    access_key: str,
    secret_key: str,
    region: str,
    connect_timeout: float,
    read_timeout: float,
) -> Minio:
    """The process's one S3 client; timeouts and retries bounded so a dead S3 fails fast
    (minio's defaults wait minutes) and consumers retry instead of hanging."""
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"S3 endpoint {endpoint!r} must look like http://host:port")
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        maxsize=10,
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )
    return Minio(
        endpoint=parts.netloc,
        access_key=access_key,
        secret_key=secret_key,
        secure=parts.scheme == "https",
        region=region,
        http_client=http,
    )


class LabelBucket:
    def __init__(self, client: Minio, bucket: str, region: str) -> None:
        self._client = client
        self.bucket = bucket
        self._region = region

    async def ensure_exists(self) -> None:
        await asyncio.to_thread(self._ensure_exists)

    def _ensure_exists(self) -> None:
        if self._client.bucket_exists(bucket_name=self.bucket):
            return
        try:
            self._client.make_bucket(bucket_name=self.bucket, location=self._region)
        except S3Error as error:
            if error.code not in _ALREADY_OURS:
                raise

    async def put(self, key: str, pdf: bytes) -> None:
        await asyncio.to_thread(
            self._client.put_object,
            bucket_name=self.bucket,
            object_name=key,
            data=io.BytesIO(pdf),
            length=len(pdf),
            content_type="application/pdf",
        )

    async def get(self, key: str) -> bytes | None:
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

    async def check(self) -> object:
        """Readiness: the server answers and the bucket is there."""
        if not await asyncio.to_thread(self._client.bucket_exists, bucket_name=self.bucket):
            raise LookupError(f"bucket {self.bucket!r} does not exist")
        return True
