"""The fault suite's portal client spreads journeys over declaration instances like a load
balancer and moves a journey to the next instance when its own cannot be reached (no servers:
the instances are stand-ins answering the portal's routes)."""

from __future__ import annotations

import json

import httpx

from returns_bench.journey import Portal, Shop

from .portal import Load

ALIVE = "http://declaration-1.invalid"
DEAD = "http://declaration-2.invalid"
MEDIA = "http://media.invalid"


def _answer(request: httpx.Request) -> httpx.Response:
    """What a live declaration (or media) answers to each step of a classic journey."""
    if request.url.host == "declaration-2.invalid":
        raise httpx.ConnectError("connection refused", request=request)
    path = request.url.path
    if path.endswith("/sessions"):
        return httpx.Response(201, json={"session_token": "s"})
    if path.endswith("/drafts") and request.method == "POST":
        return httpx.Response(201, json={"draft_id": "d", "draft_token": "t"})
    if path.endswith("/submit"):
        body = {"return_id": f"r-{request.headers['Idempotency-Key']}", "defective": False}
        return httpx.Response(201, json=body)
    return httpx.Response(200, json={})


async def _load(urls: list[str], journeys: int) -> tuple[Load, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    portal = Portal(ALIVE, MEDIA, Shop("shop", "key", "cs@x.invalid"), b"jpeg")
    orders = [f"O-{n}" for n in range(journeys)]
    # No defective journey: they would upload a photo to media, beside the point here.
    load = Load(http, portal, orders, 2, 30.0, defective_share=0.0, declaration_urls=urls)
    await load.release_up_to(journeys)
    await load.run()
    await http.aclose()
    return load, sent


async def test_journeys_alternate_between_instances_and_leave_one_that_cannot_be_reached() -> None:
    load, sent = await _load([ALIVE, DEAD], 4)
    assert [journey.ok for journey in load.journeys] == [True] * 4
    # Journeys 1 and 3 started on the dead instance: their first request went there, was
    # refused, and every later one went to the live one.
    refused = [request for request in sent if request.url.host == "declaration-2.invalid"]
    assert len(refused) == 2
    assert [journey.moved for journey in load.journeys] == [0, 1, 0, 1]
    assert load.moved == 2
    assert {journey.submitted_on for journey in load.journeys} == {0}
    submits = [request for request in sent if request.url.path.endswith("/submit")]
    assert len(submits) == 4 and all(r.url.host == "declaration-1.invalid" for r in submits)


async def test_with_both_instances_alive_each_answers_every_step_of_its_journeys() -> None:
    load, sent = await _load([ALIVE, ALIVE.replace("-1", "-3")], 4)
    assert load.moved == 0
    assert [journey.submitted_on for journey in load.journeys] == [0, 1, 0, 1]
    hosts = {
        json.loads(request.content or b"{}").get("order_number"): request.url.host
        for request in sent
        if request.url.path.endswith("/sessions")
    }
    assert hosts == {
        "O-0": "declaration-1.invalid",
        "O-1": "declaration-3.invalid",
        "O-2": "declaration-1.invalid",
        "O-3": "declaration-3.invalid",
    }
