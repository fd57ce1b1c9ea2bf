"""Issue 15 on the domain alone: who may resolve which return, with what, and when a resolution
may replace another; the merchant's setting for mixed returns."""

from __future__ import annotations

from datetime import timedelta

import pytest

from returns_declaration.domain.model import Actor, Return, splits_mixed_return
from returns_declaration.domain.resolution import (
    NotAllowedToResolve,
    Resolution,
    ResolutionOutdated,
    ResolverKind,
    decide,
)
from returns_declaration.domain.rules import DeclarationRejected, declare_return

from .builders import CLASSIC_LINE, DEFECTIVE_LINE, NOW, draft, merchant, order, returned

USER = Actor(kind="user", id="julie@shop.example", display_name="Julie")
DEFECTIVE = returned("shop", 1, defective=True)
CLASSIC = returned("shop", 2)


def _decide(
    declared: Return = DEFECTIVE,
    current: Resolution | None = None,
    *,
    kind: str = "refund_without_return",
    note: str | None = None,
    resolver: ResolverKind = "user",
    at_minutes: int = 0,
    locale: str = "fr",
) -> Resolution | None:
    return decide(
        declared,
        current,
        kind=kind,
        note=note,
        resolver=resolver,
        actor=USER,
        at=NOW + timedelta(minutes=at_minutes),
        event_id=f"e-{at_minutes}",
        locale="fr" if locale == "fr" else "en",
    )


def _codes(error: pytest.ExceptionInfo[DeclarationRejected]) -> dict[str, str]:
    return {item.field: item.code for item in error.value.errors}


@pytest.mark.parametrize("kind", ["label", "refund_without_return", "replacement"])
@pytest.mark.parametrize("resolver", ["user", "api_key"])
def test_a_merchant_user_or_api_key_resolves_a_defective_return(
    kind: str, resolver: ResolverKind
) -> None:
    resolution = _decide(kind=kind, resolver=resolver, note="  Sorry for that.  ")

    assert resolution is not None
    assert (resolution.kind, resolution.note, resolution.actor) == (kind, "Sorry for that.", USER)


def test_the_operator_may_not_decide_a_merchant_s_return() -> None:
    with pytest.raises(NotAllowedToResolve):
        _decide(resolver="operator")


def test_a_classic_return_needs_no_resolution() -> None:
    with pytest.raises(DeclarationRejected) as refused:
        _decide(CLASSIC)

    assert _codes(refused) == {"return": "not_defective"}


def test_an_unknown_resolution_is_refused_in_the_merchant_s_language() -> None:
    with pytest.raises(DeclarationRejected) as refused:
        _decide(kind="exchange", locale="en")

    assert _codes(refused) == {"resolution": "unknown_resolution"}
    assert refused.value.errors[0].message.startswith("Choose a resolution")


@pytest.mark.parametrize("note", [None, "", "   ", "Too bad."])
def test_declining_needs_a_reason_the_customer_reads(note: str | None) -> None:
    with pytest.raises(DeclarationRejected) as refused:
        _decide(kind="declined", note=note)

    assert _codes(refused) == {"note": "decline_reason_required"}
    assert "pourquoi" in refused.value.errors[0].message


def test_a_declined_return_keeps_its_reason() -> None:
    resolution = _decide(kind="declined", note="The scratch comes from a fall after delivery.")

    assert resolution is not None and resolution.note is not None
    assert resolution.note.startswith("The scratch")


def test_a_note_longer_than_2000_characters_is_refused() -> None:
    with pytest.raises(DeclarationRejected) as refused:
        _decide(note="x" * 2001)

    assert _codes(refused) == {"note": "note_too_long"}


def test_a_resolution_is_replaced_only_by_a_newer_one() -> None:
    first = _decide(kind="replacement", at_minutes=5)
    assert first is not None

    newer = _decide(current=first, kind="refund_without_return", at_minutes=6)
    with pytest.raises(ResolutionOutdated):
        _decide(current=first, kind="refund_without_return", at_minutes=5)
    with pytest.raises(ResolutionOutdated):
        _decide(current=first, kind="label", at_minutes=4)

    assert newer is not None and newer.kind == "refund_without_return"


def test_the_same_decision_again_changes_nothing() -> None:
    first = _decide(kind="replacement", note="On its way.", at_minutes=5)

    again = _decide(current=first, kind="replacement", note=" On its way. ", at_minutes=9)

    assert again is None


def test_one_defective_line_holds_the_whole_return_unless_the_merchant_splits_mixed_ones() -> None:
    lines = DEFECTIVE.lines + CLASSIC.lines
    only_defective = DEFECTIVE.lines

    assert splits_mixed_return(False, lines) is False
    assert splits_mixed_return(True, lines) is True
    assert splits_mixed_return(True, only_defective) is False
    assert splits_mixed_return(True, CLASSIC.lines) is False


@pytest.mark.parametrize(("setting", "status"), [(False, "awaiting_merchant"), (True, "pending")])
def test_a_mixed_return_s_first_label_status_follows_the_merchant_s_setting(
    setting: bool, status: str
) -> None:
    shop = merchant().model_copy(update={"split_mixed_returns": setting})

    declared = declare_return(
        shop, order(), draft(DEFECTIVE_LINE, CLASSIC_LINE), {}, now=NOW + timedelta(minutes=1)
    )
    alone = declare_return(shop, order(), draft(DEFECTIVE_LINE), {}, now=NOW)

    assert declared.defective and declared.split_mixed is setting
    assert declared.first_label_status() == status
    assert alone.first_label_status() == "awaiting_merchant"
