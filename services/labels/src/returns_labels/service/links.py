"""Signed download links to label PDFs: `GET /l/{label_id}.pdf?exp=...&sig=...`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from returns_contracts.signing import check_link, sign_link


def label_path(label_id: str) -> str:
    return f"/l/{label_id}.pdf"


@dataclass(frozen=True, slots=True)
class LabelLinks:
    base_url: str
    secret: str
    lifetime: timedelta

    def url(self, label_id: str, issued_at: datetime) -> str:
        """A link valid for `lifetime` from `issued_at`; the same inputs give the same link."""
        path = label_path(label_id)
        query = sign_link(self.secret, path, issued_at + self.lifetime)
        return f"{self.base_url.rstrip('/')}{path}?{query}"

    def check(self, label_id: str, exp: str, sig: str, now: datetime) -> None:
        """Raise `returns_contracts.signing.InvalidToken` unless the link is genuine and alive."""
        check_link(self.secret, label_path(label_id), exp, sig, now)
