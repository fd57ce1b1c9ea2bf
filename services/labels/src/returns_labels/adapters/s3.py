"""The label bucket, through the kit's S3 bucket (returns_contracts.service_kit.s3): one minio
client for the process, every call off the event loop."""

from __future__ import annotations

from minio import Minio

from returns_contracts.service_kit.s3 import Bucket, BucketAdmin


class LabelBucket(BucketAdmin):
    """The label PDFs (the `LabelFiles` port), and the bucket's existence and readiness."""

    def __init__(self, client: Minio, bucket: str, region: str) -> None:
        super().__init__(client, bucket, region)
        self._objects = Bucket(client, bucket)

    async def put(self, key: str, pdf: bytes) -> None:
        await self._objects.put(key, pdf, "application/pdf")

    async def get(self, key: str) -> bytes | None:
        return await self._objects.get(key)
