"""On one machine the consumers that only drain topics yield the CPU to the services that answer
people: a burst of submits keeps its latency and the e-mails and labels catch up afterwards."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from returns_infra import processes
from returns_infra.components.kafka import Kafka
from returns_infra.components.mongo import Mongo
from returns_infra.components.smtp import Smtp
from returns_infra.config import Settings
from returns_infra.services import SERVICES, service_spec
from returns_infra.testing import eventually


def test_the_draining_consumers_run_below_the_services_that_answer_people(
    tmp_path: Path,
) -> None:
    niceness = {
        service.name: service_spec(service.name, "test", tmp_path, {}).niceness
        for service in SERVICES
    }
    assert niceness["declaration"] == niceness["media"] == 0
    assert niceness["notifier"] > 0 and niceness["labels"] > 0
    # Declaration's and media's own consumers too, in processes of their own.
    assert niceness["declaration-consumers"] > 0 and niceness["media-consumers"] > 0


def test_the_services_that_answer_people_leave_their_consumers_to_a_process_of_their_own(
    tmp_path: Path,
) -> None:
    specs = {service.name: service_spec(service.name, "test", tmp_path, {}) for service in SERVICES}
    roles = {name: spec.env["PROCESS_ROLE"] for name, spec in specs.items()}
    assert roles == {
        "declaration": "api",
        "media": "api",
        "notifier": "all",
        "labels": "all",
        "declaration-consumers": "consumers",
        "media-consumers": "consumers",
    }
    assert specs["declaration-consumers"].command == specs["declaration"].command
    assert specs["media-consumers"].command == specs["media"].command


def test_the_smtp_capture_yields_like_the_notifier_it_serves(tmp_path: Path) -> None:
    settings = Settings.for_profile(
        "test",
        {"RETURNS_STATE_DIR": str(tmp_path / "state"), "RETURNS_CACHE_DIR": str(tmp_path / "c")},
    )
    notifier = service_spec("notifier", "test", tmp_path, {}).niceness
    assert Smtp(settings).process_spec().niceness == notifier > 0
    # The servers the portal's requests wait on keep the front door's priority.
    assert Mongo(settings).process_spec().niceness == Kafka(settings).process_spec().niceness == 0


def test_a_process_is_started_at_the_niceness_of_its_spec(tmp_path: Path) -> None:
    spec = processes.ProcessSpec(
        name="idle",
        command=[sys.executable, "-c", "import time; time.sleep(30)"],
        log_path=tmp_path / "idle.log",
        pid_path=tmp_path / "idle.pid",
        niceness=5,
    )
    pid = processes.spawn(spec)
    try:
        below_us = min(os.getpriority(os.PRIO_PROCESS, 0) + 5, 19)
        assert os.getpriority(os.PRIO_PROCESS, pid) == below_us
        # Its own session is its own autogroup where the kernel has them: the group's nice
        # value is what weighs against the other processes' groups.
        autogroup = Path(f"/proc/{pid}/autogroup")
        if autogroup.exists():
            assert autogroup.read_text().split()[-1] == str(below_us)
    finally:
        processes.kill(spec.pid_path)


@pytest.mark.skipif(not hasattr(os, "sched_setscheduler"), reason="no scheduling policies here")
def test_a_background_process_runs_only_on_idle_cpu(tmp_path: Path) -> None:
    """A front-door process that wakes preempts an idle-policy task at once (at nice 19 alone
    the scheduler may let it finish its slice first): every thread, and those started later."""
    spec = processes.ProcessSpec(
        name="background",
        command=[
            sys.executable,
            "-c",
            "import threading, time; threading.Thread(target=time.sleep, args=(30,)).start();"
            " time.sleep(30)",
        ],
        log_path=tmp_path / "background.log",
        pid_path=tmp_path / "background.pid",
        niceness=processes.BACKGROUND_NICENESS,
    )
    front_door = processes.ProcessSpec(
        name="front-door",
        command=[sys.executable, "-c", "import time; time.sleep(30)"],
        log_path=tmp_path / "front-door.log",
        pid_path=tmp_path / "front-door.pid",
    )
    pid = processes.spawn(spec)
    other = processes.spawn(front_door)
    try:
        tasks = Path(f"/proc/{pid}/task")
        threads = eventually(
            lambda: found if len(found := list(tasks.iterdir())) == 2 else None,
            10,
            "the process's second thread",
        )
        policies = {os.sched_getscheduler(int(task.name)) for task in threads}
        assert policies == {os.SCHED_IDLE}
        assert os.sched_getscheduler(other) == os.SCHED_OTHER
    finally:
        processes.kill(spec.pid_path)
        processes.kill(front_door.pid_path)
