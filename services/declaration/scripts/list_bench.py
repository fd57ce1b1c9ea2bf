"""Back-office list of one merchant with many stored returns: ms per page (p50, p95).

    .venv/bin/python services/declaration/scripts/list_bench.py mongodb://127.0.0.1:PORT/ 100000

Bulk-loads N returns of one merchant (30 % defective) and N/10 of another into a scratch
database of the server (dropped afterwards), then times first pages, later pages (cursor), a
filtered page and the "to handle" box, as the back-office page asks them (50 per page).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import AsyncMongoClient

from returns_bench.stored import load_stored
from returns_declaration.adapters.repository import DeclarationRepository
from returns_declaration.service.ports import ReturnFilter

PAGE = 50
RUNS = 40


async def _timed(label: str, call: Callable[[], Awaitable[object]], runs: int = RUNS) -> None:
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        spent.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(spent, n=20)[18] if runs >= 20 else max(spent)
    worst = "p95" if runs >= 20 else "max"
    print(f"  {label:<34} p50 {statistics.median(spent):7.1f} ms   {worst} {p95:7.1f} ms")


async def main(url: str, count: int) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    name = f"list_bench_{uuid.uuid4().hex[:8]}"
    try:
        print(f"loading {count} returns of 'big' and {count // 10} of 'other'")
        for merchant_id, stored in (("big", count), ("other", count // 10)):
            # The bench tool's bulk path: the same returns `make bench --stored` loads.
            await load_stored(url, name, merchant_id, stored, defective_share=0.3)
        reader = DeclarationRepository(client[name])  # a fresh process: nothing cached
        first = await reader.list_returns("big", ReturnFilter(), PAGE, None)
        assert len(first.records) == PAGE and first.next_cursor is not None
        print(f"pages of {PAGE} with {count} stored returns of the merchant:")
        await _timed("first page", lambda: reader.list_returns("big", ReturnFilter(), PAGE, None))
        await _timed(
            "second page (cursor)",
            lambda: reader.list_returns("big", ReturnFilter(), PAGE, first.next_cursor),
        )
        await _timed(
            "first page, defective only",
            lambda: reader.list_returns("big", ReturnFilter(defective=True), PAGE, None),
        )
        await _timed(
            "to handle box",
            lambda: reader.list_returns(
                "big", ReturnFilter(label_status="awaiting_merchant"), PAGE, None
            ),
        )
        # What the list asked before listings: a filter on merchant_id, sorted (a scan on
        # FerretDB, and a sort in Go of every return of the merchant).
        returns = client[name]["returns"]
        await _timed(
            "former query (first page)",
            lambda: (
                returns.find({"merchant_id": "big"}, {"outbox": 0})
                .sort([("submitted_at", -1), ("_id", -1)])
                .limit(PAGE + 1)
                .to_list(PAGE + 1)
            ),
            runs=5,
        )
    finally:
        await client.drop_database(name)
        await client.close()


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1] if len(sys.argv) > 1 else "mongodb://127.0.0.1:27017/",
            int(sys.argv[2]) if len(sys.argv) > 2 else 100_000,
        )
    )
