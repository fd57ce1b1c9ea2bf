"""Photos, the drafts they belong to, and the limits of R6 and R13."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from returns_media.domain.errors import DraftClosed, TooManyPhotos, TooManyUploads

Variant = Literal["full", "thumb"]
VARIANTS: tuple[Variant, ...] = ("full", "thumb")


@dataclass(frozen=True, slots=True)
class UploadLimits:
    photos_per_line: int
    uploads_per_window: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class DraftRef:
    """One draft return of one merchant, as a draft token proves it."""

    merchant_id: str
    draft_id: str

    @property
    def key(self) -> str:
        # Length-prefixed so that no pair of ids, whatever characters they hold, shares a key.
        return f"{len(self.merchant_id)}:{self.merchant_id}:{self.draft_id}"


@dataclass(frozen=True, slots=True)
class Slot:
    """A place reserved for one photo on one line of a draft, before its bytes arrive.

    The object keys are chosen at reservation and recorded with the place, so that whatever
    happens after (a crash between the upload to S3 and the metadata write), the clean-up knows
    which objects to remove.
    """

    photo_id: str
    line_id: str
    full_key: str
    thumbnail_key: str
    reserved_at: datetime

    @property
    def keys(self) -> tuple[str, str]:
        return (self.full_key, self.thumbnail_key)


def too_many_photos(limits: UploadLimits) -> TooManyPhotos:
    return TooManyPhotos(
        f"This item already has {limits.photos_per_line} photos, the most allowed; "
        "remove one to add another."
    )


@dataclass(slots=True)
class DraftUploads:
    """What media knows of a draft: when it was last used, its recent uploads (for the rate
    limit), and whether it was submitted.

    The places of its photos are kept apart, one document each, because only the creation of
    a document with a given `_id` is atomic on the store (see the repository).
    """

    ref: DraftRef
    created_at: datetime
    last_activity_at: datetime
    recent_uploads: list[datetime] = field(default_factory=list)
    submitted_return_id: str | None = None

    @classmethod
    def new(cls, ref: DraftRef, now: datetime) -> DraftUploads:
        return cls(ref=ref, created_at=now, last_activity_at=now)

    def admit(self, now: datetime, limits: UploadLimits) -> None:
        """Count one more upload attempt, or say why the draft takes none now."""
        if self.submitted_return_id is not None:
            raise DraftClosed("This return was already submitted; photos can no longer be added.")
        window_start = now - limits.window
        self.recent_uploads = [moment for moment in self.recent_uploads if moment > window_start]
        if len(self.recent_uploads) >= limits.uploads_per_window:
            free_at = min(self.recent_uploads) + limits.window
            wait = max(1, math.ceil((free_at - now).total_seconds()))
            raise TooManyUploads(
                f"Too many uploads for this return in a short time; please try again in "
                f"{_in_words(wait)}.",
                retry_after_seconds=wait,
            )
        self.recent_uploads.append(now)
        self.last_activity_at = now


def _in_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


@dataclass(frozen=True, slots=True)
class Photo:
    """A stored photo: the normalised image and its thumbnail, and where they are."""

    photo_id: str
    merchant_id: str
    draft_id: str
    line_id: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    sha256: str
    full_key: str
    thumbnail_key: str
    thumbnail_size_bytes: int
    source_format: str
    original_size_bytes: int
    original_sha256: str
    created_at: datetime
    kept_for_return_id: str | None = None

    @property
    def draft(self) -> DraftRef:
        return DraftRef(self.merchant_id, self.draft_id)

    def object_key(self, variant: Variant) -> str:
        return self.full_key if variant == "full" else self.thumbnail_key

    def kept(self, return_id: str) -> Photo:
        return replace(self, kept_for_return_id=return_id)


@dataclass(frozen=True, slots=True)
class NormalisedImage:
    """The result of validating and normalising one upload: what gets stored."""

    full: bytes
    full_sha256: str
    thumbnail: bytes
    content_type: str
    width: int
    height: int
    source_format: str
