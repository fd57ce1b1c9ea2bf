"""Creating the contract's topics with the deployment's replication: what every service does at
start-up (`app.prepare_topics`), the `create_topics` job and the tests that need topics."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from returns_contracts.topics import Topics, TopicSpec


def min_insync_for(replication_factor: int, min_insync_replicas: int | None = None) -> int:
    """The `min.insync.replicas` of the topics: as given, else one less than the replication
    factor (2 of 3), so that one broker may die without losing or refusing an acks=all write."""
    if replication_factor < 1:
        raise ValueError(f"a replication factor of {replication_factor} is not possible")
    value = max(1, replication_factor - 1) if min_insync_replicas is None else min_insync_replicas
    if not 1 <= value <= replication_factor:
        raise ValueError(
            f"min.insync.replicas={value} must be between 1 and the replication factor "
            f"{replication_factor}"
        )
    return value


def new_topics(
    specs: Iterable[TopicSpec], replication_factor: int, min_insync_replicas: int | None = None
) -> list[NewTopic]:
    """What the admin client creates for `specs`, with the deployment's replication."""
    min_insync = min_insync_for(replication_factor, min_insync_replicas)
    return [
        NewTopic(
            name=spec.name,
            num_partitions=spec.partitions,
            replication_factor=replication_factor,
            topic_configs={**spec.config, "min.insync.replicas": str(min_insync)},
        )
        for spec in specs
    ]


async def ensure_topics(
    bootstrap_servers: str,
    topics: Topics,
    replication_factor: int = 1,
    min_insync_replicas: int | None = None,
) -> None:
    """Create every topic of the contract (and its DLQ) that does not exist yet.

    The replication comes from the service's settings (KAFKA_REPLICATION_FACTOR, default 1 for
    the single embedded broker; 3 on a cluster, with KAFKA_MIN_INSYNC_REPLICAS 2 by default),
    never from a guess at the bootstrap list. Existing topics are left as they are.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = new_topics(
            (spec for spec in topics.specs() if spec.name not in existing),
            replication_factor,
            min_insync_replicas,
        )
        if wanted:
            # Another service may create them between our list and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
    finally:
        await admin.close()
