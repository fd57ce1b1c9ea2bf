"""The photos a form sends for a defective line (R6): sent to media with the draft token, then
the defect described with the kept and new photos (service/uploads.py, on fakes)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from returns_declaration.domain.rules import RequestedQuantity
from returns_declaration.service.errors import PhotoCatalogUnavailable, PhotoRefused
from returns_declaration.service.ports import UploadedPhoto
from returns_declaration.service.sessions import PortalSession
from returns_declaration.service.uploads import DraftPhotos, PhotoFile

from .test_use_cases import Harness

COMMENT = "The handle came off."


@dataclass
class FakeUploader:
    """Media's upload: refuses a file named `refused*`, fails on one named `down*`."""

    harness: Harness
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    async def upload(
        self,
        merchant_id: str,
        draft_id: str,
        draft_token: str,
        line_id: str,
        filename: str,
        content: bytes,
        content_type: str,
    ) -> UploadedPhoto:
        if filename.startswith("refused"):
            raise PhotoRefused(413, "too_large")
        if filename.startswith("down"):
            raise PhotoCatalogUnavailable("media is down")
        photo_id = f"new-{len(self.sent) + 1}"
        self.sent.append((draft_token, line_id, filename))
        self.harness.photos.add(photo_id, merchant_id, draft_id)
        return UploadedPhoto(photo_id, None)

    async def remove(
        self, merchant_id: str, draft_id: str, draft_token: str, photo_id: str
    ) -> None:
        self.removed.append(photo_id)


@dataclass
class Setup:
    harness: Harness
    uploader: FakeUploader
    photos: DraftPhotos
    session: PortalSession
    draft_id: str


@pytest.fixture
async def setup() -> Setup:
    harness = Harness()
    await harness.with_shop()
    session = await harness.session()
    view = await harness.service.portal.create_draft(session, [RequestedQuantity("1", 1)])
    await harness.service.portal.choose_reason(session, view.draft.id, "1", "damaged")
    uploader = FakeUploader(harness)
    return Setup(
        harness, uploader, DraftPhotos(harness.service.portal, uploader), session, view.draft.id
    )


def photo(name: str) -> PhotoFile:
    return PhotoFile(name, b"bytes", "image/jpeg")


async def test_new_photos_go_to_media_with_the_draft_token_and_describe_the_defect(
    setup: Setup,
) -> None:
    view = await setup.harness.service.portal.summary(setup.session, setup.draft_id)
    described = await setup.photos.describe_with_uploads(
        setup.session, view, "1", COMMENT, [], [photo("a.jpg"), photo("b.jpg")]
    )

    assert described.saved and described.upload_problem is None
    assert described.photo_ids == ("new-1", "new-2")
    assert [token for token, _, _ in setup.uploader.sent] == [view.draft_token] * 2
    saved = await setup.harness.service.portal.summary(setup.session, setup.draft_id)
    assert saved.draft.lines[0].photo_ids == ("new-1", "new-2")


async def test_a_refused_photo_does_not_stop_the_others_and_the_first_problem_is_told(
    setup: Setup,
) -> None:
    view = await setup.harness.service.portal.summary(setup.session, setup.draft_id)
    described = await setup.photos.describe_with_uploads(
        setup.session,
        view,
        "1",
        COMMENT,
        [],
        [photo("refused.jpg"), photo("down.jpg"), photo("ok.jpg")],
    )

    assert described.upload_problem == PhotoRefused(413, "too_large")
    assert described.photo_ids == ("new-1",)
    assert described.saved  # the photo that went through describes the defect


async def test_a_defect_refused_by_the_rules_keeps_its_photos_for_the_page(setup: Setup) -> None:
    view = await setup.harness.service.portal.summary(setup.session, setup.draft_id)
    described = await setup.photos.describe_with_uploads(
        setup.session, view, "1", "short", [], [photo("a.jpg")]
    )

    assert not described.saved
    assert described.photo_ids == ("new-1",)
    assert [error.field for error in described.rejected] == ["comment"]


async def test_media_down_when_the_photos_are_checked_is_told_apart(setup: Setup) -> None:
    view = await setup.harness.service.portal.summary(setup.session, setup.draft_id)
    setup.harness.photos.down = True
    described = await setup.photos.describe_with_uploads(
        setup.session, view, "1", COMMENT, ["p1"], []
    )
    assert described.catalog_unavailable and not described.saved
    assert described.photo_ids == ("p1",)
