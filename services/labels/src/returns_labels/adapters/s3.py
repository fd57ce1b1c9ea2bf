"""The label bucket, through the minio client.

minio is synchronous: every call goes through `asyncio.to_thread` so the event loop never waits
on S3. One client (one connection pool) serves the whole process.
"""

from __future__ import annotations

import asyncio
import io

from minio import Minio
from minio.error import S3Error

from returns_contracts.service_kit.s3 import ensure_bucket

_NOT_THERE = frozenset({"NoSuchKey", "NoSuchObject"})


class LabelBucket:
    def __init__(self, client: Minio, bucket: str, region: str) -> None:
        self._client = client
        self.bucket = bucket
        self._region = region

    async def ensure_exists(self) -> None:
        await asyncio.to_thread(ensure_bucket, self._client, self.bucket, self._region)

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
