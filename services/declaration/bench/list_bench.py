"""Back-office list of one merchant with many stored returns: ms per page (p50, p95).

    .venv/bin/python services/declaration/bench/list_bench.py mongodb://127.0.0.1:PORT/ 100000

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
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from returns_declaration.adapters.repository import DeclarationRepository
from returns_declaration.domain.model import Customer, Return, ReturnLine, TimelineEntry
from returns_declaration.service.ports import ReturnFilter, TimelineChange

BATCH = 1000
PAGE = 50
RUNS = 40
START = datetime(2026, 1, 1, tzinfo=UTC)


def _item(merchant_id: str, n: int) -> tuple[Return, TimelineChange]:
    defective = n % 10 < 3
    declared = Return(
        id=f"{merchant_id}-{n:07d}-{uuid.uuid4().hex[:6]}",
        merchant_id=merchant_id,
        order_number=f"A-{n}",
        ordered_on=START.date(),
        customer=Customer(name="Ana", email="ana@example.com"),
        locale="en",
        lines=(
            ReturnLine(
                line_id="1",
                sku="MUG",
                name="Mug",
                quantity=1,
                reason_code="damaged" if defective else "too_big",
                reason_label="reason",
                defective=defective,
                return_type=None if defective else "refund",
                comment="Cracked handle" if defective else None,
                media_ids=("p1",) if defective else (),
            ),
        ),
        submitted_at=START + timedelta(seconds=n),
    )
    entry = TimelineEntry(event_id=f"e-{declared.id}", kind="submitted", at=declared.submitted_at)
    return declared, TimelineChange(entry=entry)


async def _load(repository: DeclarationRepository, merchant_id: str, count: int) -> None:
    for start in range(0, count, BATCH):
        batch = [_item(merchant_id, n) for n in range(start, min(start + BATCH, count))]
        await repository.load_returns(merchant_id, batch)
        if (start // BATCH) % 10 == 9 or start + BATCH >= count:
            print(f"  {merchant_id}: {start + len(batch):>7} / {count}", flush=True)


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
    repository = DeclarationRepository(client[name])
    try:
        print(f"loading {count} returns of 'big' and {count // 10} of 'other'")
        await _load(repository, "big", count)
        await _load(repository, "other", count // 10)
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
