"""The services' HTTP client (httpx, for media's photo lookup and the bench) costs no import
search per request.

httpcore runs `import sniffio` on every request to tell asyncio from trio. anyio 4 no longer
pulls sniffio in; without it each request searched the whole import path four times and failed,
about 0.5 ms of CPU per request (1.3 -> 0.8 ms, client and a trivial server, make bench found
it). The kit requires sniffio; this test fails when it is missing again.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

import httpx

_ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


class ImportSearches(importlib.abc.MetaPathFinder):
    """Counts the imports that reach the path search (none that `sys.modules` answers)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        self.names.append(fullname)
        return None


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(_ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def test_a_request_searches_no_import() -> None:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    searches = ImportSearches()
    async with server, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        # The first requests import what httpx imports lazily, once.
        for _ in range(3):
            assert (await client.get("/")).status_code == 200
        sys.meta_path.insert(0, searches)
        try:
            for _ in range(10):
                assert (await client.get("/")).status_code == 200
        finally:
            sys.meta_path.remove(searches)
    assert searches.names == [], f"imports searched on every request: {set(searches.names)}"
