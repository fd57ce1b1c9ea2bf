"""The photo bucket, through the minio client.

minio is synchronous: every call goes through `asyncio.to_thread` so the event loop never waits
on S3. One client (one urllib3 connection pool) serves the whole process.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable

from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from returns_contracts.service_kit.s3 import BucketClient, ensure_bucket


class PhotoBucket:
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


class PhotoObjects:
    """Objects of the photo bucket: put, read, remove. The bucket is never public."""

    def __init__(self, client: Minio, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._put, key, data, content_type)

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(
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
            if error.code in ("NoSuchKey", "NoSuchObject"):
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
