"""R1-R8 on the domain alone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from returns_declaration.domain import rules, views
from returns_declaration.domain.model import DraftLine, Reason, Reservations
from returns_declaration.domain.rules import (
    DeclarationRejected,
    RequestedQuantity,
    declare_return,
    start_draft,
)

from .builders import CLASSIC_LINE, DEFECTIVE_LINE, NOW, draft, merchant, order, returned


def fields(error: pytest.ExceptionInfo[DeclarationRejected]) -> dict[str, str]:
    return {item.field: item.code for item in error.value.errors}


def start(*lines: tuple[str, int], reservations: Reservations | None = None, window: int = 30):  # type: ignore[no-untyped-def]
    return start_draft(
        merchant(window_days=window),
        order(),
        reservations or {},
        [RequestedQuantity(line_id, quantity) for line_id, quantity in lines],
        draft_id="d1",
        now=NOW,
        expires_at=NOW + timedelta(hours=1),
    )


# --- R1 ---------------------------------------------------------------------------------------


def test_reasons_can_be_added_renamed_flagged_and_retired() -> None:
    shop = rules.put_reason(merchant(), Reason(code="late", label_fr="Retard", label_en="Late"))
    assert shop.reason("late") is not None
    shop = rules.put_reason(
        shop, Reason(code="late", label_fr="En retard", label_en="Late", defective=True)
    )
    late = shop.reason("late")
    assert late is not None and late.label_fr == "En retard" and late.defective
    shop = rules.retire_reason(shop, "late")
    retired = shop.reason("late")
    assert retired is not None and retired.retired  # still there, for old returns
    assert "late" not in [reason.code for reason in shop.active_reasons()]


def test_retiring_an_unknown_reason_is_a_field_error() -> None:
    with pytest.raises(DeclarationRejected) as error:
        rules.retire_reason(merchant(), "nope")
    assert fields(error) == {"code": "reason_unknown_to_merchant"}


def test_a_retired_reason_is_not_offered_but_old_returns_keep_its_labels() -> None:
    declared = declare_return(merchant(), order(), draft(CLASSIC_LINE), {}, now=NOW)
    retired = rules.retire_reason(merchant(), "too_big")
    with pytest.raises(DeclarationRejected) as error:
        rules.choose_reason(retired, draft(CLASSIC_LINE), "2", "too_big", NOW)
    assert fields(error) == {"reason_code": "unknown_reason"}
    assert declared.lines[0].reason_label == "Trop grand"
    assert declared.lines[0].reason_label_en == "Too big"


# --- R2 ---------------------------------------------------------------------------------------


def test_the_order_email_identifies_the_customer_ignoring_case_and_spaces() -> None:
    assert rules.customer_owns_order(order(), "  ana@EXAMPLE.com ")
    assert not rules.customer_owns_order(order(), "someone@example.com")
    assert not rules.customer_owns_order(None, "ana@example.com")


# --- R3 ---------------------------------------------------------------------------------------


@given(
    ordered=st.integers(min_value=1, max_value=20),
    earlier=st.lists(st.integers(min_value=0, max_value=10), max_size=5),
)
def test_returnable_is_ordered_minus_earlier_returns_never_negative(
    ordered: int, earlier: list[int]
) -> None:
    base = order()
    line = base.lines[0].model_copy(update={"quantity": ordered})
    the_order = base.model_copy(update={"lines": (line, base.lines[1])})
    reservations = {f"r{index}": {"1": quantity} for index, quantity in enumerate(earlier)}
    returnable = rules.returnable_quantities(the_order, reservations)
    assert returnable["1"] == max(0, ordered - sum(earlier))
    assert returnable["2"] == 1


@given(taken=st.integers(min_value=0, max_value=3), wanted=st.integers(min_value=-3, max_value=6))
def test_a_draft_takes_between_one_and_what_is_left(taken: int, wanted: int) -> None:
    reservations = {"earlier": {"1": taken}} if taken else {}
    left = 3 - taken
    if left >= 1 and 1 <= wanted <= left:
        assert start(("1", wanted), reservations=reservations).lines[0].quantity == wanted
    else:
        with pytest.raises(DeclarationRejected) as error:
            start(("1", wanted), reservations=reservations)
        expected = "nothing_left_to_return" if left == 0 else "quantity_out_of_range"
        assert fields(error) == {"lines[0].quantity": expected}


@given(st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=8))
def test_successive_returns_never_take_back_more_than_was_ordered(wanted: list[int]) -> None:
    """Each return is checked against what the earlier ones reserved, as submit does: one that
    fits in what is left is accepted, one that does not is refused, never the other way."""
    reservations: Reservations = {}
    left = 3
    for index, quantity in enumerate(wanted):
        line = CLASSIC_LINE.model_copy(update={"line_id": "1", "quantity": quantity})
        attempt = draft(line, draft_id=f"r{index}")
        if quantity > left:
            with pytest.raises(DeclarationRejected):
                declare_return(merchant(), order(), attempt, reservations, now=NOW)
            continue
        declared = declare_return(merchant(), order(), attempt, reservations, now=NOW)
        reservations[declared.id] = rules.reservation_of(declared)
        left -= quantity
    assert rules.reserved_quantities(reservations).get("1", 0) == 3 - left


def test_a_retry_of_the_same_return_sees_the_quantities_its_first_attempt_saw() -> None:
    line = CLASSIC_LINE.model_copy(update={"line_id": "1", "quantity": 3})
    declared = declare_return(merchant(), order(), draft(line), {"d1": {"1": 3}}, now=NOW)
    assert declared.lines[0].quantity == 3


def test_lines_outside_the_return_window_are_not_selectable_and_say_why() -> None:
    with pytest.raises(DeclarationRejected) as error:
        start(("2", 1), window=2)
    assert fields(error) == {"lines[0].line_id": "window_closed"}
    assert "2026-11-22" in error.value.errors[0].message


def test_step_one_refuses_nothing_selected_unknown_and_duplicate_lines() -> None:
    with pytest.raises(DeclarationRejected) as nothing:
        start()
    assert fields(nothing) == {"lines": "no_lines"}
    with pytest.raises(DeclarationRejected) as error:
        start(("2", 1), ("2", 1), ("9", 1))
    assert fields(error) == {
        "lines[1].line_id": "duplicate_line",
        "lines[2].line_id": "unknown_line",
    }


# --- R4-R6 ------------------------------------------------------------------------------------


def test_choosing_a_defective_reason_drops_the_return_type_and_a_classic_one_the_photos() -> None:
    line = DraftLine(line_id="1", quantity=1, reason_code="too_big", return_type="refund")
    changed = rules.choose_reason(merchant(), draft(line), "1", "damaged", NOW)
    assert changed.lines[0].return_type is None
    back = rules.choose_reason(merchant(), draft(DEFECTIVE_LINE), "1", "too_big", NOW)
    assert (back.lines[0].comment, back.lines[0].photo_ids) == (None, ())


def test_a_reason_must_be_an_active_one_of_the_merchant() -> None:
    for code in ("old", "nope"):
        with pytest.raises(DeclarationRejected) as error:
            rules.choose_reason(merchant(), draft(CLASSIC_LINE), "2", code, NOW)
        assert fields(error) == {"reason_code": "unknown_reason"}


def test_a_classic_line_needs_a_return_type_the_merchant_offers() -> None:
    line = CLASSIC_LINE.model_copy(update={"return_type": None})
    for offered in ("refund", "exchange"):
        changed = rules.choose_return_type(merchant(), draft(line), "2", offered, NOW)
        assert changed.lines[0].return_type == offered
    for refused in ("store_credit", None):
        with pytest.raises(DeclarationRejected) as error:
            rules.choose_return_type(merchant(), draft(line), "2", refused, NOW)
        assert fields(error) == {"return_type": "return_type_required"}


def test_a_defective_line_takes_no_return_type() -> None:
    with pytest.raises(DeclarationRejected) as error:
        rules.choose_return_type(merchant(), draft(DEFECTIVE_LINE), "1", "refund", NOW)
    assert fields(error) == {"return_type": "return_type_not_for_defective"}


@pytest.mark.parametrize(
    ("comment", "photos", "expected"),
    [
        ("  short   ", ["p1"], {"comment": "comment_length"}),
        (None, ["p1"], {"comment": "comment_length"}),
        ("x" * 2001, ["p1"], {"comment": "comment_length"}),
        ("Cracked along the handle.", [], {"photo_ids": "photos_count"}),
        ("Cracked along the handle.", [f"p{i}" for i in range(6)], {"photo_ids": "photos_count"}),
        ("Cracked along the handle.", ["p1", "p1"], {"photo_ids[1]": "duplicate_photo"}),
        ("Cracked along the handle.", ["elsewhere"], {"photo_ids[0]": "unknown_photo"}),
    ],
)
def test_a_defective_line_needs_a_comment_and_photos_of_this_draft(
    comment: str | None, photos: list[str], expected: dict[str, str]
) -> None:
    of_draft = {f"p{i}" for i in range(6)}
    line = DEFECTIVE_LINE.model_copy(update={"comment": None, "photo_ids": ()})
    with pytest.raises(DeclarationRejected) as error:
        rules.describe_defect(merchant(), draft(line), "1", comment, photos, of_draft, NOW)
    assert fields(error) == expected


@given(
    padding=st.integers(min_value=0, max_value=5), length=st.integers(min_value=0, max_value=2100)
)
def test_the_comment_is_trimmed_then_between_10_and_2000_characters(
    padding: int, length: int
) -> None:
    comment = " " * padding + "x" * length + " " * padding
    line = DEFECTIVE_LINE.model_copy(update={"comment": None, "photo_ids": ()})
    if 10 <= length <= 2000:
        changed = rules.describe_defect(merchant(), draft(line), "1", comment, ["p1"], {"p1"}, NOW)
        assert changed.lines[0].comment == "x" * length
    else:
        with pytest.raises(DeclarationRejected):
            rules.describe_defect(merchant(), draft(line), "1", comment, ["p1"], {"p1"}, NOW)


def test_comment_and_photos_are_refused_on_a_classic_line() -> None:
    with pytest.raises(DeclarationRejected) as error:
        rules.describe_defect(
            merchant(), draft(CLASSIC_LINE), "2", "A long enough comment", ["p1"], {"p1"}, NOW
        )
    assert fields(error) == {"comment": "details_not_for_classic"}


def test_messages_follow_the_merchant_locale() -> None:
    line = DEFECTIVE_LINE.model_copy(update={"photo_ids": ()})
    with pytest.raises(DeclarationRejected) as french:
        rules.describe_defect(merchant("fr"), draft(line), "1", "Long enough text", [], set(), NOW)
    with pytest.raises(DeclarationRejected) as english:
        rules.describe_defect(merchant("en"), draft(line), "1", "Long enough text", [], set(), NOW)
    assert french.value.errors[0].message.startswith("Ajoutez")
    assert english.value.errors[0].message.startswith("Add")


def test_a_submitted_or_expired_draft_can_no_longer_change() -> None:
    submitted = draft(CLASSIC_LINE).model_copy(update={"submitted_return_id": "d1"})
    with pytest.raises(DeclarationRejected) as error:
        rules.choose_reason(merchant(), submitted, "2", "too_big", NOW)
    assert fields(error) == {"draft": "draft_submitted"}
    with pytest.raises(DeclarationRejected) as expired:
        rules.choose_reason(
            merchant(), draft(CLASSIC_LINE), "2", "too_big", NOW + timedelta(days=2)
        )
    assert fields(expired) == {"draft": "draft_expired"}


# --- R7, R8 -----------------------------------------------------------------------------------


def test_submit_checks_every_line_again_and_names_each_missing_field() -> None:
    incomplete = (
        DraftLine(line_id="1", quantity=1),
        CLASSIC_LINE.model_copy(update={"return_type": None}),
    )
    with pytest.raises(DeclarationRejected) as error:
        declare_return(merchant(), order(), draft(*incomplete), {}, now=NOW)
    assert fields(error) == {
        "lines[0].reason_code": "reason_required",
        "lines[1].return_type": "return_type_required",
    }
    assert rules.missing_steps(merchant(), incomplete[0]) == ["reason_code"]
    assert rules.missing_steps(merchant(), DEFECTIVE_LINE) == []


def test_submit_refuses_quantities_other_returns_took_meanwhile() -> None:
    with pytest.raises(DeclarationRejected) as error:
        declare_return(merchant(), order(), draft(CLASSIC_LINE), {"other": {"2": 1}}, now=NOW)
    assert fields(error) == {"lines[0].quantity": "nothing_left_to_return"}


def test_a_return_with_one_defective_line_is_defective() -> None:
    declared = declare_return(merchant(), order(), draft(DEFECTIVE_LINE, CLASSIC_LINE), {}, now=NOW)
    assert declared.defective is True
    assert [line.defective for line in declared.lines] == [True, False]
    assert declared.lines[0].comment == "Cracked handle, see photo."
    assert declared.lines[0].return_type is None
    assert declared.lines[0].media_ids == ("p1",)
    assert declared.first_label_status() == "awaiting_merchant"


def test_a_return_without_defective_line_is_classic() -> None:
    declared = declare_return(merchant(), order(), draft(CLASSIC_LINE), {}, now=NOW)
    assert declared.defective is False
    assert declared.first_label_status() == "pending"


@given(st.lists(st.booleans(), min_size=1, max_size=2))
def test_defective_is_exactly_any_line_defective(flags: list[bool]) -> None:
    lines = []
    for index, defective in enumerate(flags):
        template = DEFECTIVE_LINE if defective else CLASSIC_LINE
        lines.append(template.model_copy(update={"line_id": str(index + 1)}))
    declared = declare_return(merchant(), order(), draft(*lines), {}, now=NOW)
    assert declared.defective == any(flags)


def test_a_resumed_submit_is_not_refused_because_time_went_by() -> None:
    """The reservation is held: the first attempt passed the expiry and the window."""
    much_later = NOW + timedelta(days=60)
    with pytest.raises(DeclarationRejected):
        declare_return(merchant(), order(), draft(CLASSIC_LINE), {}, now=much_later)
    declared = declare_return(
        merchant(), order(), draft(CLASSIC_LINE), {"d1": {"2": 1}}, now=much_later
    )
    assert declared.lines[0].quantity == 1


def test_a_sign_in_longer_than_any_order_number_or_address_is_not_worth_a_look() -> None:
    assert rules.could_sign_in("DEMO-1001", "camille.martin@example.com")
    assert rules.could_sign_in(" " + "A" * 64 + " ", "a@b.example")
    assert not rules.could_sign_in("A" * 65, "a@b.example")
    assert not rules.could_sign_in("A-1", "a" * 320 + "@b.example")


def test_only_ids_media_could_know_are_looked_up_a_few_more_than_a_line_holds() -> None:
    given = ["ph_1", "ph_1", "<script>", "x" * 65, "", *(f"ph_{n}" for n in range(2, 400))]
    wanted = rules.photo_ids_worth_checking(given)
    assert wanted[:2] == ["ph_1", "ph_2"]
    assert len(wanted) == 4 * rules.PHOTOS_MAX
    assert all(len(photo_id) <= 64 and photo_id.startswith("ph_") for photo_id in wanted)


def test_a_merchant_keeps_a_bounded_list_of_reasons_renaming_still_works() -> None:
    full = merchant()
    for n in range(rules.REASONS_MAX - len(full.reasons)):
        full = rules.put_reason(full, Reason(code=f"r{n}", label_fr="Motif", label_en="Reason"))
    with pytest.raises(DeclarationRejected) as refused:
        rules.put_reason(full, Reason(code="one-more", label_fr="Motif", label_en="Reason"))
    assert refused.value.errors[0].code == "too_many_reasons"
    renamed = rules.put_reason(full, Reason(code="r0", label_fr="Autre", label_en="Other"))
    assert [r.label_en for r in renamed.reasons if r.code == "r0"] == ["Other"]


# --- what the portal shows: the offer of step 1 (R3), the draft's progress (R4-R8), the next
# step after submitting (R9, R10); the API and the pages both render these -------------------


def test_every_line_is_selectable_while_the_window_is_open_and_something_is_left() -> None:
    shop, the_order = merchant(), order()
    # An earlier return took one mug back: two of three are left, and the one tee.
    offer = views.offer(shop, the_order, {"r-0": {"1": 1}}, NOW.date())
    assert offer.window_open and offer.window_closes_on == date(2026, 12, 20)
    assert [(item.line.line_id, item.returnable, item.selectable) for item in offer.lines] == [
        ("1", 2, True),
        ("2", 1, True),
    ]
    assert all(item.why_not is None for item in offer.lines)


def test_a_line_returned_in_full_is_not_selectable_and_says_why() -> None:
    offer = views.offer(merchant(locale="en"), order(), {"r-0": {"2": 1}}, NOW.date())
    first, second = offer.lines
    assert first.selectable and first.returnable == 3
    assert not second.selectable and second.returnable == 0
    assert second.why_not == "This item has already been returned in full."


def test_what_is_left_of_a_line_is_what_every_earlier_return_left_never_below_zero() -> None:
    # Two earlier returns of the mugs (1 + 1 of 3) and more tees than ordered (an old bug's
    # data): the offer counts them all, and a line is never offered below zero.
    reservations: Reservations = {"r-1": {"1": 1}, "r-2": {"1": 1, "2": 2}}
    offer = views.offer(merchant(locale="en"), order(), reservations, NOW.date())
    assert [(item.returnable, item.selectable) for item in offer.lines] == [(1, True), (0, False)]


def test_at_submit_a_line_wanting_more_than_is_left_says_how_many_are_left() -> None:
    # Another return of the order reserved two mugs while this draft still wanted two.
    wants = draft(DEFECTIVE_LINE.model_copy(update={"quantity": 2}), CLASSIC_LINE)
    errors = rules.quantities_no_longer_available(
        merchant(locale="en"), order(), {"r-9": {"1": 2}}, wants
    )
    assert [(error.field, error.code) for error in errors] == [
        ("lines[0].quantity", "quantity_no_longer_available")
    ]
    assert errors[0].message == "Only 1 item(s) of this line are left to return."
    assert rules.quantities_no_longer_available(merchant(), order(), {}, wants) == []


def test_after_the_window_no_line_is_selectable_and_the_closed_window_is_the_reason() -> None:
    shop = merchant(locale="en", window_days=3)
    offer = views.offer(shop, order(), {"r-0": {"2": 1}}, NOW.date())
    assert not offer.window_open and offer.window_closes_on == date(2026, 11, 23)
    # Even what is left cannot be taken, and a line returned in full says the window too.
    assert [item.returnable for item in offer.lines] == [0, 0]
    assert [item.why_not for item in offer.lines] == [
        "The 3-day return window of this order closed on 2026-11-23."
    ] * 2


def test_the_window_closes_at_the_end_of_its_last_day() -> None:
    shop = merchant(window_days=5)  # ordered on 2026-11-20, NOW is 2026-11-25
    assert views.offer(shop, order(), {}, NOW.date()).lines[0].selectable
    later = views.offer(shop, order(), {}, NOW.date() + timedelta(days=1))
    assert not later.lines[0].selectable


def test_step_two_offers_the_active_reasons_only() -> None:
    offer = views.offer(merchant(), order(), {}, NOW.date())
    assert [reason.code for reason in offer.reasons] == ["damaged", "too_big"]


def test_a_draft_is_ready_only_when_every_line_misses_nothing() -> None:
    shop, the_order = merchant(), order()
    started = views.progress(shop, the_order, draft(DraftLine(line_id="1", quantity=1)))
    assert [item.missing for item in started.lines] == [("reason_code",)]
    assert not started.ready and not started.defective
    assert started.lines[0].defective is None and started.lines[0].reason is None

    no_comment = DEFECTIVE_LINE.model_copy(update={"comment": None, "photo_ids": ()})
    half = views.progress(shop, the_order, draft(no_comment, CLASSIC_LINE))
    assert [item.missing for item in half.lines] == [("comment", "photo_ids"), ()]
    assert half.defective and not half.ready

    done = views.progress(shop, the_order, draft(DEFECTIVE_LINE, CLASSIC_LINE))
    assert done.ready and done.defective
    assert [item.ordered.sku if item.ordered else None for item in done.lines] == ["MUG", "TEE"]


def test_a_classic_draft_is_not_defective_and_a_retired_reason_must_be_chosen_again() -> None:
    shop, the_order = merchant(), order()
    classic = views.progress(shop, the_order, draft(CLASSIC_LINE))
    assert classic.ready and not classic.defective
    retired = CLASSIC_LINE.model_copy(update={"reason_code": "old"})
    again = views.progress(shop, the_order, draft(retired))
    assert again.lines[0].missing == ("reason_code",) and not again.ready
    # The reason still reads as it did (R1).
    assert again.lines[0].reason is not None and again.lines[0].reason.label_fr == "Ancien"


@pytest.mark.parametrize(
    ("defective", "locale", "kind", "message"),
    [
        (True, "fr", "merchant_will_contact", "Merci. Le marchand va vous contacter"),
        (True, "en", "merchant_will_contact", "Thank you. The merchant will contact you"),
        (False, "fr", "label_follows", "Merci. Votre étiquette de retour vous sera envoyée"),
        (False, "en", "label_follows", "Thank you. Your return label will be e-mailed"),
    ],
)
def test_the_next_step_is_a_label_for_a_classic_return_and_a_call_for_a_defective_one(
    defective: bool, locale: str, kind: str, message: str
) -> None:
    declared = returned("shop", 1, defective).model_copy(update={"locale": locale})
    step = views.next_step(declared)
    assert step.kind == kind and step.message.startswith(message)
