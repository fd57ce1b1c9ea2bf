"""The arithmetic of the bench, without servers and without timing."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry, generate_latest

from returns_bench import store_commands
from returns_bench.cpu import per_submission
from returns_bench.events import (
    CUSTOMER_SERVICE_EMAIL,
    LABEL,
    SUBMITTED,
    Expected,
    Seen,
    drain,
    missing,
    stage_of,
)
from returns_bench.http import http_client
from returns_bench.journey import JourneyResult, Portal, Shop, walk
from returns_bench.load import LoadPlan, run_load
from returns_bench.raw import Limits, repeat
from returns_bench.report import (
    cpu_bound_submissions_per_second,
    load_figures,
    ratios,
    store_bound_submissions_per_second,
    store_cpu_bound_submissions_per_second,
)
from returns_bench.stats import OpenLoopSchedule, is_defective, per_second, percentile, summary
from returns_contracts.service_kit.store_metrics import StoreCommandMetrics
from returns_contracts.topics import Topics


def test_percentiles_are_nearest_rank_values_that_were_measured() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100, shuffled order does not matter
    values.reverse()
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile(values, 0)


def test_summary_scales_to_milliseconds_and_says_when_nothing_was_measured() -> None:
    figures = summary([0.010, 0.020, 0.030, 0.040], 1000.0)
    assert figures == {"count": 4, "p50": 20.0, "p95": 40.0, "p99": 40.0, "max": 40.0, "mean": 25.0}
    assert summary([])["count"] == 0 and summary([])["p99"] is None


def test_an_open_loop_schedule_is_fixed_before_the_run() -> None:
    schedule = OpenLoopSchedule(rate=4.0, duration=2.5)
    assert schedule.count == 10
    assert schedule.offsets() == [i * 0.25 for i in range(10)]
    with pytest.raises(IndexError):
        schedule.offset(10)
    with pytest.raises(ValueError):
        OpenLoopSchedule(rate=0.0, duration=1.0)
    assert LoadPlan("open", 2.5, rate=4.0).journeys_needed(cap=3) == 10
    assert LoadPlan("closed", 2.5, concurrency=2).journeys_needed(cap=3) == 3


def test_defective_arrivals_are_spread_to_the_share() -> None:
    first_ten = [is_defective(index, 0.3) for index in range(10)]
    assert sum(first_ten) == 3
    assert sum(is_defective(index, 0.3) for index in range(1000)) == 300
    assert not any(is_defective(index, 0.0) for index in range(50))
    assert all(is_defective(index, 1.0) for index in range(50))


def test_per_second_counts_whole_seconds_after_the_start() -> None:
    assert per_second([100.1, 100.9, 101.0, 102.5, 99.0, 104.0], 100.0, 3) == [2, 1, 1]


def _journey(
    index: int, due: float, started: float, submit: float, done: float, defective: bool = False
) -> JourneyResult:
    result = JourneyResult(
        index,
        defective,
        due,
        started=started,
        submit_due=submit,
        submit_sent=submit,
        submit_done=done,
        finished=done,
        return_id=f"r{index}",
        requests=7,
    )
    return result


def test_latency_counts_from_the_scheduled_time_so_a_stall_is_not_hidden() -> None:
    # Both were due at 0 and 1; the second could only start at 5 (the generator or the system
    # was stuck): its journey latency is 5.5 s, not the 0.5 s it took once started.
    results = [_journey(0, 0.0, 0.0, 0.4, 0.5), _journey(1, 1.0, 5.0, 6.3, 6.5, defective=True)]
    seen = Seen()
    seen.note("r0", SUBMITTED, 0.7)
    seen.note("r0", LABEL, 2.5)
    seen.note("r1", SUBMITTED, 6.6)
    figures, series = load_figures(results, 0.0, seen)
    assert figures["journey_latency_from_schedule_ms"]["max"] == 5500.0
    assert figures["start_lag_ms"]["max"] == 4000.0
    assert figures["submit_latency_ms"]["max"] == 200.0
    assert figures["submit_to_return_submitted_ms"]["max"] == 300.0
    assert figures["submit_to_label_generated_ms"] == summary([2.1], 1000.0)
    assert figures["submit_to_customer_service_email_ms"]["count"] == 0
    assert figures["journeys_ok"] == 2 and figures["defective_submitted"] == 1
    assert series["submits_per_second"] == [1, 0, 0, 0, 0, 0, 1]
    assert figures["submissions_per_second"] == round(2 / 6.5, 3)
    assert figures["journeys"][1]["started"] == 5.0
    # Planned for 20 s: two submissions in the first 6.5 s are not 0.3 per second sustained.
    longer, _ = load_figures(results, 0.0, seen, planned_seconds=20.0)
    assert longer["submissions_per_second"] == 0.1


def test_losses_are_the_stages_not_seen_for_each_return() -> None:
    seen = Seen()
    seen.note("a", SUBMITTED, 1.0)
    seen.note("a", CUSTOMER_SERVICE_EMAIL, 2.0)
    seen.note("b", SUBMITTED, 1.0)
    lost = missing(seen, [Expected("a", True), Expected("b", False), Expected("c", True)])
    assert lost == {SUBMITTED: ["c"], CUSTOMER_SERVICE_EMAIL: ["c"], LABEL: ["b"]}


def test_only_the_customer_service_email_counts_among_notifications() -> None:
    topics = Topics()
    email = b'{"payload": {"template": "customer_service_defective"}}'
    other = b'{"payload": {"template": "customer_defective_acknowledgement"}}'
    assert stage_of(topics.notification_sent, email, topics) == CUSTOMER_SERVICE_EMAIL
    assert stage_of(topics.notification_sent, other, topics) is None
    assert stage_of(topics.notification_sent, b"not json", topics) is None
    assert stage_of(topics.label_generated, b"{}", topics) == LABEL


def test_ratios_compare_the_system_with_the_raw_rates() -> None:
    load = {
        "submissions_per_second": 5.0,
        "http_requests_per_second": 40.0,
        "submit_latency_ms": {"p50": 30.0},
    }
    raw = {
        "store": {
            "insert": {"per_second": 500.0},
            "find_by_id": {"per_second": 1000.0, "latency_ms": {"p50": 2.0}},
        },
        "http": {"per_second": 400.0},
    }
    found = ratios(load, raw)
    assert found["submissions_per_store_insert"] == 0.01
    assert found["journey_requests_per_healthz"] == 0.1
    assert found["submit_p50_in_store_finds_p50"] == 15.0
    assert found["submissions_per_kafka_produce_batched"] is None


async def test_a_raw_probe_tells_the_cpu_each_operation_cost_the_processes_named() -> None:
    async def busy(_: int) -> None:
        until = time.process_time() + 0.002
        while time.process_time() < until:
            pass

    limits = Limits(seconds=0.5, max_operations=50, concurrency=1)
    measured = await repeat(busy, limits, {"bench": os.getpid()})
    # /proc counts in clock ticks (10 ms): 50 x 2 ms of work is 10 ticks, +-1.
    assert 1.5 <= measured["cpu_ms_per_operation"]["bench"] <= 2.5
    assert "cpu_ms_per_operation" not in await repeat(busy, limits)


def test_the_store_bounds_add_up_each_command_at_its_probes_cost() -> None:
    def probe(per_second: float, store_ms: float, client_ms: float) -> dict[str, Any]:
        cpu = {"mongo": store_ms, "returns-bench": client_ms}
        return {"per_second": per_second, "cpu_ms_per_operation": cpu}

    raw = {
        "store": {
            "insert": probe(1000.0, 0.3, 0.2),
            "find_by_id": probe(2000.0, 0.2, 0.1),
            "update_by_id": probe(500.0, 0.6, 0.2),
            "find_by_id_in_returns": {"per_second": 250.0, "latency_ms": {"p50": 1.0}},
            "returns_collection_documents": 10,
        }
    }
    commands = {"all": 15.0, "find": 10.0, "insert": 2.0, "update": 1.0, "delete": 1.0, "x": 1.0}
    # At the probes' rates: 10 finds (5 ms) + 2 inserts (2 ms) + 1 update and 1 delete (4 ms)
    # + 1 unknown command at the slowest probe (4 ms) = 15 ms per submission.
    assert store_bound_submissions_per_second(commands, raw) == 66.67
    # At their CPU on 2 cores: 10 x 0.3 + 2 x 0.5 + 2 x 0.8 + 1 x 0.8 (the dearest) = 6.4 ms
    # of CPU, 3.2 ms of the machine per submission.
    assert store_cpu_bound_submissions_per_second(commands, raw, cores=2) == 312.5
    found = ratios({}, raw, commands, cores=2)
    assert found["store_bound_submissions_per_second"] == 66.67
    assert found["store_cpu_bound_submissions_per_second"] == 312.5
    assert store_bound_submissions_per_second({}, raw) is None
    assert store_bound_submissions_per_second(commands, {}) is None
    assert store_cpu_bound_submissions_per_second(commands, {"store": {"x": {}}}, 2) is None


def test_the_cpu_bound_ceiling_is_every_core_over_every_process_s_cpu_per_submission() -> None:
    cpu = {"all": 100.0, "mongo": 40.0, "returns-bench": 20.0, "declaration": 40.0}
    # 2 cores: 2,000 ms of CPU a second over 100 ms a submission; 80 ms without the bench.
    assert cpu_bound_submissions_per_second(cpu, 2, with_load_generator=True) == 20.0
    assert cpu_bound_submissions_per_second(cpu, 2, with_load_generator=False) == 25.0
    found = ratios({}, {}, None, cores=2, cpu_ms_per_submission=cpu)
    assert found["cpu_bound_submissions_per_second"] == 20.0
    assert found["cpu_bound_submissions_per_second_without_load_generator"] == 25.0
    assert cpu_bound_submissions_per_second({}, 2, with_load_generator=True) is None
    # The bench's CPU alone is not the system's cost.
    bench_only = {"all": 20.0, "returns-bench": 20.0}
    assert cpu_bound_submissions_per_second(bench_only, 2, with_load_generator=True) is None
    assert cpu_bound_submissions_per_second(None, 2, with_load_generator=False) is None
    assert ratios({}, {}, None, cores=2)["cpu_bound_submissions_per_second"] is None


def test_the_command_line_chooses_the_loop() -> None:
    from returns_bench.cli import config_of, parser

    opened = config_of(parser().parse_args(["--rate", "10", "--duration", "60", "--stored", "5"]))
    assert opened.plan.mode == "open" and opened.plan.rate == 10.0 and opened.stored == 5
    closed = config_of(parser().parse_args(["--concurrency", "32", "--photo-size", "640x480"]))
    assert closed.plan.mode == "closed" and closed.plan.concurrency == 32
    assert closed.photo_size == (640, 480)
    for wrong in (
        ["--defective-share", "1.5"],
        ["--rate", "0"],
        ["--rate", "1", "--concurrency", "2"],
    ):
        with pytest.raises(SystemExit):
            parser().parse_args(wrong)


async def test_the_drain_ends_at_its_bound_and_says_what_is_missing() -> None:
    seen = Seen()
    seen.note("a", SUBMITTED, 1.0)
    seen.note("a", LABEL, 2.0)
    polls: list[int] = []
    lost, _ = await drain(
        seen, [Expected("a", False)], within=30.0, on_poll=lambda w, n: polls.append(n)
    )
    assert lost == {SUBMITTED: [], CUSTOMER_SERVICE_EMAIL: [], LABEL: []} and polls == [0]
    lost, _ = await drain(seen, [Expected("a", False), Expected("b", True)], within=0.0)
    assert lost[SUBMITTED] == ["b"] and lost[CUSTOMER_SERVICE_EMAIL] == ["b"]


async def test_the_drain_waits_while_records_arrive_and_stops_when_they_stop() -> None:
    seen = Seen()
    expected = [Expected(name, False) for name in "abcd"]
    polls: list[int] = []

    def arrive(waited: float, left: int) -> None:
        polls.append(left)
        # A record comes at each of the first three polls (0.06 s apart), then none.
        if len(polls) <= 3:
            seen.note("abc"[len(polls) - 1], SUBMITTED, float(len(polls)))

    lost, waited = await drain(seen, expected, within=30.0, poll=0.06, on_poll=arrive, stall=0.1)
    # Records kept coming for longer than the stall bound: it counts from the last of them,
    # so the drain saw every one, and still stopped long before its 30 s bound.
    assert polls[:4] == [8, 7, 6, 5] and waited < 5.0
    assert lost[SUBMITTED] == ["d"] and lost[LABEL] == ["a", "b", "c", "d"]
    # With nothing arriving, the stall bound alone ends it.
    _, waited = await drain(Seen(), expected, within=30.0, poll=0.01, stall=0.05)
    assert 0.05 <= waited < 5.0


def test_the_command_line_chooses_a_burst() -> None:
    from returns_bench.cli import config_of, parser

    burst = config_of(parser().parse_args(["--burst", "150", "--duration", "60"]))
    assert burst.plan.mode == "burst" and burst.plan.rate == 150.0
    assert burst.plan.journeys_needed(1000) == 9000
    with pytest.raises(SystemExit):
        parser().parse_args(["--burst", "10", "--rate", "10"])


@contextlib.asynccontextmanager
async def portal_answered_by(
    answer: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[Portal]:
    """A local HTTP server answering every path with `answer`; yields a portal of one shop
    whose declaration and media are both that server."""
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("")).rstrip("/")
        yield Portal(url, url, Shop("m", "k", "cs@example.com"), b"jpeg")
    finally:
        await server.close()


async def test_a_burst_prepares_every_journey_before_the_first_submit() -> None:
    """The portal API answered by a local server: every step of every journey comes before
    the first submit, and the submits go out at the rate, each timed from its schedule."""
    calls: list[str] = []

    async def portal(request: web.Request) -> web.Response:
        path = request.path
        calls.append("submit" if path.endswith("/submit") else "prepare")
        if path.endswith("/sessions"):
            return web.json_response({"session_token": "s"}, status=201)
        if path.endswith("/drafts") and request.method == "POST":
            return web.json_response({"draft_id": f"d{len(calls)}", "draft_token": "t"}, status=201)
        if path.endswith("/submit"):
            draft_id = path.split("/")[-2]
            return web.json_response({"return_id": draft_id, "defective": False}, status=201)
        return web.json_response({})

    plan = LoadPlan("burst", 0.5, rate=20.0, defective_share=0.0)
    async with portal_answered_by(portal) as served, http_client(8, 5.0) as http:
        results, start = await run_load(http, served, [f"B-{n}" for n in range(10)], plan)
    assert len(results) == 10 and all(result.ok for result in results)
    first_submit = calls.index("submit")
    assert calls[:first_submit] == ["prepare"] * first_submit
    assert calls[first_submit:] == ["submit"] * 10
    dues = [result.submit_due - start for result in results]
    assert dues == pytest.approx([n / 20.0 for n in range(10)])
    assert all(result.submit_done >= result.submit_due for result in results)


async def test_a_photo_goes_up_as_a_form_and_a_refused_step_is_told_by_its_path() -> None:
    uploaded: dict[str, object] = {}

    async def portal(request: web.Request) -> web.Response:
        path = request.path
        if path.endswith("/sessions"):
            return web.json_response({"session_token": "s"}, status=201)
        if path.endswith("/drafts"):
            return web.json_response({"draft_id": "d", "draft_token": "t"}, status=201)
        if path.endswith("/photos"):
            form = await request.post()
            photo = form["file"]
            assert isinstance(photo, web.FileField)
            uploaded.update(
                name=photo.filename,
                type=photo.content_type,
                content=photo.file.read(),
                line=request.query["line_id"],
                token=request.headers["Authorization"],
            )
            return web.json_response({"photo_id": "p"}, status=201)
        if path.endswith("/defect"):
            return web.json_response({"detail": "draft expired"}, status=409)
        return web.json_response({})

    async with portal_answered_by(portal) as served, http_client(2, 5.0) as http:
        result = await walk(http, served, "O-1", JourneyResult(0, True, 0.0))

    assert uploaded == {
        "name": "photo.jpg",
        "type": "image/jpeg",
        "content": b"jpeg",
        "line": "1",
        "token": "Bearer t",
    }
    assert result.error == (
        'PUT /v1/portal/m/drafts/d/lines/1/defect answered 409: {"detail": "draft expired"}'
    )
    assert result.requests == 5 and not result.ok  # the refused one answered too


async def test_a_redirect_is_a_journeys_error_not_followed() -> None:
    asked: list[str] = []

    async def portal(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.Response(status=307, headers={"Location": "/elsewhere"})

    async with portal_answered_by(portal) as served, http_client(2, 5.0) as http:
        result = await walk(http, served, "O-1", JourneyResult(0, False, 0.0))
    assert asked == ["/v1/portal/m/sessions"]
    assert result.error is not None and result.error.startswith("JSONDecodeError")


async def test_a_journey_that_gets_no_answer_is_recorded_not_raised() -> None:
    async def anything(request: web.Request) -> web.Response:
        return web.json_response({})

    async with portal_answered_by(anything) as served:
        pass  # the server is gone: its port refuses
    async with http_client(2, 5.0) as http:
        result = await walk(http, served, "O-1", JourneyResult(0, False, 0.0))
    assert result.error is not None and result.error.startswith("session: ClientConnectorError")


def test_errors_are_counted_per_kind_whatever_the_ids_in_their_paths() -> None:
    failed = []
    for index, draft in enumerate(
        ("4aaba555-09b7-4923-b2d9-eb40f065758b", "b52dab94-837e-4d89-8f65-a5e48a445ef0")
    ):
        result = _journey(index, 0.0, 0.0, 0.1, 0.2)
        result.return_id = None
        result.error = f"POST /v1/portal/bench-5c52b6dded/drafts/{draft}/submit answered 503"
        failed.append(result)
    figures, _ = load_figures(failed, 0.0, Seen())
    assert figures["errors"] == {"POST /v1/portal/<merchant>/drafts/<id>/submit answered 503": 2}


def test_cpu_per_submission_adds_every_process_and_skips_an_empty_run() -> None:
    used = {"declaration": 0.5, "mongo": 0.25, "labels": 0.25}
    assert per_submission(used, 100) == {
        "all": 10.0,
        "declaration": 5.0,
        "mongo": 2.5,
        "labels": 2.5,
    }
    assert per_submission(used, 0) == {}


def test_store_commands_per_submission_count_only_what_the_run_added() -> None:
    before = {"find": 100, "insert": 40}
    after = {"find": 130, "insert": 60, "update": 10}
    assert store_commands.per_submission(before, after, 10) == {
        "all": 6.0,
        "find": 3.0,
        "insert": 2.0,
        "update": 1.0,
    }
    assert store_commands.per_submission(None, after, 10) == {}  # a server without counters
    assert store_commands.per_submission(before, after, 0) == {}


def test_store_commands_by_service_come_from_each_services_metrics() -> None:
    registry = CollectorRegistry()
    metrics = StoreCommandMetrics(registry)
    metrics.commands.labels("orders", "find").inc(3)
    before = {"declaration": store_commands.store_counts(generate_latest(registry).decode())}
    metrics.commands.labels("orders", "find").inc(80)
    metrics.commands.labels("drafts", "update").inc(50)
    metrics.commands.labels("returns", "insert").inc(10)
    after = {
        "declaration": store_commands.store_counts(generate_latest(registry).decode()),
        "labels": {"insert returns": 10.0},
    }

    figures = store_commands.per_submission_by_service(before, after, 10, top=2)

    assert figures == {
        "declaration": {"all": 14.0, "find orders": 8.0, "update drafts": 5.0},
        "labels": {"all": 1.0, "insert returns": 1.0},
    }
    assert list(figures) == ["declaration", "labels"]  # the busiest service first
    assert store_commands.per_submission_by_service(before, after, 0) == {}


def test_each_services_store_pace_is_what_it_timed_between_two_snapshots() -> None:
    registry = CollectorRegistry()
    metrics = StoreCommandMetrics(registry)
    metrics.latency.labels("find").observe(0.5)
    before = {"notifier": store_commands.round_trips(generate_latest(registry).decode())}
    for seconds in (0.010, 0.030):
        metrics.latency.labels("find").observe(seconds)
    for seconds in (0.002, 0.006):
        metrics.latency.labels("update").observe(seconds)
    after = {
        "notifier": store_commands.round_trips(generate_latest(registry).decode()),
        "labels": (5.0, 0.25),  # a service first seen after the start: all of it counts
    }

    figures = store_commands.pace(before, after, seconds=2.0)

    # The half-second find before the first snapshot is not the run's.
    assert figures == {
        "labels": {"commands_per_second": 2.5, "mean_round_trip_ms": 50.0},
        "notifier": {"commands_per_second": 2.0, "mean_round_trip_ms": 12.0},
    }
    assert store_commands.pace(before, before, seconds=2.0) == {}  # nothing timed
    assert store_commands.pace(before, after, seconds=0.0) == {}
