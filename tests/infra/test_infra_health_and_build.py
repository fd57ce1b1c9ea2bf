"""Health probes against ports that answer wrongly or not at all, and the build cache's
decisions (reuse, rebuild after a crash, a new folder when a patch changes), without network."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from returns_infra import health
from returns_infra.build import (
    STAMP_NAME,
    BuildContext,
    BuildError,
    is_complete,
    parse_version,
    patches_digest,
    require_tools,
)
from returns_infra.components.base import Component
from returns_infra.config import Settings
from returns_infra.processes import ProcessSpec
from returns_infra.services import listening, ready_check


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class _Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = (200, b'{"ok": true}') if self.path == "/ok" else (500, b"{}")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_port_in_use_is_not_free() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not health.port_is_free("127.0.0.1", port)
    assert health.port_is_free("127.0.0.1", _closed_port())


def test_http_probes_want_a_200_with_json(http_server: str) -> None:
    assert health.http_get_json(f"{http_server}/ok") == {"ok": True}
    assert health.http_ok(f"{http_server}/ok")
    assert not health.http_ok(f"{http_server}/broken")
    assert not health.http_ok(f"http://127.0.0.1:{_closed_port()}/ok", timeout=1)


def test_an_http_server_is_not_an_smtp_server(http_server: str) -> None:
    port = int(http_server.rsplit(":", 1)[1])
    assert not health.smtp_ehlo("127.0.0.1", port, timeout=2)
    assert not health.smtp_ehlo("127.0.0.1", _closed_port(), timeout=1)


def test_probes_of_a_closed_port_say_no_within_their_timeout() -> None:
    closed = _closed_port()
    assert not health.mongo_ping(f"mongodb://127.0.0.1:{closed}/", timeout=1)
    assert not health.kafka_metadata(f"127.0.0.1:{closed}", timeout=1)
    assert not health.s3_list_buckets(f"127.0.0.1:{closed}", "k", "s", "us-east-1", timeout=1)


async def test_a_probe_called_from_a_running_loop_gets_a_loop_of_its_own() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert health.run_coroutine(answer) == 42


def test_versions_are_read_from_tool_output() -> None:
    assert parse_version("go1.26.1") == (1, 26, 1)
    assert parse_version("v20.19") == (20, 19)
    assert parse_version('openjdk version "17"') == (17,)
    assert parse_version("none") == ()


def test_missing_tools_are_named_together_with_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BuildError) as raised:
        require_tools("smtp", ["npm", "mvn"])
    message = str(raised.value)
    assert "missing tool(s) npm, mvn" in message
    assert "Node.js" in message and "apt-get install maven" in message


def test_the_patch_digest_follows_the_patches_text(tmp_path: Path) -> None:
    first, second = tmp_path / "a.patch", tmp_path / "b.patch"
    first.write_text("one\n")
    second.write_text("two\n")
    digest = patches_digest([first, second])
    assert digest == patches_digest([first, second])
    assert digest.startswith("p") and len(digest) == 13
    assert patches_digest([second, first]) != digest
    second.write_text("two, changed\n")
    assert patches_digest([first, second]) != digest


class _Fake(Component):
    """A component whose build writes one file, or dies halfway when told to."""

    name = "fake"
    version = "1.0"
    artifact = "fake-1.0"
    build_tools: ClassVar[tuple[str, ...]] = ()
    description = "a fake server"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.builds = 0
        self.crash = False

    def _build(self, ctx: BuildContext) -> None:
        self.builds += 1
        (self.install_dir / "binary").write_text(f"build {self.builds}\n")
        if self.crash:
            raise BuildError("the compiler died")

    def ports(self) -> list[int]:
        return []

    def address(self) -> str:
        return ""

    def process_spec(self) -> ProcessSpec:
        raise NotImplementedError

    def healthy(self, timeout: float = 3.0) -> bool:
        return False


@pytest.fixture
def fake(tmp_path: Path) -> _Fake:
    return _Fake(Settings.for_profile("test", {"RETURNS_CACHE_DIR": str(tmp_path / "cache")}))


def test_a_finished_build_is_reused(fake: _Fake) -> None:
    said: list[str] = []
    assert fake.build(said.append)
    assert is_complete(fake.install_dir)
    stamp = json.loads((fake.install_dir / STAMP_NAME).read_text())
    assert (stamp["component"], stamp["version"]) == ("fake", "1.0")
    assert not fake.build(said.append)
    assert fake.builds == 1
    assert any("built in" in line for line in said)


def test_a_build_that_died_halfway_is_not_reused_and_starts_afresh(fake: _Fake) -> None:
    fake.crash = True
    with pytest.raises(BuildError):
        fake.build(lambda _: None)
    assert not fake.is_built()
    (fake.install_dir / "leftover").write_text("half a build\n")

    fake.crash = False
    assert fake.build(lambda _: None)
    assert fake.is_built()
    assert not (fake.install_dir / "leftover").exists()  # the folder was emptied first
    assert (fake.install_dir / "binary").read_text() == "build 2\n"


def test_a_service_port_counts_as_listening_only_while_a_socket_listens_on_it() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        # Bound but not listening yet, as a service before its start-up is done: the readiness
        # check must not even connect (a connect could be given this port and hold it).
        assert not listening(port)
        assert ready_check(f"http://127.0.0.1:{port}")() is False
        server.listen()
        assert listening(port)
    assert not listening(port)
