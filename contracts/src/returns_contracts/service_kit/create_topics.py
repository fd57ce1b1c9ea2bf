"""Create every topic of the contract and its dead-letter topic, then exit.

    python -m returns_contracts.service_kit.create_topics

The path every service takes at start-up (`app.prepare_topics`), run once as a job before the
services on a cluster whose brokers do not create topics themselves (deploy/compose's `topics`
job). It reads the services' settings: KAFKA_BOOTSTRAP_SERVERS, KAFKA_REPLICATION_FACTOR,
KAFKA_MIN_INSYNC_REPLICAS and TOPIC_PREFIX. Topics that exist already are left as they are.
"""

from __future__ import annotations

import asyncio

from returns_contracts.service_kit.app import prepare_topics
from returns_contracts.service_kit.kafka_topics import min_insync_for
from returns_contracts.service_kit.settings import ServiceSettings


def main() -> None:
    settings = ServiceSettings()
    asyncio.run(prepare_topics(settings))
    min_insync = min_insync_for(
        settings.kafka_replication_factor, settings.kafka_min_insync_replicas
    )
    for spec in settings.topics.specs():
        print(
            f"{spec.name}: {spec.partitions} partitions, "
            f"replication factor {settings.kafka_replication_factor}, "
            f"min.insync.replicas {min_insync}, cleanup.policy {spec.config['cleanup.policy']}"
        )


if __name__ == "__main__":
    main()
