"""Topic names, prefixes, dead-letter topics and topic specs."""

import pytest

from returns_contracts import (
    MESSAGE_CLASSES,
    LabelRejected,
    MerchantUpdated,
    Message,
    ReturnSubmitted,
    Topics,
    TopicSpec,
    examples,
)

BASE_NAMES = [
    "returns.submitted",
    "returns.label-requested",
    "returns.label-generated",
    "returns.label-rejected",
    "returns.notification-sent",
    "merchants.updated",
    "returns.resolved",
    "returns.information-requested",
    "returns.customer-answered",
]


def test_default_names() -> None:
    topics = Topics()
    assert [
        topics.return_submitted,
        topics.label_requested,
        topics.label_generated,
        topics.label_rejected,
        topics.notification_sent,
        topics.merchant_updated,
        topics.return_resolved,
        topics.information_requested,
        topics.customer_answered,
    ] == BASE_NAMES
    assert topics.all() == BASE_NAMES


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("test1", "test1.returns.submitted"),
        ("test1.", "test1.returns.submitted"),
        ("run-42-", "run-42-returns.submitted"),
        ("ci_", "ci_returns.submitted"),
    ],
)
def test_prefix(prefix: str, expected: str) -> None:
    assert Topics(prefix).return_submitted == expected
    assert all(name.startswith(prefix) for name in Topics(prefix).all())


@pytest.mark.parametrize("prefix", ["has space", "slash/", "é", "x" * 240])
def test_invalid_prefix_is_rejected(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        Topics(prefix)


def test_dlq() -> None:
    topics = Topics("t")
    assert topics.dlq(topics.label_requested) == "t.returns.label-requested.dlq"


def test_for_message() -> None:
    topics = Topics("t")
    assert topics.for_message(ReturnSubmitted) == "t.returns.submitted"
    assert topics.for_message(LabelRejected) == "t.returns.label-rejected"
    assert topics.for_message(examples.merchant_updated()) == "t.merchants.updated"
    assert sorted(topics.for_message(cls) for cls in MESSAGE_CLASSES) == sorted(topics.all())
    with pytest.raises(ValueError, match="no known topic"):
        topics.for_message(Message)


def test_specs_list_every_topic_and_its_dlq() -> None:
    specs = Topics("t").specs()
    assert [spec.name for spec in specs] == [
        name for base in BASE_NAMES for name in (f"t.{base}", f"t.{base}.dlq")
    ]
    assert {spec.partitions for spec in specs} == {3}
    compacted = [spec.name for spec in specs if spec.compacted]
    assert compacted == ["t.merchants.updated"]
    assert Topics().specs(partitions=1)[0] == TopicSpec("returns.submitted", 1, False)
    with pytest.raises(ValueError, match="partition"):
        Topics().specs(partitions=0)


def test_spec_config() -> None:
    by_name = {spec.name: spec for spec in Topics().specs()}
    assert by_name["merchants.updated"].config == {"cleanup.policy": "compact"}
    assert by_name["merchants.updated.dlq"].config == {"cleanup.policy": "delete"}
    assert by_name["returns.submitted"].config == {"cleanup.policy": "delete"}


def test_topics_are_immutable_values() -> None:
    topics = Topics("a")
    with pytest.raises(AttributeError):
        topics.prefix = "b"  # type: ignore[misc]
    assert Topics("a") == topics
    assert MerchantUpdated.topic_base == "merchants.updated"
