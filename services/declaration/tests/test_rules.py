"""R2-R8 on the domain alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from returns_declaration.domain.model import RequestedLine, ReturnRequest
from returns_declaration.domain.rules import DeclarationRejected, declare_return

from .builders import merchant, order

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DEFECTIVE = RequestedLine(
    line_id="1",
    quantity=1,
    reason_code="damaged",
    comment="  Cracked handle, see photo.  ",
    media_ids=("p1",),
)
CLASSIC = RequestedLine(line_id="2", quantity=1, reason_code="too_big", return_type="refund")


def request(*lines: RequestedLine, email: str = "ana@example.com") -> ReturnRequest:
    return ReturnRequest(order_number="A-1", email=email, lines=lines)


def rejected_fields(error: pytest.ExceptionInfo[DeclarationRejected]) -> dict[str, str]:
    return {item.field: item.code for item in error.value.errors}


def test_a_return_with_one_defective_line_is_defective() -> None:
    declared = declare_return(
        merchant(), order(), request(DEFECTIVE, CLASSIC), return_id="r", now=NOW
    )
    assert declared.defective is True
    assert [line.defective for line in declared.lines] == [True, False]
    assert declared.lines[0].comment == "Cracked handle, see photo."
    assert declared.lines[0].return_type is None


def test_a_return_without_defective_line_is_classic() -> None:
    declared = declare_return(merchant(), order(), request(CLASSIC), return_id="r", now=NOW)
    assert declared.defective is False
    assert declared.lines[0].reason_label == "Trop grand"


def test_wrong_email_and_unknown_order_get_the_same_answer() -> None:
    with pytest.raises(DeclarationRejected) as wrong_email:
        declare_return(merchant(), order(), request(CLASSIC, email="x@y.z"), return_id="r", now=NOW)
    with pytest.raises(DeclarationRejected) as no_order:
        declare_return(merchant(), None, request(CLASSIC), return_id="r", now=NOW)
    assert wrong_email.value.errors == no_order.value.errors


def test_email_match_ignores_case_and_spaces() -> None:
    declared = declare_return(
        merchant(), order(), request(CLASSIC, email=" ANA@example.COM "), return_id="r", now=NOW
    )
    assert declared.customer.name == "Ana"


@pytest.mark.parametrize(
    ("line", "field", "code"),
    [
        (DEFECTIVE.model_copy(update={"media_ids": ()}), "lines[0].media_ids", "photos_count"),
        (
            DEFECTIVE.model_copy(update={"media_ids": tuple(f"p{i}" for i in range(6))}),
            "lines[0].media_ids",
            "photos_count",
        ),
        (
            DEFECTIVE.model_copy(update={"comment": "   short   "}),
            "lines[0].comment",
            "comment_length",
        ),
        (
            DEFECTIVE.model_copy(update={"comment": "x" * 2001}),
            "lines[0].comment",
            "comment_length",
        ),
        (DEFECTIVE.model_copy(update={"comment": None}), "lines[0].comment", "comment_length"),
        (
            DEFECTIVE.model_copy(update={"return_type": "refund"}),
            "lines[0].return_type",
            "return_type_not_for_defective",
        ),
        (
            CLASSIC.model_copy(update={"return_type": None}),
            "lines[0].return_type",
            "return_type_required",
        ),
        (
            CLASSIC.model_copy(update={"return_type": "store_credit"}),
            "lines[0].return_type",
            "return_type_required",
        ),
        (
            CLASSIC.model_copy(update={"reason_code": "old"}),
            "lines[0].reason_code",
            "unknown_reason",
        ),
        (
            CLASSIC.model_copy(update={"reason_code": "nope"}),
            "lines[0].reason_code",
            "unknown_reason",
        ),
        (CLASSIC.model_copy(update={"line_id": "9"}), "lines[0].line_id", "unknown_line"),
    ],
)
def test_each_broken_rule_names_its_field(line: RequestedLine, field: str, code: str) -> None:
    with pytest.raises(DeclarationRejected) as error:
        declare_return(merchant(), order(), request(line), return_id="r", now=NOW)
    assert rejected_fields(error) == {field: code}


def test_comment_of_exactly_ten_characters_after_trimming_is_accepted() -> None:
    line = DEFECTIVE.model_copy(update={"comment": "  0123456789  "})
    declared = declare_return(merchant(), order(), request(line), return_id="r", now=NOW)
    assert declared.lines[0].comment == "0123456789"


def test_messages_follow_the_merchant_locale() -> None:
    line = DEFECTIVE.model_copy(update={"media_ids": ()})
    with pytest.raises(DeclarationRejected) as french:
        declare_return(merchant("fr"), order(), request(line), return_id="r", now=NOW)
    with pytest.raises(DeclarationRejected) as english:
        declare_return(merchant("en"), order(), request(line), return_id="r", now=NOW)
    assert french.value.errors[0].message.startswith("Ajoutez")
    assert english.value.errors[0].message.startswith("Add")


def test_lines_outside_the_return_window_are_refused() -> None:
    with pytest.raises(DeclarationRejected) as error:
        declare_return(merchant(window_days=2), order(), request(CLASSIC), return_id="r", now=NOW)
    assert rejected_fields(error) == {"lines[0].line_id": "window_closed"}


def test_the_same_line_twice_is_refused() -> None:
    with pytest.raises(DeclarationRejected) as error:
        declare_return(merchant(), order(), request(CLASSIC, CLASSIC), return_id="r", now=NOW)
    assert rejected_fields(error) == {"lines[1].line_id": "duplicate_line"}


@given(quantity=st.integers(min_value=-5, max_value=10))
def test_quantity_is_between_one_and_what_was_ordered(quantity: int) -> None:
    line = CLASSIC.model_copy(update={"line_id": "1", "quantity": quantity})
    if 1 <= quantity <= 3:
        declared = declare_return(merchant(), order(), request(line), return_id="r", now=NOW)
        assert declared.lines[0].quantity == quantity
    else:
        with pytest.raises(DeclarationRejected) as error:
            declare_return(merchant(), order(), request(line), return_id="r", now=NOW)
        assert rejected_fields(error) == {"lines[0].quantity": "quantity_out_of_range"}
