"""Signed tokens and links that one service issues and another checks, without a lookup.

- A *draft token* proves that the holder opened a portal session for one draft return of one
  merchant: declaration issues it, media checks it on every photo upload.
- A *signed link* lets whoever holds it download one object until it expires (photos in a
  customer-service e-mail, a label PDF): the bucket stays private and ids cannot be guessed.

Both are HMAC-SHA256 over the exact claims with a secret from the environment; comparison is
constant-time; expiry is checked against the caller's clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime


class InvalidToken(ValueError):
    """The token or link is malformed, altered, signed with another secret, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Strict: only the one encoding `_b64` writes. Base64 leaves spare bits in a last
    character, so several strings decode to the same bytes; accepting them all would let anyone
    make new-looking copies of a token or link that still work."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not the canonical encoding")
    return data


def _mac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


@dataclass(frozen=True)
class DraftClaim:
    merchant_id: str
    draft_id: str
    expires_at: datetime


def issue_draft_token(secret: str, merchant_id: str, draft_id: str, expires_at: datetime) -> str:
    claims = {"m": merchant_id, "d": draft_id, "exp": int(expires_at.timestamp())}
    body = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(body)}.{_b64(_mac(secret, b'draft:' + body))}"


def read_draft_token(secret: str, token: str, now: datetime) -> DraftClaim:
    try:
        body_part, mac_part = token.split(".")
        body = _unb64(body_part)
        mac = _unb64(mac_part)
    except ValueError as error:
        raise InvalidToken("malformed draft token") from error
    if not hmac.compare_digest(mac, _mac(secret, b"draft:" + body)):
        raise InvalidToken("draft token signature does not match")
    try:
        claims = json.loads(body)
        claim = DraftClaim(
            merchant_id=str(claims["m"]),
            draft_id=str(claims["d"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidToken("malformed draft token claims") from error
    if now >= claim.expires_at:
        raise InvalidToken("draft token expired")
    return claim


def sign_link(secret: str, path: str, expires_at: datetime) -> str:
    """The query string (`exp=...&sig=...`) that makes `path` downloadable until `expires_at`."""
    expires = int(expires_at.timestamp())
    signature = _b64(_mac(secret, f"link:{path}:{expires}".encode()))
    return f"exp={expires}&sig={signature}"


def check_link(secret: str, path: str, exp: str, sig: str, now: datetime) -> None:
    """Raise InvalidToken unless `sig` signs `path` until `exp` and `exp` is in the future."""
    try:
        expires = int(exp)
        given = _unb64(sig)
    except ValueError as error:
        raise InvalidToken("malformed link") from error
    if str(expires) != exp:  # "+17...", " 17...", "1_7..." name the same time: one spelling
        raise InvalidToken("malformed link")
    if not hmac.compare_digest(given, _mac(secret, f"link:{path}:{expires}".encode())):
        raise InvalidToken("link signature does not match")
    if now.timestamp() >= expires:
        raise InvalidToken("link expired")
