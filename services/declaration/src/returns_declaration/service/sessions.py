"""Portal sessions: a signed, expiring token naming one order of one merchant (R2).

The token carries its claims, so no session is stored; it is signed with the shared portal
secret through the same HMAC helper as the expiring links, on a path that no link uses.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from returns_contracts.signing import InvalidToken, check_link, sign_link


@dataclass(frozen=True)
class PortalSession:
    merchant_id: str
    order_number: str
    expires_at: datetime


def _path(merchant_id: str, order_number: str) -> str:
    return f"portal-session/{merchant_id}/{order_number}"


def issue_session_token(secret: str, session: PortalSession) -> str:
    claims = json.dumps([session.merchant_id, session.order_number], separators=(",", ":"))
    body = base64.urlsafe_b64encode(claims.encode()).decode().rstrip("=")
    query = sign_link(secret, _path(session.merchant_id, session.order_number), session.expires_at)
    parts = dict(part.split("=", 1) for part in query.split("&"))
    return f"{body}.{parts['exp']}.{parts['sig']}"


def read_session_token(secret: str, token: str, now: datetime) -> PortalSession:
    """The session the token names; InvalidToken when altered, foreign or expired."""
    try:
        body, exp, sig = token.split(".")
        merchant_id, order_number = json.loads(
            base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        )
        if not isinstance(merchant_id, str) or not isinstance(order_number, str):
            raise ValueError("claims are not strings")
    except (ValueError, TypeError) as error:
        raise InvalidToken("malformed session token") from error
    check_link(secret, _path(merchant_id, order_number), exp, sig, now)
    return PortalSession(merchant_id, order_number, datetime.fromtimestamp(int(exp), UTC))


def _user_path(email: str) -> str:
    return f"back-office-session/{email}"


def issue_user_token(secret: str, email: str, expires_at: datetime) -> str:
    """A back-office session cookie: the user's e-mail, signed and expiring."""
    body = base64.urlsafe_b64encode(email.encode()).decode().rstrip("=")
    query = sign_link(secret, _user_path(email), expires_at)
    parts = dict(part.split("=", 1) for part in query.split("&"))
    return f"{body}.{parts['exp']}.{parts['sig']}"


def read_user_token(secret: str, token: str, now: datetime) -> str:
    """The e-mail the token names; InvalidToken when altered or expired."""
    try:
        body, exp, sig = token.split(".")
        email = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise InvalidToken("malformed session token") from error
    check_link(secret, _user_path(email), exp, sig, now)
    return email
