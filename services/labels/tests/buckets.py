"""A label bucket of its own on the test S3 server, for the tests that need a real one."""

from __future__ import annotations

import uuid

from returns_contracts.service_kit.s3 import new_minio_client
from returns_infra.fixtures import S3Server
from returns_labels.adapters.s3 import LabelBucket


def fresh_label_bucket(s3_server: S3Server, prefix: str) -> LabelBucket:
    """A bucket named `<prefix>-<random>` (created by `ensure_exists`), with the service's
    own client settings."""
    client = new_minio_client(
        endpoint=s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        region="us-east-1",
        connect_timeout=5,
        read_timeout=10,
    )
    return LabelBucket(client, f"{prefix}-{uuid.uuid4().hex[:8]}", "us-east-1")
