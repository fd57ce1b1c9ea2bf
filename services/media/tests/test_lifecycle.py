"""What happens to photos after the upload: kept with a submitted return, deleted with an
abandoned draft. Real media process, real Kafka, S3 and MongoDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from returns_infra.fixtures import S3Server
from returns_infra.testing import eventually

from . import images
from .drafts import Draft, error_of
from .process import MediaProcess, start_media
from .submitted import publish, return_with_photos

pytestmark = pytest.mark.integration

RETENTION_SECONDS = 15


@pytest.fixture(scope="module")
def short_lived_media(
    tmp_path_factory: pytest.TempPathFactory,
    kafka_bootstrap_servers: str,
    mongodb_url: str,
    s3_server: S3Server,
) -> Iterator[MediaProcess]:
    """A media process that forgets idle drafts after a few seconds and looks every half."""
    yield from start_media(
        tmp_path_factory.mktemp("short-lived-media"),
        kafka_bootstrap_servers,
        mongodb_url,
        s3_server,
        MEDIA_DRAFT_RETENTION_HOURS=str(RETENTION_SECONDS / 3600),
        MEDIA_CLEANUP_INTERVAL_SECONDS="0.5",
    )


def _kept_for(media: MediaProcess, photo_id: str) -> Any:
    document = media.photo_document(photo_id)
    return None if document is None else document.get("kept_for_return_id")


def test_a_submitted_return_keeps_its_photos_and_closes_the_draft(
    media: MediaProcess, kafka_bootstrap_servers: str
) -> None:
    draft = Draft(media)
    photo = draft.upload(images.png()).json()
    event = return_with_photos(draft.merchant_id, [photo["photo_id"], "unknown-photo"])

    publish(kafka_bootstrap_servers, media.topic_prefix, event)

    kept = eventually(lambda: _kept_for(media, photo["photo_id"]), 60, "the photo being kept")
    assert kept == event.payload.return_id
    late = draft.upload(images.png())
    assert late.status_code == 409
    assert error_of(late)["code"] == "draft_submitted"
    removal = draft.http.delete(
        f"{draft.photos_path}/{photo['photo_id']}",
        headers={"Authorization": f"Bearer {draft.token}"},
    )
    assert removal.status_code == 409
    assert error_of(removal)["code"] == "photo_submitted"


def test_another_merchant_s_return_cannot_keep_a_photo(
    media: MediaProcess, kafka_bootstrap_servers: str
) -> None:
    draft = Draft(media)
    photo = draft.upload(images.png()).json()
    mine = draft.upload(images.png(), line_id="2").json()
    thief = return_with_photos("another-merchant", [photo["photo_id"]])
    # Same return id, so same key and partition: the sentinel is handled after the thief.
    sentinel = return_with_photos(
        draft.merchant_id, [mine["photo_id"]], return_id=thief.payload.return_id
    )

    publish(kafka_bootstrap_servers, media.topic_prefix, thief)
    publish(kafka_bootstrap_servers, media.topic_prefix, sentinel)

    eventually(lambda: _kept_for(media, mine["photo_id"]), 60, "the sentinel's photo kept")
    assert _kept_for(media, photo["photo_id"]) is None


def test_photos_of_abandoned_drafts_are_deleted_and_submitted_ones_stay(
    short_lived_media: MediaProcess, kafka_bootstrap_servers: str
) -> None:
    media = short_lived_media
    abandoned = Draft(media)
    forgotten = abandoned.upload(images.phone_jpeg()).json()
    submitted = Draft(media, abandoned.merchant_id)
    chosen = submitted.upload(images.png()).json()
    unused = submitted.upload(images.heic(), line_id="2").json()
    assert len(abandoned.objects()) == 6

    event = return_with_photos(abandoned.merchant_id, [chosen["photo_id"]])
    publish(kafka_bootstrap_servers, media.topic_prefix, event)
    eventually(lambda: _kept_for(media, chosen["photo_id"]), 60, "the chosen photo kept")

    def only_the_kept_photo_left() -> bool | None:
        return True if len(abandoned.objects()) == 2 else None

    eventually(only_the_kept_photo_left, 60, "abandoned photos deleted from the bucket")
    for gone in (forgotten, unused):
        assert media.photo_document(gone["photo_id"]) is None
        assert httpx.get(gone["url"]).status_code == 404
    assert httpx.get(chosen["url"]).status_code == 200
    assert httpx.get(chosen["thumbnail_url"]).status_code == 200
