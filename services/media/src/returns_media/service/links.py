"""Signed, expiring links to a photo's image and thumbnail, served by media itself (R13)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from returns_contracts.signing import InvalidToken, check_link, sign_link
from returns_media.domain.errors import NotFound
from returns_media.domain.model import Variant


@dataclass(frozen=True, slots=True)
class PhotoLinks:
    url: str
    thumbnail_url: str
    expires_at: datetime


def photo_path(photo_id: str, variant: Variant) -> str:
    return f"/p/{photo_id}/{variant}"


class LinkSigner:
    def __init__(self, secret: str, base_url: str, ttl: timedelta) -> None:
        self._secret = secret
        self._base_url = base_url.rstrip("/")
        self._ttl = ttl

    def links(self, photo_id: str, now: datetime) -> PhotoLinks:
        # Whole seconds, so that `expires_at` is exactly what the signature covers.
        expires_at = (now + self._ttl).replace(microsecond=0)
        return PhotoLinks(
            url=self._signed(photo_id, "full", expires_at),
            thumbnail_url=self._signed(photo_id, "thumb", expires_at),
            expires_at=expires_at,
        )

    def _signed(self, photo_id: str, variant: Variant, expires_at: datetime) -> str:
        path = photo_path(photo_id, variant)
        return f"{self._base_url}{path}?{sign_link(self._secret, path, expires_at)}"

    def check(self, photo_id: str, variant: Variant, exp: str, sig: str, now: datetime) -> None:
        try:
            check_link(self._secret, photo_path(photo_id, variant), exp, sig, now)
        except InvalidToken as error:
            raise NotFound(LINK_GONE) from error


LINK_GONE = "This photo link is unknown or has expired; ask for a new link."
