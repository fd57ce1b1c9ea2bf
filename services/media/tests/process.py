"""The media service as a real process on the real servers, with a bucket, database and topic
prefix of its own, so that its tests can look into S3 and MongoDB without seeing anyone else's
objects."""

from __future__ import annotations

import shutil
import socket
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from minio import Minio
from pymongo import MongoClient

from returns_contracts.service_kit.s3 import new_minio_client
from returns_contracts.signing import issue_draft_token
from returns_infra import processes
from returns_infra.fixtures import S3Server

PORTAL_SECRET = "media-tests-portal-secret"
INTERNAL_TOKEN = "media-tests-internal-token"


@dataclass(frozen=True)
class MediaProcess:
    url: str
    bucket: str
    database: str
    topic_prefix: str
    s3: Minio
    mongodb_url: str

    def draft_token(self, merchant_id: str, draft_id: str, valid_for: float = 3600) -> str:
        expires = datetime.now(UTC) + timedelta(seconds=valid_for)
        return issue_draft_token(PORTAL_SECRET, merchant_id, draft_id, expires)

    def object_keys(self, prefix: str = "") -> list[str]:
        return [
            str(item.object_name)
            for item in self.s3.list_objects(self.bucket, prefix=prefix, recursive=True)
        ]

    def photo_document(self, photo_id: str) -> dict[str, Any] | None:
        client: MongoClient[dict[str, Any]] = MongoClient(self.mongodb_url, tz_aware=True)
        try:
            return client[self.database]["photos"].find_one({"_id": photo_id})
        finally:
            client.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _script() -> str:
    beside = Path(sys.executable).parent / "returns-media"
    found = str(beside) if beside.exists() else shutil.which("returns-media")
    assert found, "returns-media is not installed; run `make venv`"
    return found


def start_media(
    tmp_dir: Path,
    kafka_bootstrap_servers: str,
    mongodb_url: str,
    s3_server: S3Server,
    **overrides: str,
) -> Iterator[MediaProcess]:
    suffix = uuid.uuid4().hex[:10]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "MONGODB_URL": mongodb_url,
        "S3_ENDPOINT": s3_server.endpoint,
        "S3_ACCESS_KEY": s3_server.access_key,
        "S3_SECRET_KEY": s3_server.secret_key,
        "S3_BUCKET": f"media-test-{suffix}",
        "MONGODB_DATABASE": f"media_test_{suffix}",
        "TOPIC_PREFIX": f"media-test-{suffix}",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "MEDIA_BASE_URL": url,
        "PORTAL_TOKEN_SECRET": PORTAL_SECRET,
        "INTERNAL_API_TOKEN": INTERNAL_TOKEN,
        "SERVICE_NAME": f"media-test-{suffix}",
        **overrides,
    }
    spec = processes.ProcessSpec(
        name=f"media-test-{suffix}",
        command=[_script()],
        log_path=tmp_dir / "media.log",
        pid_path=tmp_dir / "media.pid",
        env=env,
    )

    def ready() -> bool:
        with urllib.request.urlopen(f"{url}/readyz", timeout=3) as response:
            return bool(response.status == 200)

    processes.start(spec, ready, timeout=90)
    s3 = new_minio_client(
        endpoint=s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        region="us-east-1",
        connect_timeout=5,
        read_timeout=30,
    )
    try:
        yield MediaProcess(
            url=url,
            bucket=env["S3_BUCKET"],
            database=env["MONGODB_DATABASE"],
            topic_prefix=env["TOPIC_PREFIX"],
            s3=s3,
            mongodb_url=mongodb_url,
        )
    finally:
        processes.stop(spec.pid_path)
