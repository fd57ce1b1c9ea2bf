"""The limits of a draft (R6; uploads rate-limited per draft), without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from returns_media.domain.errors import DraftClosed, TooManyUploads
from returns_media.domain.model import DraftRef, DraftUploads, UploadLimits, too_many_photos

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LIMITS = UploadLimits(photos_per_line=5, uploads_per_window=10, window=timedelta(minutes=10))


def draft() -> DraftUploads:
    return DraftUploads.new(DraftRef("shop", "draft-1"), T0)


def test_too_many_uploads_in_the_window_are_refused_with_the_wait() -> None:
    uploads = draft()
    for number in range(10):
        uploads.admit(T0 + timedelta(seconds=number), LIMITS)

    with pytest.raises(TooManyUploads) as refused:
        uploads.admit(T0 + timedelta(minutes=2), LIMITS)

    # The oldest upload (T0) leaves the window at T0 + 10 min: 8 minutes from now.
    assert refused.value.retry_after_seconds == 8 * 60
    assert "8 minutes" in refused.value.message
    uploads.admit(T0 + timedelta(minutes=10, seconds=1), LIMITS)
    assert uploads.last_activity_at == T0 + timedelta(minutes=10, seconds=1)


def test_a_short_wait_is_said_in_seconds() -> None:
    uploads = draft()
    for _ in range(10):
        uploads.admit(T0, LIMITS)

    with pytest.raises(TooManyUploads) as refused:
        uploads.admit(T0 + timedelta(minutes=9, seconds=30), LIMITS)

    assert refused.value.retry_after_seconds == 30
    assert "30 seconds" in refused.value.message


def test_a_submitted_draft_takes_no_more_photos() -> None:
    uploads = draft()
    uploads.submitted_return_id = "ret-1"

    with pytest.raises(DraftClosed):
        uploads.admit(T0, LIMITS)


def test_the_line_limit_is_said_with_its_number() -> None:
    assert "5 photos" in too_many_photos(LIMITS).message


def test_draft_keys_never_collide_whatever_the_ids() -> None:
    assert DraftRef("a:b", "c").key != DraftRef("a", "b:c").key
    assert DraftRef("shop", "d1").key == DraftRef("shop", "d1").key
