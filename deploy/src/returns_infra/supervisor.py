"""`returns-infra run` keeps what it started running: a crashed server or service comes back.

Every second the supervisor (the `run` process itself) reads each pid file. A process that is
gone is reported (how it ended: exit code or signal) and started again with the same command
line, after a backoff that doubles with each crash in a row (0.5 s, 1 s, 2 s ... 30 s) and
starts over once the process has stayed up for a minute. What it did is written to
`<state dir>/supervisor.json`, which `returns-infra status` reads: restarts, last exit, when.

`returns-infra restart <component>` (another process) does not talk to the supervisor: it takes
the component's lock (`<state dir>/locks/<component>.lock`), stops the component and starts it
again. The supervisor takes the same lock before it restarts anything and looks again once it
holds it, so the two never start one component twice; a restart by hand is not a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .build import Say
from .config import COMPONENTS, MONITORING_COMPONENTS
from .infra import Infra
from .processes import ProcessError, exit_description, is_alive, read_pid
from .services import SERVICE_NAMES, service_pid_path, start_service

STATE_FILE = "supervisor.json"
FIRST_DELAY = 0.5
MAX_DELAY = 30.0
# Up this long after a restart, a component's next crash is a first crash again.
STABLE_SECONDS = 60.0


def component_lock_path(state_dir: Path, name: str) -> Path:
    return state_dir / "locks" / f"{name}.lock"


@contextlib.contextmanager
def component_lock(state_dir: Path, name: str, wait: bool) -> Iterator[bool]:
    """Hold `name`'s lock; with `wait=False` yield False at once when someone else holds it."""
    path = component_lock_path(state_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Record:
    """What the supervisor knows of one component (written to the state file)."""

    kind: str
    pid: int | None = None
    restarts: int = 0
    last_exit: str | None = None
    last_exit_at: str | None = None
    last_restart_at: str | None = None
    crashes_in_a_row: int = 0
    # Not written: monotonic times of this process.
    next_attempt: float = field(default=0.0, repr=False)
    up_since: float = field(default=0.0, repr=False)

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        del data["next_attempt"], data["up_since"]
        return data


class Supervisor:
    def __init__(self, infra: Infra, say: Say, clock: Callable[[], float] = time.monotonic):
        self.infra = infra
        self.profile = infra.settings.profile
        self.state_dir = infra.settings.state_dir
        self.say = say
        self.clock = clock
        servers = [*COMPONENTS, *(MONITORING_COMPONENTS if infra.settings.monitoring else ())]
        self.records: dict[str, Record] = {name: Record("server") for name in servers}
        self.records.update({name: Record("service") for name in SERVICE_NAMES})

    def _pid_path(self, name: str) -> Path:
        if self.records[name].kind == "server":
            (component,) = self.infra.components([name])
            return component.pid_path
        return service_pid_path(self.state_dir, name)

    def _running_pid(self, name: str) -> int | None:
        return read_pid(self._pid_path(name))

    def _start(self, name: str) -> int | None:
        if self.records[name].kind == "server":
            self.infra.start([name])
            return read_pid(self._pid_path(name))
        return start_service(name, self.profile, self.state_dir, self.infra.env())

    def adopt(self) -> None:
        """Take over what runs now (after `run` started everything)."""
        now = self.clock()
        for name, record in self.records.items():
            record.pid = self._running_pid(name)
            record.up_since = now
        self.write()

    def check(self) -> None:
        """One round: restart what is gone and due."""
        changed = False
        for name, record in self.records.items():
            pid = self._running_pid(name)
            now = self.clock()
            if pid is not None:
                if pid != record.pid:  # restarted by hand (`returns-infra restart`)
                    record.pid, record.up_since, changed = pid, now, True
                if record.crashes_in_a_row and now - record.up_since > STABLE_SECONDS:
                    record.crashes_in_a_row, changed = 0, True
                continue
            if record.pid is not None:
                self._crashed(name, record, now)
                changed = True
            if now >= record.next_attempt:
                self._restart(name, record)
                changed = True
        if changed:
            self.write()

    def _crashed(self, name: str, record: Record, now: float) -> None:
        assert record.pid is not None
        record.last_exit = exit_description(record.pid)
        record.last_exit_at = _now()
        record.pid = None
        record.crashes_in_a_row += 1
        delay = min(MAX_DELAY, FIRST_DELAY * 2 ** (record.crashes_in_a_row - 1))
        record.next_attempt = now + delay
        self.say(
            f"[supervisor] {name} {record.last_exit}; restarting in {delay:g}s "
            f"(crash {record.crashes_in_a_row} in a row)"
        )

    def _restart(self, name: str, record: Record) -> None:
        with component_lock(self.state_dir, name, wait=False) as held:
            if not held:
                return  # `returns-infra restart` is at it; look again next round
            if self._running_pid(name) is not None:
                return
            started = self.clock()
            try:
                record.pid = self._start(name)
            except (ProcessError, OSError, RuntimeError) as error:
                record.crashes_in_a_row += 1
                delay = min(MAX_DELAY, FIRST_DELAY * 2 ** (record.crashes_in_a_row - 1))
                record.next_attempt = self.clock() + delay
                first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
                self.say(
                    f"[supervisor] {name} did not come back ({first_line}); next try in {delay:g}s"
                )
                return
            record.restarts += 1
            record.last_restart_at = _now()
            record.up_since = self.clock()
            self.say(
                f"[supervisor] {name} is back (pid {record.pid}) after "
                f"{record.up_since - started:.1f}s; restarts so far: {record.restarts}"
            )

    def write(self) -> None:
        state = {
            "supervisor_pid": os.getpid(),
            "profile": self.profile,
            "updated_at": _now(),
            "components": {name: record.public() for name, record in self.records.items()},
        }
        path = self.state_dir / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(path)

    def forget(self) -> None:
        (self.state_dir / STATE_FILE).unlink(missing_ok=True)


def read_state(state_dir: Path) -> dict[str, Any] | None:
    """The running supervisor's state file, or None when no supervisor runs."""
    try:
        state: dict[str, Any] = json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    pid = state.get("supervisor_pid")
    if not isinstance(pid, int) or not is_alive(pid):
        return None
    return state
