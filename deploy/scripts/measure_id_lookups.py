"""Milliseconds per lookup and update by `_id` at 1,000 / 10,000 / 50,000 stored documents.

    .venv/bin/python deploy/scripts/measure_id_lookups.py mongodb://127.0.0.1:PORT/

Fills a scratch database of the server (dropped afterwards) with documents shaped like returns
(about 1 kB), then times lookups of random `_id`s alone and beside another condition, and a
guarded update by `_id` (`update_one({"_id": k, "merchant_id": m}, {"$inc": ...})`). Used to
compare FerretDB with and without our patch (deploy/src/returns_infra/patches/).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import uuid
from typing import Any

from pymongo import MongoClient

SIZES = (1_000, 10_000, 50_000)
LOOKUPS = 100


def main(url: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(url)
    name = f"measure_{uuid.uuid4().hex[:8]}"
    collection = client[name]["returns"]
    try:
        stored = 0
        print(
            f"{'documents':>10} {'_id alone p50 ms':>18} {'_id + field p50 ms':>20}"
            f" {'update p50 ms':>15}"
        )
        for size in SIZES:
            while stored < size:
                batch = min(1_000, size - stored)
                collection.insert_many(
                    [
                        {
                            "_id": f"shop-{i % 10}:{i:08d}",
                            "merchant_id": f"shop-{i % 10}",
                            "body": "x" * 900,
                        }
                        for i in range(stored, stored + batch)
                    ]
                )
                stored += batch
            alone, beside, updates = [], [], []
            for _ in range(LOOKUPS):
                i = random.randrange(size)
                key = f"shop-{i % 10}:{i:08d}"
                started = time.perf_counter()
                assert collection.find_one({"_id": key}) is not None
                alone.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                found = collection.find_one({"_id": key, "merchant_id": f"shop-{i % 10}"})
                assert found is not None
                beside.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                result = collection.update_one(
                    {"_id": key, "merchant_id": f"shop-{i % 10}"}, {"$inc": {"seen": 1}}
                )
                assert result.modified_count == 1
                updates.append((time.perf_counter() - started) * 1000)
            print(
                f"{size:>10} {statistics.median(alone):>18.2f} {statistics.median(beside):>20.2f}"
                f" {statistics.median(updates):>15.2f}",
                flush=True,
            )
    finally:
        client.drop_database(name)
        client.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "mongodb://127.0.0.1:27017/")
