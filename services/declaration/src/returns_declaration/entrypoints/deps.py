"""One policy for the JSON API and the pages: who calls, from which address, at what time, what
they may reach, and how a refusal they share is worded.

The API (entrypoints/http.py) and the pages (entrypoints/web/) both ask here, so the two doors
cannot drift apart: the same caller kinds and tenant guard (R12), the same client address behind
a proxy for the sign-in limits, the injected clock for every token, the same "too many
attempts" answer, the same actor on a label request (R11), the same test of a list cursor.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from fastapi import Request

from returns_contracts.service_kit.bounds import ID_PATTERN, TOKEN_MAX
from returns_contracts.service_kit.http import client_address
from returns_contracts.signing import InvalidToken
from returns_declaration.bootstrap import Container
from returns_declaration.domain.model import Actor, Locale
from returns_declaration.domain.rules import field_error
from returns_declaration.entrypoints.texts import text
from returns_declaration.service.errors import (
    InvalidCursor,
    SessionRefused,
    TooManyAttempts,
    UnknownMerchant,
)
from returns_declaration.service.ports import ReturnFilter, ReturnPage
from returns_declaration.service.sessions import (
    PortalSession,
    issue_user_token,
    read_user_token,
)

__all__ = [
    "BACK_OFFICE_SESSION_TTL",
    "Caller",
    "Deps",
    "InvalidCursor",
    "NotAuthenticated",
    "OperatorOnly",
    "ids_look_right",
    "too_many_attempts",
]

# How long a back-office user stays signed in to the pages.
BACK_OFFICE_SESSION_TTL = timedelta(hours=8)


class NotAuthenticated(Exception):
    pass


class OperatorOnly(Exception):
    pass


@dataclass(frozen=True)
class Caller:
    """Who calls the back-office: the operator (API), one merchant's API key (API), or one
    merchant's user signed in to the back-office pages."""

    kind: Literal["operator", "api_key", "user"]
    id: str
    merchant_id: str | None
    display_name: str | None = None

    def actor(self, name: str | None = None) -> Actor:
        """Who the timeline says acted (R11): a person (the operator or a user) or an API key,
        under the name given with the request, else the user's own name."""
        return Actor(
            kind="api_key" if self.kind == "api_key" else "user",
            id=self.id,
            display_name=name if name is not None else self.display_name,
        )


@dataclass(frozen=True)
class TooMany:
    """A sign-in refused for too many attempts, as the API and the pages both say it."""

    message: str
    retry_after_seconds: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


def too_many_attempts(error: TooManyAttempts) -> TooMany:
    locale: Locale = "fr" if error.locale == "fr" else "en"
    minutes = max(1, error.retry_after_seconds // 60)
    return TooMany(text(locale, "too_many_attempts", minutes=minutes), error.retry_after_seconds)


def ids_look_right(request: Request) -> bool:
    """Whether every id in the path could name something; one that cannot is a page not found
    in the caller's language, never a trip to the store (the API's path patterns say 422)."""
    return all(
        isinstance(value, str) and re.fullmatch(ID_PATTERN, value)
        for value in request.path_params.values()
    )


class Deps:
    """The policy of both doors, on the container's use cases."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.merchants = container.merchants
        self.portal = container.portal
        self.back_office = container.back_office
        self.users = container.users
        self.photos = container.photos
        settings = container.settings
        self.secret = settings.portal_token_secret
        self.admin_api_token = settings.admin_api_token
        self.trust_forwarded_for = settings.trust_forwarded_for

    def now(self) -> datetime:
        """The injected clock, the same as the use cases'."""
        return self.container.now()

    def client_address(self, request: Request) -> str:
        """Where the request comes from, as the sign-in limits count it (behind a proxy too)."""
        return client_address(request, self.trust_forwarded_for)

    # --- callers ----------------------------------------------------------------------------

    async def api_caller(self, token: str | None) -> Caller:
        """The operator's token or a merchant's API key, from `Authorization: Bearer`."""
        if token is None:
            raise NotAuthenticated("Send `Authorization: Bearer <API key>`.")
        if hmac.compare_digest(token.encode(), self.admin_api_token.encode()):
            return Caller("operator", "operator", None)
        key = await self.merchants.authenticate_api_key(token)
        if key is None:
            raise NotAuthenticated("This API key is unknown or revoked.")
        return Caller("api_key", key.key_id, key.merchant_id)

    async def back_office_caller(self, token: str | None) -> Caller | None:
        """The user a back-office session cookie names, while it has not expired."""
        if not token:
            return None
        try:
            email = read_user_token(self.secret, token, self.now())
        except InvalidToken:
            return None
        user = await self.users.user(email)
        if user is None:
            return None
        return Caller("user", user.email, user.merchant_id, user.display_name)

    def back_office_token(self, email: str) -> str:
        return issue_user_token(self.secret, email, self.now() + BACK_OFFICE_SESSION_TTL)

    async def portal_session(self, merchant_id: str, token: str | None) -> PortalSession:
        """The customer's portal session for this merchant; SessionRefused (in the merchant's
        language) without one, with an altered or expired one, or with another merchant's."""
        if not token:
            merchant = await self.merchants.merchant(merchant_id)
            raise SessionRefused([field_error(merchant.locale, "session", "session_invalid")])
        return await self.portal.session(merchant_id, token)

    # --- the tenant and operator guard (R12) ------------------------------------------------

    @staticmethod
    def may_reach(caller: Caller, merchant_id: str) -> bool:
        return caller.kind == "operator" or caller.merchant_id == merchant_id

    def require_merchant(self, caller: Caller, merchant_id: str) -> None:
        """Another merchant's data answers exactly like data that does not exist."""
        if not self.may_reach(caller, merchant_id):
            raise UnknownMerchant(merchant_id)

    @staticmethod
    def require_operator(caller: Caller) -> None:
        if caller.kind != "operator":
            raise OperatorOnly()

    # --- lists ------------------------------------------------------------------------------

    async def returns_page(
        self, merchant_id: str, where: ReturnFilter, limit: int, cursor: str | None
    ) -> ReturnPage:
        """A page of the merchant's returns; InvalidCursor for a cursor this service did not
        give out (the API answers 422, a page shows the first page and says so)."""
        if cursor is not None and len(cursor) > TOKEN_MAX:
            raise InvalidCursor(cursor[:16])
        return await self.back_office.list_returns(merchant_id, where, limit, cursor)
