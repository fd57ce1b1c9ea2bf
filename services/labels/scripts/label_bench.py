"""CPU of the labels process per classic return's label, on the real servers: `python
label_bench.py [N]` with the servers of a profile up and its environment exported
(`eval "$(returns-infra --profile test env)"`).

The service's own composition (`bootstrap.connect`: MongoDB, S3, Kafka, the local carrier, JSON
logs) takes N classic ReturnSubmitted one after the other, as its consumer would, and prints the
CPU time of this process per label (`time.process_time`, threads included): rendering, store
round trips, the S3 put, the Kafka publish and the log lines. Kafka's consuming side is not in
it. Its database, bucket objects and topics are its own (a random prefix), the database is
dropped at the end.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

from returns_contracts.examples import merchant_updated, return_submitted
from returns_contracts.service_kit.kafka_topics import ensure_topics
from returns_labels.bootstrap import connect
from returns_labels.config import LabelsSettings


async def main(count: int) -> None:
    tag = uuid.uuid4().hex[:8]
    settings = LabelsSettings(
        mongodb_database=f"labels_bench_{tag}", topic_prefix=f"bench-{tag}", log_level="INFO"
    )
    await ensure_topics(settings.kafka_bootstrap_servers, settings.topics)
    runtime = connect(settings)
    await runtime.process.broker.start()
    try:
        await runtime.bucket.ensure_exists()
        labels = runtime.container.use_cases.automatic
        await labels.record_merchant(merchant_updated())
        # The first label pays the imports (fpdf2), which a running service pays once.
        await labels.record_submitted(return_submitted(return_id=f"r-{tag}-warm"))
        started = time.process_time()
        wall = time.perf_counter()
        for index in range(count):
            await labels.record_submitted(return_submitted(return_id=f"r-{tag}-{index:06d}"))
        cpu = time.process_time() - started
        wall = time.perf_counter() - wall
        print(
            f"{count} classic labels: {cpu * 1000 / count:.2f} ms CPU per label, "
            f"{wall * 1000 / count:.2f} ms wall per label",
            file=sys.stdout,
        )
    finally:
        await runtime.process.broker.stop()
        await runtime.process.mongo.drop_database(settings.mongodb_database)
        await runtime.process.mongo.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
