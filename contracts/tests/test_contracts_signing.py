"""Draft tokens and signed links: what one service signs, another checks."""

from datetime import UTC, datetime, timedelta

import pytest

from returns_contracts.signing import (
    InvalidToken,
    check_link,
    issue_draft_token,
    read_draft_token,
    sign_link,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def test_a_draft_token_reads_back_its_claims() -> None:
    token = issue_draft_token("s3cret", "shop", "draft-1", LATER)
    claim = read_draft_token("s3cret", token, NOW)
    assert (claim.merchant_id, claim.draft_id, claim.expires_at) == ("shop", "draft-1", LATER)


@pytest.mark.parametrize(
    ("secret", "mutate", "now"),
    [
        ("other", lambda token: token, NOW),
        ("s3cret", lambda token: token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), NOW),
        ("s3cret", lambda token: "x" + token, NOW),
        ("s3cret", lambda token: token.replace(".", ""), NOW),
        ("s3cret", lambda token: token, LATER),
    ],
    ids=["other secret", "altered signature", "altered claims", "malformed", "expired"],
)
def test_a_draft_token_is_refused_when(secret: str, mutate: object, now: datetime) -> None:
    token = issue_draft_token("s3cret", "shop", "draft-1", LATER)
    with pytest.raises(InvalidToken):
        read_draft_token(secret, mutate(token), now)  # type: ignore[operator]


def test_a_signed_link_is_accepted_until_it_expires() -> None:
    query = dict(part.split("=", 1) for part in sign_link("k", "/p/abc", LATER).split("&"))
    check_link("k", "/p/abc", query["exp"], query["sig"], NOW)
    with pytest.raises(InvalidToken):
        check_link("k", "/p/abc", query["exp"], query["sig"], LATER)
    with pytest.raises(InvalidToken):
        check_link("k", "/p/abd", query["exp"], query["sig"], NOW)
    with pytest.raises(InvalidToken):
        check_link("k", "/p/abc", str(int(query["exp"]) + 60), query["sig"], NOW)
