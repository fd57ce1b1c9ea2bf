"""What every server component provides: a cached build, a process to run, a health probe."""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from ..build import BuildContext, Say, file_lock, fresh_dir, is_complete, require_tools, write_stamp
from ..config import Settings
from ..processes import ProcessSpec


class Component(ABC):
    # Plain attributes, not ClassVars: a Kafka cluster node names itself per instance.
    name: str
    version: ClassVar[str]
    # Folder in the cache; carries the version so an upgrade builds beside the old one.
    artifact: ClassVar[str]
    build_tools: ClassVar[tuple[str, ...]]
    description: str
    start_timeout: ClassVar[float] = 30.0
    stop_timeout: ClassVar[float] = 20.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- build -------------------------------------------------------------------------------

    @property
    def install_dir(self) -> Path:
        return self.settings.cache_dir / self.artifact

    @property
    def build_log(self) -> Path:
        return self.settings.cache_dir / "logs" / f"{self.artifact}-build.log"

    def is_built(self) -> bool:
        return is_complete(self.install_dir)

    def build(self, say: Say) -> bool:
        """Build into the cache unless a finished build is there. Returns True if it built."""
        if self.is_built():
            return False
        lock = self.settings.cache_dir / "locks" / f"{self.artifact}.lock"
        with file_lock(lock, say, f"the {self.name} build"):
            # Someone else may have finished it while we waited for the lock.
            if self.is_built():
                return False
            require_tools(self.name, self.build_tools)
            started = time.monotonic()
            say(f"[{self.name}] building {self.artifact} into {self.install_dir}")
            say(f"[{self.name}] tool output goes to {self.build_log}")
            ctx = BuildContext(self.name, self.build_log, say)
            fresh_dir(self.install_dir)
            self._build(ctx)
            write_stamp(self.install_dir, {"component": self.name, "version": self.version})
            say(f"[{self.name}] built in {time.monotonic() - started:.1f}s")
        return True

    @abstractmethod
    def _build(self, ctx: BuildContext) -> None: ...

    # -- run ---------------------------------------------------------------------------------

    @property
    def state_dir(self) -> Path:
        return self.settings.component_dir(self.name)

    @property
    def log_path(self) -> Path:
        return self.state_dir / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        return self.state_dir / f"{self.name}.pid"

    def extra_logs(self) -> list[Path]:
        """Logs the server writes itself, shown next to its stdout/stderr log on failure."""
        return []

    @abstractmethod
    def ports(self) -> list[int]: ...

    @abstractmethod
    def address(self) -> str: ...

    def prepare(self, say: Say) -> None:
        """Create data directories and config files before each start."""
        self.state_dir.mkdir(parents=True, exist_ok=True)

    @abstractmethod
    def process_spec(self) -> ProcessSpec: ...

    @abstractmethod
    def healthy(self, timeout: float = 3.0) -> bool: ...

    def _spec(
        self,
        command: list[str],
        env: dict[str, str | None] | None = None,
        scrub_prefixes: tuple[str, ...] = (),
        niceness: int = 0,
    ) -> ProcessSpec:
        """``scrub_prefixes``: the server reads its settings from variables with these prefixes
        too; one left over in a developer's shell must not silently reconfigure it."""
        full: dict[str, str | None] = (
            {key: None for key in os.environ if key.startswith(scrub_prefixes)}
            if scrub_prefixes
            else {}
        )
        full.update(env or {})
        return ProcessSpec(
            name=self.name,
            command=command,
            log_path=self.log_path,
            pid_path=self.pid_path,
            env=full,
            cwd=self.state_dir,
            niceness=niceness,
        )
