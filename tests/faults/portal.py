"""The load of the fault suite: the portal's journey through the public API, retried like a
real portal retries while parts of the system die.

Each journey walks the steps of `returns_bench.journey` (session, draft, reasons, a real JPEG
uploaded to media for a defective line, the summary, the submit with an `Idempotency-Key`), but
a step that fails with a transport error, a timeout, a 5xx or a 429 is sent again after a short
backoff, the submit always with the same key, until the journey's own deadline. Any other
answer is a failure of the system and ends the journey. Journeys are released in batches by
whoever drives the faults (`Load.release`), so kills land while journeys are in flight and new
ones start after each restart.

With several declaration instances (scale-out), the portal spreads journeys over them as a load
balancer would: journey i goes to instance i mod n, and a request that cannot reach its instance
(a transport error: refused, reset, timed out) is sent again to the next one, which the journey
keeps for its remaining steps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from returns_bench.journey import CLASSIC_REASON, COMMENT, CUSTOMER_EMAIL, DEFECTIVE_REASON, Portal
from returns_bench.stats import is_defective

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_FIRST = 0.25
BACKOFF_CAP = 3.0

Target = str | Callable[[], str]
"""A request's URL, or for declaration's routes the URL on the journey's instance of the moment."""


class StepRefused(Exception):
    """A step answered an error that retrying cannot change."""


@dataclass
class Journey:
    index: int
    order_number: str
    defective: bool
    idempotency_key: str = ""
    return_id: str | None = None
    error: str | None = None
    retries: int = 0
    instance: int = 0
    """Which declaration instance the journey talks to (modulo their number)."""
    moved: int = 0
    """Requests sent again to another declaration instance after a transport error."""
    submitted_on: int | None = None
    """The declaration instance that answered the submit."""
    done_at: float = 0.0
    """`time.time()` when the submit was answered (or the journey gave up)."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.return_id is not None


@dataclass
class Load:
    """`orders` journeys, `concurrency` at a time, each started only once released."""

    http: httpx.AsyncClient
    portal: Portal
    orders: list[str]
    concurrency: int
    journey_seconds: float
    defective_share: float = 1 / 3
    declaration_urls: Sequence[str] = ()
    """The declaration instances behind the portal; none: only `portal.declaration_url`."""
    journeys: list[Journey] = field(default_factory=list)
    successes: dict[str, list[float]] = field(default_factory=dict)
    """Per step, the `time.time()` of each successful answer: when the flow resumed."""
    _released: int = 0
    _next: int = 0
    _wake: asyncio.Condition = field(default_factory=asyncio.Condition)

    def __post_init__(self) -> None:
        self.journeys = [
            Journey(index, number, is_defective(index, self.defective_share), instance=index)
            for index, number in enumerate(self.orders)
        ]
        if not self.declaration_urls:
            self.declaration_urls = [self.portal.declaration_url]

    @property
    def finished(self) -> int:
        return sum(1 for journey in self.journeys if journey.done_at)

    @property
    def failed(self) -> list[Journey]:
        return [journey for journey in self.journeys if journey.done_at and not journey.ok]

    @property
    def moved(self) -> int:
        """Requests that another declaration instance answered after theirs could not."""
        return sum(journey.moved for journey in self.journeys)

    def _api(self, journey: Journey, path: str) -> Callable[[], str]:
        """The URL of a portal route on the journey's declaration instance at each attempt."""
        merchant_id = self.portal.shop.merchant_id

        def url() -> str:
            base = self.declaration_urls[journey.instance % len(self.declaration_urls)]
            return f"{base}/v1/portal/{merchant_id}{path}"

        return url

    def succeeded_after(self, step: str, moment: float) -> float | None:
        """The first success of `step` at or after `moment`, or None."""
        later = [at for at in self.successes.get(step, []) if at >= moment]
        return min(later) if later else None

    async def release_up_to(self, count: int) -> None:
        """Let the first `count` journeys start (those already released go on)."""
        async with self._wake:
            self._released = min(len(self.journeys), max(self._released, count))
            self._wake.notify_all()

    async def wait_finished(self, count: int, within: float) -> None:
        """Poll until `count` journeys have finished; fail after `within` seconds."""
        deadline = time.monotonic() + within
        while self.finished < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"only {self.finished} of {count} journeys finished within {within:.0f}s"
                )
            await asyncio.sleep(0.1)

    async def run(self) -> None:
        """Walk every journey once released; returns when all have finished."""
        await asyncio.gather(*(self._worker() for _ in range(self.concurrency)))

    async def _worker(self) -> None:
        while True:
            async with self._wake:
                await self._wake.wait_for(
                    lambda: self._next < self._released or self._next >= len(self.journeys)
                )
                if self._next >= len(self.journeys):
                    return
                journey = self.journeys[self._next]
                self._next += 1
            await self._walk(journey)

    async def _call(
        self,
        journey: Journey,
        step: str,
        method: str,
        target: Target,
        deadline: float,
        **kwargs: Any,
    ) -> dict[str, Any]:
        backoff = BACKOFF_FIRST
        while True:
            problem: str
            url = target() if callable(target) else target
            try:
                response = await self.http.request(method, url, **kwargs)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}"
                if callable(target) and len(self.declaration_urls) > 1:
                    # What a load balancer does with an upstream it cannot reach.
                    journey.instance += 1
                    journey.moved += 1
            else:
                if response.status_code not in RETRIED_STATUSES:
                    if response.is_error:
                        raise StepRefused(
                            f"{step}: {method} {response.request.url.path} answered "
                            f"{response.status_code}: {response.text[:300]}"
                        )
                    self.successes.setdefault(step, []).append(time.time())
                    body: dict[str, Any] = response.json() if response.content else {}
                    return body
                problem = f"HTTP {response.status_code}"
            if time.monotonic() + backoff > deadline:
                raise StepRefused(f"{step}: still failing at the journey's deadline ({problem})")
            journey.retries += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_CAP)

    async def _walk(self, journey: Journey) -> None:
        deadline = time.monotonic() + self.journey_seconds
        try:
            session = await self._call(
                journey,
                "session",
                "POST",
                self._api(journey, "/sessions"),
                deadline,
                json={"order_number": journey.order_number, "email": CUSTOMER_EMAIL},
            )
            auth = {"Authorization": f"Bearer {session['session_token']}"}
            lines = [{"line_id": "1", "quantity": 1}, {"line_id": "2", "quantity": 1}]
            draft = await self._call(
                journey,
                "draft",
                "POST",
                self._api(journey, "/drafts"),
                deadline,
                json={"lines": lines},
                headers=auth,
            )
            draft_id = draft["draft_id"]
            first = DEFECTIVE_REASON if journey.defective else CLASSIC_REASON
            for line_id, reason in (("1", first), ("2", CLASSIC_REASON)):
                await self._line(journey, draft, line_id, reason, auth, deadline)
            await self._call(
                journey,
                "summary",
                "GET",
                self._api(journey, f"/drafts/{draft_id}"),
                deadline,
                headers=auth,
            )
            # The key a portal keeps for this draft: every retry of the submit sends it again.
            journey.idempotency_key = f"faults-{draft_id}"
            answer = await self._call(
                journey,
                "submit",
                "POST",
                self._api(journey, f"/drafts/{draft_id}/submit"),
                deadline,
                headers={**auth, "Idempotency-Key": journey.idempotency_key},
            )
            journey.return_id = str(answer["return_id"])
            journey.submitted_on = journey.instance % len(self.declaration_urls)
            if bool(answer.get("defective")) != journey.defective:
                journey.error = f"the return came back defective={answer.get('defective')}"
        except StepRefused as refused:
            journey.error = str(refused)
        except (KeyError, ValueError) as error:
            journey.error = f"{type(error).__name__}: {error}"
        journey.done_at = time.time()

    async def _line(
        self,
        journey: Journey,
        draft: Mapping[str, Any],
        line_id: str,
        reason: str,
        auth: dict[str, str],
        deadline: float,
    ) -> None:
        line = f"/drafts/{draft['draft_id']}/lines/{line_id}"
        await self._call(
            journey,
            "reason",
            "PUT",
            self._api(journey, f"{line}/reason"),
            deadline,
            json={"reason_code": reason},
            headers=auth,
        )
        if reason != DEFECTIVE_REASON:
            await self._call(
                journey,
                "return_type",
                "PUT",
                self._api(journey, f"{line}/return-type"),
                deadline,
                json={"return_type": "refund"},
                headers=auth,
            )
            return
        shop = self.portal.shop
        photo = await self._call(
            journey,
            "photo",
            "POST",
            f"{self.portal.media_url}/v1/merchants/{shop.merchant_id}/drafts/"
            f"{draft['draft_id']}/photos",
            deadline,
            params={"line_id": line_id},
            files={"file": ("photo.jpg", self.portal.photo, "image/jpeg")},
            headers={"Authorization": f"Bearer {draft['draft_token']}"},
        )
        await self._call(
            journey,
            "defect",
            "PUT",
            self._api(journey, f"{line}/defect"),
            deadline,
            json={"comment": COMMENT, "photo_ids": [photo["photo_id"]]},
            headers=auth,
        )
