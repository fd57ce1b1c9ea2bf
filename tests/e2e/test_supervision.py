"""`returns-infra run` supervises what it started, and `returns-infra restart` restarts one part.

The supervisor here is the one `run` uses, over the test profile's real servers and services
(started by the fixtures); a service is killed with SIGKILL as a crash would.
"""

from __future__ import annotations

import contextlib
import io
import time

import httpx
import pytest

from returns_infra import Infra
from returns_infra.cli import main as returns_infra
from returns_infra.fixtures import RunningServices
from returns_infra.processes import kill, read_pid
from returns_infra.services import service_pid_path
from returns_infra.supervisor import Supervisor, read_state

pytestmark = pytest.mark.e2e

WITHIN = 90.0


def _cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = returns_infra(["--profile", "test", *args])
    return code, out.getvalue()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_killed_service_is_started_again_and_status_says_so(services: RunningServices) -> None:
    infra = Infra.for_profile("test")
    pid_path = service_pid_path(infra.settings.state_dir, "notifier")
    said: list[str] = []
    supervisor = Supervisor(infra, say=said.append)
    supervisor.adopt()
    try:
        supervisor.check()
        assert said == [], "nothing had died yet"
        killed = kill(pid_path)
        assert killed is not None
        deadline = time.monotonic() + WITHIN
        while (pid := read_pid(pid_path)) is None or not _ready(services.urls["notifier"]):
            assert time.monotonic() < deadline, f"notifier not back within {WITHIN}s: {said}"
            supervisor.check()
            time.sleep(0.2)
        assert pid != killed
        assert any("notifier killed by SIGKILL" in line for line in said), said
        assert any("notifier is back" in line for line in said), said

        state = read_state(infra.settings.state_dir)
        assert state is not None
        record = state["components"]["notifier"]
        assert (record["restarts"], record["last_exit"], record["pid"]) == (
            1,
            "killed by SIGKILL",
            pid,
        )
        assert state["components"]["declaration"]["restarts"] == 0
        code, out = _cli("status", "notifier", "declaration")
        assert code == 0, out
        (notifier_line,) = [line for line in out.splitlines() if line.startswith("notifier ")]
        assert "restarts 1" in notifier_line and "killed by SIGKILL" in notifier_line
        assert f"pid {pid}" in notifier_line
    finally:
        supervisor.forget()


def test_restart_command_restarts_a_service_and_a_server(services: RunningServices) -> None:
    infra = Infra.for_profile("test")
    (s3,) = infra.components(["s3"])
    service_pid = service_pid_path(infra.settings.state_dir, "labels")
    before = (read_pid(service_pid), read_pid(s3.pid_path))
    assert None not in before, "the fixtures started labels and s3"

    code, out = _cli("restart", "labels", "s3")

    assert code == 0, out
    after = (read_pid(service_pid), read_pid(s3.pid_path))
    assert None not in after and after[0] != before[0] and after[1] != before[1], (before, after)
    assert "restarted labels" in out and "restarted s3" in out
    assert _ready(services.urls["labels"])
    code, out = _cli("restart", "nonsense")
    assert code == 1
