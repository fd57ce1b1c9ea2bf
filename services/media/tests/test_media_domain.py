"""The limits of a draft (R6: five photos per line; uploads rate-limited), without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from returns_media.domain.errors import DraftClosed, TooManyPhotos, TooManyUploads
from returns_media.domain.model import DraftRef, DraftUploads, Slot, UploadLimits

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LIMITS = UploadLimits(photos_per_line=5, uploads_per_window=10, window=timedelta(minutes=10))


def slot(number: int, line_id: str = "1", at: datetime = T0) -> Slot:
    return Slot(f"photo-{number}", line_id, f"k/{number}/full", f"k/{number}/thumb", at)


def draft() -> DraftUploads:
    return DraftUploads(ref=DraftRef("shop", "draft-1"), created_at=T0, last_activity_at=T0)


def test_a_line_takes_five_photos_and_no_sixth() -> None:
    uploads = draft()
    for number in range(5):
        uploads.reserve(slot(number), LIMITS)

    with pytest.raises(TooManyPhotos) as refused:
        uploads.reserve(slot(5), LIMITS)

    assert "5 photos" in refused.value.message
    uploads.reserve(slot(6, line_id="2"), LIMITS)
    assert [taken.photo_id for taken in uploads.slots][-1] == "photo-6"


def test_removing_a_photo_frees_its_place_on_the_line() -> None:
    uploads = draft()
    for number in range(5):
        uploads.reserve(slot(number), LIMITS)

    assert uploads.release("photo-2") is not None
    uploads.reserve(slot(5), LIMITS)
    assert uploads.release("no-such-photo") is None


def test_too_many_uploads_in_the_window_are_refused_with_the_wait() -> None:
    uploads = draft()
    for number in range(10):
        uploads.reserve(
            slot(number, line_id=str(number), at=T0 + timedelta(seconds=number)), LIMITS
        )

    with pytest.raises(TooManyUploads) as refused:
        uploads.reserve(slot(10, line_id="x", at=T0 + timedelta(minutes=2)), LIMITS)

    # The oldest upload (T0) leaves the window at T0 + 10 min: 8 minutes from now.
    assert refused.value.retry_after_seconds == 8 * 60
    assert "8 minutes" in refused.value.message
    uploads.reserve(slot(11, line_id="x", at=T0 + timedelta(minutes=10, seconds=1)), LIMITS)


def test_a_refused_upload_still_counts_against_the_rate_but_takes_no_place() -> None:
    uploads = draft()
    for number in range(5):
        uploads.reserve(slot(number), LIMITS)
    with pytest.raises(TooManyPhotos):
        uploads.reserve(slot(5), LIMITS)

    assert len(uploads.slots) == 5
    assert len(uploads.recent_uploads) == 5


def test_a_submitted_draft_takes_no_more_photos() -> None:
    uploads = draft()
    uploads.submitted_return_id = "ret-1"

    with pytest.raises(DraftClosed):
        uploads.reserve(slot(1), LIMITS)


def test_draft_keys_never_collide_whatever_the_ids() -> None:
    assert DraftRef("a:b", "c").key != DraftRef("a", "b:c").key
    assert DraftRef("shop", "d1").key == DraftRef("shop", "d1").key
