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


def _other_spelling(encoded: str) -> str:
    """The same bytes in another base64 spelling: the last character's spare bits flipped."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(encoded) % 4 in (2, 3)  # then the lowest bit of the last character is spare
    return encoded[:-1] + alphabet[alphabet.index(encoded[-1]) ^ 1]


def test_a_link_or_token_in_another_spelling_of_the_same_bytes_is_refused() -> None:
    # A SHA-256 signature is 43 base64 characters whose last one carries 2 spare bits: without a
    # strict decoder, "...0" and "...1" would both pass for the same link.
    query = dict(part.split("=", 1) for part in sign_link("k", "/p/abc", LATER).split("&"))
    respelled = _other_spelling(query["sig"])
    assert respelled != query["sig"]
    with pytest.raises(InvalidToken):
        check_link("k", "/p/abc", query["exp"], respelled, NOW)
    for expiry in (f"+{query['exp']}", f" {query['exp']}", f"0{query['exp']}"):
        with pytest.raises(InvalidToken):
            check_link("k", "/p/abc", expiry, query["sig"], NOW)
    token = issue_draft_token("s3cret", "shop", "draft-1", LATER)
    body, mac = token.split(".")
    with pytest.raises(InvalidToken):
        read_draft_token("s3cret", f"{body}.{_other_spelling(mac)}", NOW)
