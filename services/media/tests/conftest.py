"""Fixtures of the media tests: the media process on the real servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from returns_infra.fixtures import S3Server

from .process import MediaProcess, start_media


@pytest.fixture(scope="session")
def media(
    tmp_path_factory: pytest.TempPathFactory,
    kafka_bootstrap_servers: str,
    mongodb_url: str,
    s3_server: S3Server,
) -> Iterator[MediaProcess]:
    yield from start_media(
        tmp_path_factory.mktemp("media"),
        kafka_bootstrap_servers,
        mongodb_url,
        s3_server,
        MEDIA_UPLOADS_PER_WINDOW="8",
    )
