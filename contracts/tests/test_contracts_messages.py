"""Messages: JSON round trips, envelope rules, payload rules, keys, `parse_message`."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from returns_contracts import (
    ENVELOPE_FIELDS,
    MESSAGE_CLASSES,
    MESSAGE_TYPES,
    InvalidMessageError,
    LabelRequested,
    MalformedMessageError,
    MerchantUpdated,
    Message,
    MessageError,
    ReturnedItem,
    ReturnMessage,
    ReturnSubmitted,
    UnknownMessageTypeError,
    UnknownMessageVersionError,
    examples,
    parse_message,
)

EXAMPLES = examples.all_examples()
EXAMPLE_IDS = [f"{i}-{message.type}" for i, message in enumerate(EXAMPLES)]


def as_dict(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(message.model_dump_json())
    return data


def test_examples_cover_every_message_type() -> None:
    assert {type(message) for message in EXAMPLES} == set(MESSAGE_CLASSES)


@pytest.mark.parametrize("message", EXAMPLES, ids=EXAMPLE_IDS)
def test_json_round_trip_through_parse_message(message: Message) -> None:
    raw = message.model_dump_json().encode()
    parsed = parse_message(raw)
    assert type(parsed) is type(message)
    assert parsed == message
    assert parse_message(raw.decode()) == message
    assert parse_message(json.loads(raw)) == message


@pytest.mark.parametrize("message", EXAMPLES, ids=EXAMPLE_IDS)
def test_every_envelope_field_is_on_the_wire(message: Message) -> None:
    assert list(as_dict(message)) == list(ENVELOPE_FIELDS)


def test_envelope_defaults() -> None:
    before = datetime.now(UTC)
    first = examples.label_requested()
    second = examples.label_requested()
    assert first.type == "LabelRequested"
    assert first.version == 1
    assert isinstance(first.event_id, UUID)
    assert first.event_id != second.event_id
    assert first.correlation_id != second.correlation_id
    assert len(first.correlation_id) == 32
    assert first.occurred_at.tzinfo is UTC
    assert before <= first.occurred_at <= datetime.now(UTC)


def test_messages_are_frozen_and_reject_unknown_fields() -> None:
    message = examples.label_requested()
    with pytest.raises(ValidationError, match="frozen"):
        message.merchant_id = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        LabelRequested.model_validate({**as_dict(message), "priority": "high"})
    data = as_dict(message)
    data["payload"]["priority"] = "high"
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        LabelRequested.model_validate(data)


def test_type_and_version_are_fixed() -> None:
    data = as_dict(examples.label_requested())
    with pytest.raises(ValidationError):
        LabelRequested.model_validate({**data, "type": "LabelGenerated"})
    with pytest.raises(ValidationError):
        LabelRequested.model_validate({**data, "version": 2})
    assert LabelRequested.type_name() == "LabelRequested"
    assert LabelRequested.type_version() == 1


@pytest.mark.parametrize("field", ["merchant_id", "producer", "correlation_id"])
@pytest.mark.parametrize("value", ["", "   "])
def test_envelope_strings_must_not_be_blank(field: str, value: str) -> None:
    data = as_dict(examples.label_requested())
    with pytest.raises(ValidationError, match=field):
        LabelRequested.model_validate({**data, field: value})


# --- datetimes ---------------------------------------------------------------------------------


def test_naive_occurred_at_is_rejected() -> None:
    message = examples.label_requested()
    with pytest.raises(ValidationError, match="timezone"):
        LabelRequested(
            merchant_id="m",
            producer="p",
            occurred_at=datetime(2026, 3, 2, 9, 30),
            payload=message.payload,
        )
    data = as_dict(message)
    data["occurred_at"] = "2026-03-02T09:30:00"
    with pytest.raises(InvalidMessageError, match="timezone"):
        parse_message(data)


def test_naive_submitted_at_is_rejected() -> None:
    data = as_dict(examples.return_submitted())
    data["payload"]["submitted_at"] = "2026-03-02T09:30:00"
    with pytest.raises(InvalidMessageError, match="submitted_at"):
        parse_message(data)


def test_aware_datetimes_are_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    message = LabelRequested(
        merchant_id="m",
        producer="p",
        occurred_at=datetime(2026, 3, 2, 10, 30, tzinfo=paris),
        payload=examples.label_requested().payload,
    )
    assert message.occurred_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert message.occurred_at.tzinfo is UTC
    assert as_dict(message)["occurred_at"] == "2026-03-02T09:30:00Z"


# --- ReturnSubmitted rules ---------------------------------------------------------------------


def test_defective_flag_must_match_the_items() -> None:
    classic = as_dict(examples.return_submitted())
    classic["payload"]["defective"] = True
    with pytest.raises(InvalidMessageError, match="defective must be true exactly when"):
        parse_message(classic)

    defective = as_dict(examples.return_submitted(defective=True))
    defective["payload"]["defective"] = False
    with pytest.raises(InvalidMessageError, match="defective must be true exactly when"):
        parse_message(defective)


def test_return_needs_at_least_one_item() -> None:
    data = as_dict(examples.return_submitted())
    data["payload"]["items"] = []
    with pytest.raises(InvalidMessageError, match="items"):
        parse_message(data)


def test_order_line_appears_once() -> None:
    data = as_dict(examples.return_submitted())
    data["payload"]["items"] *= 2
    with pytest.raises(InvalidMessageError, match="at most once"):
        parse_message(data)


def item_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = examples.defective_item().model_dump()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"return_type": "refund"}, "no return_type"),
        ({"comment": None}, "comment of at least 10"),
        ({"comment": "   broken    "}, "comment of at least 10"),
        ({"media_ids": []}, "at least one photo"),
        ({"media_ids": [f"m{i}" for i in range(6)]}, "at most 5"),
        ({"comment": "x" * 2001}, "at most 2000"),
        ({"quantity": 0}, "greater than or equal to 1"),
    ],
)
def test_defective_line_rules(changes: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        ReturnedItem.model_validate(item_data(**changes))


def test_classic_line_needs_no_comment_nor_photo() -> None:
    line = ReturnedItem.model_validate(
        item_data(defective=False, comment=None, media_ids=[], return_type="refund")
    )
    assert line.return_type == "refund"


@pytest.mark.parametrize("email", ["lea", "lea@", "@example.com", "lea @example.com"])
def test_customer_email_needs_an_at_sign(email: str) -> None:
    data = as_dict(examples.return_submitted())
    data["payload"]["customer"]["email"] = email
    with pytest.raises(InvalidMessageError, match="email"):
        parse_message(data)


@pytest.mark.parametrize("country", ["fr", "FRA", "F"])
def test_country_is_iso_alpha_2(country: str) -> None:
    data = as_dict(examples.merchant_updated())
    data["payload"]["return_address"]["country"] = country
    with pytest.raises(InvalidMessageError, match="country"):
        parse_message(data)


def test_merchant_reason_codes_are_unique() -> None:
    data = as_dict(examples.merchant_updated())
    data["payload"]["reasons"].append(data["payload"]["reasons"][0])
    with pytest.raises(InvalidMessageError, match="reason codes must be unique"):
        parse_message(data)


def test_merchant_revision_starts_at_one() -> None:
    data = as_dict(examples.merchant_updated())
    data["payload"]["revision"] = 0
    with pytest.raises(InvalidMessageError, match="revision"):
        parse_message(data)


# --- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize("message", EXAMPLES, ids=EXAMPLE_IDS)
def test_key_is_the_return_id_or_the_merchant_id(message: Message) -> None:
    if isinstance(message, ReturnMessage):
        assert message.key() == message.payload.return_id.encode()
    else:
        assert isinstance(message, MerchantUpdated)
        assert message.key() == message.merchant_id.encode()
    value: Any = message
    for part in type(message).key_path.split("."):
        value = getattr(value, part)
    assert message.key() == value.encode()


def test_key_of_a_given_return() -> None:
    message = examples.label_generated(return_id="r-9", merchant_id="m-9")
    assert message.key() == b"r-9"
    assert examples.merchant_updated(merchant_id="m-9").key() == b"m-9"


# --- rolling deploys: tolerant reading, strict building ------------------------------------------


def newer_producer_wire(event: ReturnSubmitted) -> dict[str, Any]:
    """`event` as a newer producer writes it: optional fields added at every depth."""
    data = as_dict(event)
    data["trace_parent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    data["payload"]["gift_wrap"] = True
    data["payload"]["customer"]["loyalty_tier"] = "gold"
    data["payload"]["items"][0]["colour"] = {"name": "blue", "hex": "#0000ff"}
    return data


@pytest.mark.parametrize("as_text", [False, True], ids=["object", "json"])
def test_unknown_fields_at_every_depth_are_ignored_when_reading(as_text: bool) -> None:
    event = examples.return_submitted(defective=True)
    data = newer_producer_wire(event)
    parsed = parse_message(json.dumps(data) if as_text else data)
    # Exactly the message an older producer would have sent: the known fields, nothing else.
    assert parsed == event
    assert as_dict(parsed) == as_dict(event)


@pytest.mark.parametrize("message", EXAMPLES, ids=EXAMPLE_IDS)
def test_an_unknown_field_never_makes_a_message_unreadable(message: Message) -> None:
    data = as_dict(message)
    data["added_by_a_newer_producer"] = 1
    data["payload"]["added_by_a_newer_producer"] = [1, 2]
    assert parse_message(data) == message


def test_known_fields_are_still_validated_when_unknown_ones_are_ignored() -> None:
    data = newer_producer_wire(examples.return_submitted(defective=True))
    data["payload"]["items"][0]["quantity"] = 0
    with pytest.raises(InvalidMessageError, match="quantity"):
        parse_message(data)


def test_building_a_message_with_an_unknown_field_is_refused() -> None:
    """Producers stay strict: what is sent is what the schema states."""
    event = examples.return_submitted(defective=True)
    with pytest.raises(ValidationError, match="gift_wrap"):
        ReturnSubmitted(**{**dict(event), "gift_wrap": True})
    with pytest.raises(ValidationError, match="colour"):
        ReturnedItem(**{**dict(event.payload.items[0]), "colour": "blue"})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ReturnSubmitted.model_validate(newer_producer_wire(event))


# --- parse_message errors ----------------------------------------------------------------------


def test_unknown_type_is_a_clear_error() -> None:
    data = {**as_dict(examples.label_requested()), "type": "ReturnCancelled"}
    with pytest.raises(UnknownMessageTypeError, match="unknown message type 'ReturnCancelled'"):
        parse_message(data)
    with pytest.raises(MessageError, match=r"known types: .*LabelGenerated, LabelRejected"):
        parse_message(data)


def test_unknown_version_is_a_clear_error() -> None:
    data = {**as_dict(examples.label_requested()), "version": 7}
    with pytest.raises(
        UnknownMessageVersionError, match="unknown version 7 of LabelRequested; known versions: 1"
    ):
        parse_message(data)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object, not list"),
        (b'{"version": 1}', "no string 'type'"),
        (b'{"type": "LabelRequested"}', "no integer 'version'"),
        (b'{"type": "LabelRequested", "version": true}', "no integer 'version'"),
    ],
)
def test_malformed_input_is_a_clear_error(raw: bytes, error: str) -> None:
    with pytest.raises(MalformedMessageError, match=error):
        parse_message(raw)


@pytest.mark.parametrize("field", ["event_id", "occurred_at", "correlation_id", "payload"])
def test_missing_envelope_field_is_rejected_even_with_a_default(field: str) -> None:
    data = as_dict(examples.label_requested())
    del data[field]
    with pytest.raises(MalformedMessageError, match=f"lacks envelope field\\(s\\): {field}"):
        parse_message(data)


def test_errors_are_value_errors_with_the_validation_error_as_cause() -> None:
    data = as_dict(examples.label_requested())
    data["payload"]["requested_by"]["kind"] = "robot"
    with pytest.raises(InvalidMessageError) as caught:
        parse_message(data)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value.__cause__, ValidationError)
    assert "requested_by.kind" in str(caught.value)


def test_registry_maps_each_type_to_its_class() -> None:
    assert {cls.type_name(): cls for cls in MESSAGE_CLASSES} == MESSAGE_TYPES
    assert set(MESSAGE_TYPES) == {
        "ReturnSubmitted",
        "LabelRequested",
        "LabelGenerated",
        "LabelRejected",
        "NotificationSent",
        "MerchantUpdated",
        "ReturnResolved",
        "InformationRequested",
        "CustomerAnswered",
    }
    assert MESSAGE_TYPES["ReturnSubmitted"] is ReturnSubmitted
