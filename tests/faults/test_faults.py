"""The whole system keeps its promises while its parts die (issue 13, items 1 and 3).

While returns are submitted through the portal API (a third defective, each with a real JPEG
uploaded to media), each part is killed with SIGKILL in turn and started again with the same
command line: the four services, Kafka, the store (FerretDB) and the SMTP server (Mailpit).
Then every return is counted (census.py): stored once, its ReturnSubmitted published (copies
carry its event_id), one customer-service e-mail per defective return (a second only with its
twin's Message-ID), one label per classic return and none for a defective one. The tables are
printed and written to the pytest tmp dir and to `.run/faults/`.

Scale-out: a second declaration (the portal spreading journeys over both), a second notifier
and a second labels in the same consumer groups (every topic has three partitions), one of each
killed under load: nothing lost, no return twice, no listing number twice, no e-mail twice, no
second label.

`make test` runs a short form (plans.py: 60 returns, every part but the store); `make
test-faults` the full one (500 returns, the store too).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from returns_bench.http import http_client
from returns_bench.journey import Portal, Shop, create_orders, create_shop
from returns_bench.photo import jpeg_photo
from returns_contracts.service_kit.kafka import consumer_group
from returns_contracts.topics import Topics
from returns_infra import processes
from returns_infra.fixtures import RunningServices, SmtpServer
from returns_infra.kafka_probe import end_offsets
from returns_infra.services import EXTRA_PORT_OFFSET, SERVICES, ready_check, service_spec

from . import census as counting
from .conftest import OwnServers
from .kills import Recovery, Victim, drive, kill_only, table
from .plans import Plan
from .portal import Load
from .watch import StageWatcher

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

PROFILE = "test"
TOPICS = Topics(prefix=os.environ.get("TOPIC_PREFIX", ""))
ADMIN_TOKEN = os.environ.get("ADMIN_API_TOKEN", "demo-admin-token-change-me")


def _service_victim(name: str, own: OwnServers, services: RunningServices) -> Victim:
    spec = service_spec(name, PROFILE, own.settings.state_dir, services.env)
    ready = ready_check(services.urls[name])
    return Victim(
        name,
        spec.pid_path,
        lambda: processes.start(spec, ready, timeout=120.0, interval=0.1),
        ("submit", "photo") if name == "media" else ("submit",),
    )


def _server_victim(name: str, title: str, own: OwnServers) -> Victim:
    [component] = own.infra.components([name])
    return Victim(title, component.pid_path, lambda: own.infra.start([name]))


def _victims(plan: Plan, own: OwnServers, services: RunningServices) -> list[Victim]:
    victims = [_service_victim(service.name, own, services) for service in SERVICES]
    victims.append(_server_victim("smtp", "smtp (Mailpit)", own))
    victims.append(_server_victim("kafka", "kafka broker", own))
    if plan.kill_store:
        # Last: a store that leaves a service hanging would stall every phase after it.
        victims.append(_server_victim("mongo", "store (FerretDB)", own))
    return victims


@contextlib.asynccontextmanager
async def _client(plan: Plan) -> AsyncIterator[httpx.AsyncClient]:
    connections = max(plan.concurrency, 8)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    # A portal gives up on a request after 10 s and retries it (same Idempotency-Key).
    timeout = httpx.Timeout(10.0, connect=5.0, pool=60.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as http:
        yield http


async def _prepare(
    services: RunningServices, plan: Plan, count: int
) -> tuple[Shop, list[str], Portal]:
    declaration = services.urls["declaration"]
    # The bench's own set-up, on its client; the journeys go through this test's portal.
    async with http_client(8, 60.0) as http:
        shop = await create_shop(http, declaration, ADMIN_TOKEN)
        orders = await create_orders(http, declaration, shop, count, 8)
    portal = Portal(declaration, services.urls["media"], shop, jpeg_photo(*plan.photo_size))
    return shop, orders, portal


async def _count(
    load: Load,
    shop: Shop,
    services: RunningServices,
    smtp_server: SmtpServer,
    start: dict[TopicPartition, int],
    plan: Plan,
) -> tuple[counting.Census, float]:
    census = counting.Census(shop.merchant_id, load.journeys)
    waited = await counting.settle(
        census,
        plan.settle_timeout,
        mongodb_url=services.env["MONGODB_URL"],
        bootstrap_servers=services.env["KAFKA_BOOTSTRAP_SERVERS"],
        start=start,
        mailpit_url=smtp_server.api_url,
        customer_service=shop.customer_service,
    )
    return census, waited


def _report(
    title: str,
    load: Load,
    census: counting.Census,
    recoveries: Sequence[Recovery],
    seconds: float,
    settled: float,
) -> str:
    retries = sum(journey.retries for journey in load.journeys)
    lines = [
        f"== {title}",
        f"{len(load.journeys)} journeys ({sum(j.defective for j in load.journeys)} defective), "
        f"{retries} requests retried, {len(load.failed)} journeys failed; "
        f"{seconds:.0f} s in all, {settled:.0f} s of it waiting for the consumers to settle",
        "",
        census.table(),
        "",
        table(recoveries),
    ]
    lines += [f"failed journey {j.index} ({j.order_number}): {j.error}" for j in load.failed[:10]]
    lines += [f"FAIL {failure}" for failure in census.failures()]
    return "\n".join(lines) + "\n"


def _publish(text: str, paths: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    counting.write(text, *paths)
    with capsys.disabled():
        print("\n" + text + f"(written to {paths[-1]})")


async def _run(
    load: Load,
    watcher: StageWatcher,
    victims: list[Victim],
    plan: Plan,
    capsys: pytest.CaptureFixture[str],
) -> list[Recovery]:
    def say(line: str) -> None:
        with capsys.disabled():
            print(f"\n[faults] {line}", end="", flush=True)

    runner = asyncio.create_task(load.run(), name="faults-load")
    try:
        recoveries = await drive(load, watcher, victims, plan.phase_timeout, plan.flow_timeout, say)
        await asyncio.wait_for(runner, plan.phase_timeout)
    finally:
        if not runner.done():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
    return recoveries


async def test_every_part_killed_under_load_loses_nothing_and_sends_nothing_twice(
    services: RunningServices,
    smtp_server: SmtpServer,
    own_servers: OwnServers,
    fault_plan: Plan,
    report_paths: list[Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    began = time.monotonic()
    bootstrap = services.env["KAFKA_BOOTSTRAP_SERVERS"]
    victims = _victims(fault_plan, own_servers, services)
    async with _client(fault_plan) as http:
        shop, orders, portal = await _prepare(services, fault_plan, fault_plan.returns)
        watched = [TOPICS.return_submitted, TOPICS.notification_sent, TOPICS.label_generated]
        start = await end_offsets(bootstrap, watched)
        watcher = StageWatcher(bootstrap, shop.merchant_id)
        await watcher.start(list(start))
        load = Load(http, portal, orders, fault_plan.concurrency, fault_plan.journey_seconds)
        try:
            recoveries = await _run(load, watcher, victims, fault_plan, capsys)
        finally:
            await watcher.stop()
    census, settled = await _count(load, shop, services, smtp_server, start, fault_plan)
    text = _report(
        f"kill -9 of every part under load ({len(victims)} kills)",
        load,
        census,
        recoveries,
        time.monotonic() - began,
        settled,
    )
    _publish(text, report_paths, capsys)

    assert not load.failed, text
    assert [r.name for r in recoveries] == [v.name for v in victims]
    assert all(r.error is None for r in recoveries), text
    assert all(r.same_command for r in recoveries), text
    assert census.failures() == [], text
    assert len(census.returns) == fault_plan.returns


# -- scale-out ---------------------------------------------------------------------------------

SCALED = ("declaration", "declaration-consumers", "notifier", "labels")
# The consumer groups whose second member must join and, after the kill, leave: notifier and
# labels read ReturnSubmitted; declaration's timeline (its consumers process) reads what they
# produce.
SCALED_GROUPS = (
    consumer_group("declaration", TOPICS.notification_sent),
    consumer_group("declaration", TOPICS.label_generated),
    consumer_group("notifier", TOPICS.return_submitted),
    consumer_group("labels", TOPICS.return_submitted),
)


async def _members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_consumer_groups([group])
        [entry] = described.groups
        return len(entry[5])  # (error, group, state, protocol type, protocol, members, ...)
    finally:
        await admin.close()


async def _wait_members(bootstrap: str, groups: Sequence[str], count: int, within: float) -> float:
    """Poll until each group has `count` members; returns the seconds it took."""
    began = time.monotonic()
    while True:
        found = [await _members(bootstrap, group) for group in groups]
        if all(number == count for number in found):
            return time.monotonic() - began
        if time.monotonic() - began > within:
            raise AssertionError(f"groups {list(groups)} have {found} members, not {count}")
        await asyncio.sleep(0.25)


def _extra_specs(own: OwnServers, services: RunningServices) -> list[processes.ProcessSpec]:
    """A second instance of each scaled service: its own port, log and pid file, the same
    command line, environment, store and consumer groups as the first."""
    base = SERVICES[0].port(PROFILE)
    state_dir = own.settings.state_dir
    return [
        service_spec(name, PROFILE, state_dir, services.env, instance=f"{name}-2", port=port)
        for port, name in enumerate(SCALED, start=base + EXTRA_PORT_OFFSET)
    ]


def _start(spec: processes.ProcessSpec) -> int:
    return processes.start(spec, ready_check(_url(spec)), timeout=120.0, interval=0.1)


def _url(spec: processes.ProcessSpec) -> str:
    return f"http://127.0.0.1:{spec.env['HTTP_PORT']}"


async def test_second_instances_share_the_work_and_one_of_each_dies_without_loss(
    services: RunningServices,
    smtp_server: SmtpServer,
    own_servers: OwnServers,
    fault_plan: Plan,
    report_paths: list[Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two declaration APIs (the portal spreading journeys over both, as a load balancer would;
    each with its outbox relay and reservation reconciler), two of its timeline consumers, two
    notifiers and two labels; once a quarter of the journeys are done, the second of each is
    killed with -9 and not restarted: the first takes over their requests, partitions and
    outbox."""
    began = time.monotonic()
    bootstrap = services.env["KAFKA_BOOTSTRAP_SERVERS"]
    extras = _extra_specs(own_servers, services)
    [second_declaration] = [spec for spec in extras if spec.name == "declaration-2"]
    try:
        await asyncio.gather(*(asyncio.to_thread(_start, spec) for spec in extras))
        joined = await _wait_members(bootstrap, SCALED_GROUPS, 2, fault_plan.flow_timeout)

        async with _client(fault_plan) as http:
            shop, orders, portal = await _prepare(
                services, fault_plan, fault_plan.scale_out_returns
            )
            start = await end_offsets(
                bootstrap,
                [TOPICS.return_submitted, TOPICS.notification_sent, TOPICS.label_generated],
            )
            load = Load(
                http,
                portal,
                orders,
                fault_plan.concurrency,
                fault_plan.journey_seconds,
                declaration_urls=[services.urls["declaration"], _url(second_declaration)],
            )
            runner = asyncio.create_task(load.run(), name="faults-scale-out-load")
            try:
                total = len(orders)
                await load.release_up_to(total // 2)
                await load.wait_finished(total // 4, fault_plan.phase_timeout)
                recoveries = [
                    await kill_only(Victim(spec.name, spec.pid_path, lambda: None))
                    for spec in extras
                ]
                killed_at = time.monotonic()
                await load.release_up_to(total)
                await _wait_members(bootstrap, SCALED_GROUPS, 1, fault_plan.flow_timeout)
                took_over = time.monotonic() - killed_at
                await asyncio.wait_for(runner, fault_plan.phase_timeout)
            finally:
                if not runner.done():
                    runner.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await runner
    finally:
        for spec in extras:
            await asyncio.to_thread(processes.stop, spec.pid_path, 30.0)

    census, settled = await _count(load, shop, services, smtp_server, start, fault_plan)
    submitted_on = [
        sum(1 for journey in load.journeys if journey.ok and journey.submitted_on == instance)
        for instance in range(2)
    ]
    text = _report(
        "scale-out: two declarations, notifiers and labels, one of each killed under load",
        load,
        census,
        recoveries,
        time.monotonic() - began,
        settled,
    )
    text += (
        f"second instances joined their groups in {joined:.1f} s; after the kill the groups "
        f"were down to one member within {took_over:.1f} s\n"
        f"submits answered by declaration 1: {submitted_on[0]}, by declaration 2: "
        f"{submitted_on[1]}; {load.moved} requests moved to the other declaration after a "
        "transport error\n"
    )
    _publish(text, report_paths, capsys)
    assert not load.failed, text
    assert census.failures() == [], text
    assert len(census.returns) == fault_plan.scale_out_returns
    # Both declarations took submits, and the kill did hit journeys in flight on the second.
    assert all(submitted_on), text
    assert load.moved > 0, text
