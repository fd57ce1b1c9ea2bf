"""The photo bucket: private (never public), one minio client for the process; the kit's S3
bucket (returns_contracts.service_kit.s3) does the work."""

from __future__ import annotations

from returns_contracts.service_kit.s3 import Bucket, BucketAdmin

PhotoBucket = BucketAdmin
"""Creates the photo bucket at start-up and reports it in readiness."""

PhotoObjects = Bucket
"""The photos' objects: put, read, remove (the `ObjectStore` port)."""
