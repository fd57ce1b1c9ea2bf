"""The customer's signed links (issue 15): to the status page of one return, and to the answer
page of one question about one return.

Each link is the page's path plus `exp` and `sig`: HMAC-SHA256 (the shared helper of
`returns_contracts.signing`) over a path that names the merchant, the return and, for an answer,
the question, so a link opens that page of that return only, until it expires. The secret is
the setting `CUSTOMER_LINK_SECRET` (a demo default: set a real one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote

from returns_contracts.signing import InvalidToken, check_link, sign_link

LinkProblem = Literal["invalid", "expired"]


class LinkRefused(Exception):
    """A link that was altered, signed for another return or question, or has expired."""

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem)
        self.problem: LinkProblem = problem


@dataclass(frozen=True)
class SignedLink:
    url: str
    expires_at: datetime


def _status_claim(merchant_id: str, return_id: str) -> str:
    return f"customer-status/{merchant_id}/{return_id}"


def _answer_claim(merchant_id: str, return_id: str, question_id: str) -> str:
    return f"customer-answer/{merchant_id}/{return_id}/{question_id}"


class CustomerLinks:
    def __init__(
        self,
        secret: str,
        portal_base_url: str,
        status_ttl: timedelta = timedelta(days=90),
        answer_ttl: timedelta = timedelta(days=7),
    ) -> None:
        self.secret = secret
        self.portal_base_url = portal_base_url.rstrip("/")
        self.status_ttl = status_ttl
        self.answer_ttl = answer_ttl

    def status_path(self, merchant_id: str, return_id: str) -> str:
        return f"/{quote(merchant_id)}/returns/{quote(return_id)}/status"

    def answer_path(self, merchant_id: str, return_id: str, question_id: str) -> str:
        return f"/{quote(merchant_id)}/returns/{quote(return_id)}/questions/{quote(question_id)}"

    def status(self, merchant_id: str, return_id: str, now: datetime) -> SignedLink:
        expires_at = now + self.status_ttl
        query = sign_link(self.secret, _status_claim(merchant_id, return_id), expires_at)
        path = self.status_path(merchant_id, return_id)
        return SignedLink(f"{self.portal_base_url}{path}?{query}", _whole_second(expires_at))

    def answer(
        self, merchant_id: str, return_id: str, question_id: str, now: datetime
    ) -> SignedLink:
        expires_at = now + self.answer_ttl
        query = sign_link(
            self.secret, _answer_claim(merchant_id, return_id, question_id), expires_at
        )
        path = self.answer_path(merchant_id, return_id, question_id)
        return SignedLink(f"{self.portal_base_url}{path}?{query}", _whole_second(expires_at))

    def check_status(
        self, merchant_id: str, return_id: str, exp: str, sig: str, now: datetime
    ) -> None:
        _check(self.secret, _status_claim(merchant_id, return_id), exp, sig, now)

    def check_answer(
        self, merchant_id: str, return_id: str, question_id: str, exp: str, sig: str, now: datetime
    ) -> None:
        _check(self.secret, _answer_claim(merchant_id, return_id, question_id), exp, sig, now)


def _whole_second(moment: datetime) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()), UTC)


def _check(secret: str, claim: str, exp: str, sig: str, now: datetime) -> None:
    try:
        check_link(secret, claim, exp, sig, now)
    except InvalidToken as error:
        # Only a link whose signature holds can be called expired: an altered `exp` is invalid.
        try:
            check_link(secret, claim, exp, sig, datetime.fromtimestamp(0, UTC))
        except InvalidToken:
            raise LinkRefused("invalid") from error
        raise LinkRefused("expired") from error
