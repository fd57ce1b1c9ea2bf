"""Links carried into e-mails from payloads (kept apart so every e-mail module can use it)."""

from __future__ import annotations


def safe_link(url: str | None) -> str | None:
    """A URL fit for an href: http(s) only, so a payload cannot smuggle `javascript:` in."""
    if url is None:
        return None
    stripped = url.strip()
    return stripped if stripped.lower().startswith(("https://", "http://")) else None
