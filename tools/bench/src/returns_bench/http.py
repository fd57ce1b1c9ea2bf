"""The bench's HTTP client, on aiohttp.

The bench runs on the machine it measures, so every millisecond of CPU it spends is one the
servers under test do not get. httpx (0.28, which the services and tests use) cost the bench
0.73-0.76 ms of CPU per portal request, aiohttp 0.10-0.13 ms (a JSON POST to a local uvicorn,
6,000 requests 8 at a time): at eight requests a journey, about 6 ms of every journey's CPU
went to the load generator's HTTP client, about 1 ms now.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
"""What a request raises when it got no answer: refused, reset, timed out."""


@dataclass(frozen=True)
class Answer:
    """A whole response, read before the connection went back to the pool."""

    method: str
    path: str
    status: int
    body: bytes

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Upload:
    """One file of a multipart form, as the portal uploads a photo."""

    field: str
    filename: str
    content: bytes
    content_type: str


class Http:
    """Requests over one pool of kept connections."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        upload: Upload | None = None,
    ) -> Answer:
        form: aiohttp.FormData | None = None
        if upload is not None:
            form = aiohttp.FormData()
            form.add_field(
                upload.field,
                upload.content,
                filename=upload.filename,
                content_type=upload.content_type,
            )
        # A redirect is answered, not followed, as the portal's API never redirects and httpx
        # did not follow either: one would show as a journey's error.
        async with self.session.request(
            method,
            url,
            json=json,
            headers=headers,
            params=params,
            data=form,
            allow_redirects=False,
        ) as response:
            body = await response.read()
        return Answer(method, response.url.path, response.status, body)


@contextlib.asynccontextmanager
async def http_client(connections: int, request_timeout: float) -> AsyncIterator[Http]:
    """A pool of `connections` at most; a request waits up to 120 s for one of them (an open
    loop's arrivals queue there, and the wait counts in their latency), 10 s to connect and
    `request_timeout` for each read."""
    timeout = aiohttp.ClientTimeout(
        total=None, connect=120.0, sock_connect=10.0, sock_read=request_timeout
    )
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    # No cookie jar: the journeys share the session, the portal API answers by bearer token,
    # and a cookie one journey got must not ride along with another's requests.
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        yield Http(session)
