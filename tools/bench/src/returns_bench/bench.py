"""One bench run: prepare the shop, load stored returns, drive the journeys, wait for the
consumers, measure the raw limits, and write the report."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from returns_bench import raw, store_commands
from returns_bench.cpu import BENCH_PROCESS, CpuMeter, per_submission
from returns_bench.events import EventWatcher, Expected, drain
from returns_bench.http import http_client
from returns_bench.journey import JourneyResult, Portal, create_orders, create_shop
from returns_bench.load import LoadPlan, run_load
from returns_bench.photo import jpeg_photo
from returns_bench.report import load_figures, machine, plot, ratios, text, write_json
from returns_bench.stored import load_stored, stored_return
from returns_contracts.topics import Topics

LOOPBACK = ("http://127.0.0.1:", "http://localhost:")
# The store's process and the bench's own: the raw store probes' client is the bench itself.
STORE_AND_CLIENT = ("mongo", BENCH_PROCESS)


@dataclass(frozen=True)
class Target:
    """Where the system under test answers; only the loopback interface is accepted."""

    declaration_url: str
    media_url: str
    kafka_bootstrap_servers: str
    mongodb_url: str
    topic_prefix: str = ""
    declaration_database: str = "declaration"
    admin_token: str = "demo-admin-token-change-me"
    kafka_replication_factor: int = 1
    # Every service's address, for its /metrics (the store commands it sends).
    service_urls: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for url in (self.declaration_url, self.media_url):
            if not url.startswith(LOOPBACK):
                raise ValueError(f"the bench only sends traffic to 127.0.0.1, not to {url}")
        for server in self.kafka_bootstrap_servers.split(","):
            if not server.startswith(("127.0.0.1:", "localhost:")):
                raise ValueError(f"the bench only uses a local broker, not {server}")
        if "127.0.0.1" not in self.mongodb_url and "localhost" not in self.mongodb_url:
            raise ValueError("the bench only uses a local store")


@dataclass(frozen=True)
class BenchConfig:
    plan: LoadPlan
    stored: int = 0
    max_journeys: int = 1000
    # Two 60 s bursts of 150/s on a slower machine drained in 176 s and in more than 180 s
    # (the old bound): the bound is for consumers that stop (`drain_stall`), not slow ones.
    drain_timeout: float = 900.0
    drain_stall: float = 60.0
    raw_seconds: float = 4.0
    raw_concurrency: int = 8
    photo_size: tuple[int, int] = (1600, 1200)
    setup_concurrency: int = 8
    request_timeout: float = 60.0
    out: Path = Path(".bench")
    progress: bool = True
    plots: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    """Processes of the system whose CPU use during the load goes in the report."""

    def scenario(self) -> str:
        plan = self.plan
        if plan.mode == "open":
            shape = f"open loop {plan.rate:g}/s for {plan.duration:g} s"
        elif plan.mode == "burst":
            shape = (
                f"burst of submits {plan.rate:g}/s for {plan.duration:g} s on journeys "
                "prepared up to their summary"
            )
        else:
            shape = f"as fast as it goes, {plan.concurrency} concurrent, {plan.duration:g} s"
        return f"{shape}, {plan.defective_share:.0%} defective, {self.stored} stored returns first"


def _bar(enabled: bool, total: int | None, what: str) -> tqdm[Any]:
    return tqdm(
        total=total,
        desc=what,
        unit=" " + what.split()[0],
        disable=not enabled,
        dynamic_ncols=True,
        leave=True,
    )


async def run_bench(config: BenchConfig, target: Target) -> dict[str, Any]:
    """Run everything once and return the report (also written under `config.out`)."""
    began = datetime.now(UTC)
    host_before = machine()
    plan = config.plan
    # The load's client holds as many connections as journeys walk at once (an open loop's
    # arrivals that find none free wait for one, and that wait counts in their latency); the
    # set-up and the raw probes have their own.
    walking = plan.concurrency if plan.mode == "closed" else min(plan.max_in_flight, 256)
    connections = max(config.raw_concurrency, config.setup_concurrency)
    report: dict[str, Any] = {
        "started_at": began.isoformat(),
        "scenario": config.scenario(),
        "config": {
            **asdict(plan),
            "stored": config.stored,
            "max_journeys": config.max_journeys,
            "drain_timeout": config.drain_timeout,
            "drain_stall": config.drain_stall,
            "raw_seconds": config.raw_seconds,
            "photo_size": list(config.photo_size),
            "request_timeout": config.request_timeout,
            **config.extra,
        },
        "machine": host_before,
    }
    async with http_client(connections, config.request_timeout) as http:
        shop = await create_shop(http, target.declaration_url, target.admin_token)
        report["merchant_id"] = shop.merchant_id

        stored_ids: list[str] = []
        stored_began = time.monotonic()
        if config.stored:
            with _bar(config.progress, config.stored, "returns stored") as bar:
                stored_ids = await load_stored(
                    target.mongodb_url,
                    target.declaration_database,
                    shop.merchant_id,
                    config.stored,
                    plan.defective_share,
                    on_batch=bar.update,
                )
        stored_seconds = time.monotonic() - stored_began
        report["stored"] = {
            "count": len(stored_ids),
            "seconds": round(stored_seconds, 3),
            "per_second": round(len(stored_ids) / stored_seconds, 1) if stored_ids else None,
        }

        needed = plan.journeys_needed(config.max_journeys)
        orders_began = time.monotonic()
        with _bar(config.progress, needed, "orders created") as bar:
            orders = await create_orders(
                http,
                target.declaration_url,
                shop,
                needed,
                config.setup_concurrency,
                on_done=lambda: bar.update(1),
            )
        orders_seconds = time.monotonic() - orders_began
        report["orders"] = {
            "count": len(orders),
            "seconds": round(orders_seconds, 3),
            "per_second": round(len(orders) / orders_seconds, 1) if orders else None,
        }

        portal = Portal(
            target.declaration_url,
            target.media_url,
            shop,
            jpeg_photo(*config.photo_size),
        )
        report["photo_bytes"] = len(portal.photo)
        topics = Topics(prefix=target.topic_prefix)
        watcher = EventWatcher(target.kafka_bootstrap_servers, topics)
        await watcher.start()
        try:
            total = needed if plan.mode != "closed" else None
            with _bar(config.progress, total, "journeys") as bar:
                failures = 0

                def done(result: JourneyResult) -> None:
                    nonlocal failures
                    failures += 0 if result.ok else 1
                    bar.update(1)
                    bar.set_postfix(failed=failures, refresh=False)

                meter = CpuMeter(config.pids)
                whole = CpuMeter(config.pids)
                commands_before: dict[str, int] | None = None
                pages_at_start: dict[str, str] = {}
                load_started = 0.0

                def started() -> None:
                    nonlocal commands_before, pages_at_start, load_started
                    meter.start()
                    whole.start()
                    commands_before = store_commands.command_totals(target.mongodb_url)
                    # Only read here, parsed after the run: parsing a service's page takes about
                    # 12 ms, which would hold up the first submits of the load on this loop.
                    pages_at_start = store_commands.metrics_pages(target.service_urls)
                    load_started = time.monotonic()

                walkers = max(walking, plan.prepare_concurrency)
                async with http_client(walkers, config.request_timeout) as load_http:
                    results, start = await run_load(
                        load_http, portal, orders, plan, on_done=done, on_start=started
                    )
                report["cpu_percent_during_load"] = meter.stop()
                pages_at_load_end = store_commands.metrics_pages(target.service_urls)
                load_ended = time.monotonic()
            expected = [
                Expected(result.return_id, result.defective)
                for result in results
                if result.ok and result.return_id
            ]
            with _bar(config.progress, round(config.drain_timeout), "seconds of drain") as bar:

                def follow(waited: float, left: int) -> None:
                    bar.update(max(0, round(waited) - bar.n))
                    bar.set_postfix(missing=left, refresh=False)

                lost, waited = await drain(
                    watcher.seen,
                    expected,
                    config.drain_timeout,
                    on_poll=follow,
                    stall=config.drain_stall,
                )
            report["cpu_ms_per_submission"] = per_submission(whole.seconds(), len(expected))
            pages_at_end = store_commands.metrics_pages(target.service_urls)
            drain_seconds = time.monotonic() - load_ended
            trips_at_load_end = store_commands.service_round_trips(pages_at_load_end)
            report["store_pace_by_service"] = {
                "load": store_commands.pace(
                    store_commands.service_round_trips(pages_at_start),
                    trips_at_load_end,
                    load_ended - load_started,
                ),
                "drain": store_commands.pace(
                    trips_at_load_end,
                    store_commands.service_round_trips(pages_at_end),
                    drain_seconds,
                ),
            }
            report["store_commands_per_submission"] = store_commands.per_submission(
                commands_before, store_commands.command_totals(target.mongodb_url), len(expected)
            )
            report["store_commands_by_service"] = store_commands.per_submission_by_service(
                store_commands.service_totals(pages_at_start),
                store_commands.service_totals(pages_at_end),
                len(expected),
            )
        finally:
            await watcher.stop()
        load, series = load_figures(results, start, watcher.seen, plan.duration)
        report["load"] = load
        report["drain"] = {
            "waited_seconds": round(waited, 1),
            "timeout_seconds": config.drain_timeout,
            "lost": {stage: len(ids) for stage, ids in lost.items()},
            "lost_return_ids": {stage: ids[:20] for stage, ids in lost.items()},
            "records_read": watcher.seen.records,
        }

        raw_report: dict[str, Any] = {}
        if config.raw_seconds > 0:
            limits_of = raw.Limits(config.raw_seconds, 20_000, config.raw_concurrency)
            sample = stored_return(shop.merchant_id, 0, True, began)
            message_size = len(json.dumps(sample["outbox"][0]).encode())
            probes: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
                "store": lambda: raw.store_limits(
                    target.mongodb_url,
                    target.declaration_database,
                    lambda i: stored_return(shop.merchant_id, i, True, began),
                    stored_ids,
                    limits_of,
                    {name: pid for name, pid in config.pids.items() if name in STORE_AND_CLIENT},
                ),
                "kafka": lambda: raw.kafka_limits(
                    target.kafka_bootstrap_servers,
                    message_size,
                    limits_of,
                    target.kafka_replication_factor,
                ),
                "http": lambda: raw.http_limits(http, target.declaration_url, limits_of),
            }
            with _bar(config.progress, len(probes), "raw probes") as bar:
                for name, probe in probes.items():
                    # A server too slow for one probe leaves the others and the report whole.
                    try:
                        raw_report[name] = await probe()
                    except Exception as error:
                        raw_report[name] = {"error": f"{type(error).__name__}: {error}"[:300]}
                    bar.update(1)
        report["raw"] = raw_report
    report["ratios"] = ratios(
        report["load"],
        raw_report,
        report.get("store_commands_per_submission"),
        os.cpu_count() or 1,
        report.get("cpu_ms_per_submission"),
    )
    report["machine_after"] = machine()
    report["finished_at"] = datetime.now(UTC).isoformat()

    folder = config.out / began.strftime("%Y%m%dT%H%M%SZ")
    report["files"] = {"json": str(folder / "report.json")}
    if config.plots:
        folder.mkdir(parents=True, exist_ok=True)
        for path in plot(series, folder, config.scenario()):
            report["files"][path.stem] = str(path)
    write_json(report, folder)
    latest = config.out / "latest.json"
    latest.write_text((folder / "report.json").read_text())
    report["summary"] = text(report)
    return report
