"""The supervisor's decisions (when to restart, backoff, what it records), on a fake clock and
fake processes; tests/e2e/test_supervision.py runs it on the real services."""

from __future__ import annotations

from pathlib import Path

import pytest

from returns_infra import Infra
from returns_infra.processes import ProcessError
from returns_infra.supervisor import Supervisor, component_lock, read_state


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeSupervisor(Supervisor):
    """Processes are entries of `running`; a start takes the next pid or fails on demand."""

    def __init__(self, infra: Infra, clock: Clock) -> None:
        self.said: list[str] = []
        super().__init__(infra, say=self.said.append, clock=clock)
        self.running: dict[str, int | None] = {
            name: 1000 + index for index, name in enumerate(self.records)
        }
        self.starts: list[str] = []
        self.failures_to_come = 0

    def _running_pid(self, name: str) -> int | None:
        return self.running[name]

    def _start(self, name: str) -> int | None:
        self.starts.append(name)
        if self.failures_to_come:
            self.failures_to_come -= 1
            raise ProcessError(f"{name} exited during start-up")
        pid = 5000 + len(self.starts)
        self.running[name] = pid
        return pid


@pytest.fixture
def supervisor(tmp_path: Path) -> FakeSupervisor:
    infra = Infra.for_profile("test", {"RETURNS_STATE_DIR": str(tmp_path)})
    fake = FakeSupervisor(infra, Clock())
    fake.adopt()
    return fake


def test_a_crash_is_reported_and_restarted_after_a_doubling_backoff(
    supervisor: FakeSupervisor,
) -> None:
    clock = supervisor.clock
    assert isinstance(clock, Clock)
    supervisor.check()
    assert supervisor.starts == []

    supervisor.running["notifier"] = None
    supervisor.check()
    assert supervisor.starts == [], "the first restart waits 0.5 s"
    assert "notifier exited" in supervisor.said[0]

    clock.now += 0.6
    supervisor.failures_to_come = 1
    supervisor.check()
    assert supervisor.starts == ["notifier"]
    assert "next try in 1s" in supervisor.said[-1]

    clock.now += 0.5
    supervisor.check()
    assert supervisor.starts == ["notifier"], "the second attempt waits 1 s"

    clock.now += 0.6
    supervisor.check()
    assert supervisor.starts == ["notifier", "notifier"]
    state = read_state(supervisor.state_dir)
    assert state is not None
    record = state["components"]["notifier"]
    assert (record["restarts"], record["pid"], record["crashes_in_a_row"]) == (1, 5002, 2)
    assert state["components"]["kafka"]["restarts"] == 0

    clock.now += 61
    supervisor.check()
    assert supervisor.records["notifier"].crashes_in_a_row == 0, "a minute up starts over"


def test_no_restart_while_returns_infra_restart_holds_the_lock(
    supervisor: FakeSupervisor,
) -> None:
    clock = supervisor.clock
    assert isinstance(clock, Clock)
    supervisor.running["mongo"] = None
    supervisor.check()  # seen gone; its restart is due in 0.5 s
    clock.now += 1
    with component_lock(supervisor.state_dir, "mongo", wait=True):
        supervisor.check()
        assert supervisor.starts == []
        supervisor.running["mongo"] = 4242  # started by the command
    clock.now += 1
    supervisor.check()
    assert supervisor.starts == []
    assert supervisor.records["mongo"].pid == 4242
