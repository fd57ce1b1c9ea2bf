"""InformationRequested and CustomerAnswered (issue 15): keyed by return, bounded, read back."""

import pytest
from pydantic import ValidationError

from returns_contracts import (
    CustomerAnswered,
    InformationRequested,
    Topics,
    examples,
    parse_message,
)


def test_both_are_keyed_by_return_and_have_their_own_topic() -> None:
    asked = examples.information_requested(return_id="r-9")
    answered = examples.customer_answered(return_id="r-9")
    assert asked.key() == answered.key() == b"r-9"
    topics = Topics("t")
    assert topics.for_message(InformationRequested) == "t.returns.information-requested"
    assert topics.for_message(CustomerAnswered) == "t.returns.customer-answered"


def test_they_read_back_from_json() -> None:
    for message in (examples.information_requested(), examples.customer_answered()):
        assert parse_message(message.model_dump_json()) == message


def test_an_answer_carries_at_most_5_photos_and_a_comment() -> None:
    payload = examples.customer_answered().payload
    with pytest.raises(ValidationError):
        payload.model_validate({**payload.model_dump(), "media_ids": [f"m{i}" for i in range(6)]})
    with pytest.raises(ValidationError):
        payload.model_validate({**payload.model_dump(), "comment": ""})


def test_a_question_is_not_empty() -> None:
    payload = examples.information_requested().payload
    with pytest.raises(ValidationError):
        payload.model_validate({**payload.model_dump(), "question": ""})
