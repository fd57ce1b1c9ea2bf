"""Shared machinery for building a component into the cache: locks, stamps, logged steps."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from .processes import tail

Say = Callable[[str], None]

STAMP_NAME = ".complete"
_HEARTBEAT_SECONDS = 20.0

# How to get each tool on a Debian/Ubuntu machine; Go comes from upstream because the
# distribution's package is too old for these modules.
INSTALL_HINTS: dict[str, str] = {
    "java": "apt-get install openjdk-17-jre-headless (Kafka 4.x needs Java 17 or newer)",
    "mvn": "apt-get install maven",
    "go": "install Go 1.26 or newer from https://go.dev/doc/install (Debian's golang is too old)",
    "npm": "install Node.js 20.19 or newer with npm (https://nodejs.org/en/download)",
    "node": "install Node.js 20.19 or newer with npm (https://nodejs.org/en/download)",
    "prometheus": "make prometheus (apt-get install --no-install-recommends prometheus)",
    "promtool": "make prometheus (apt-get install --no-install-recommends prometheus)",
}


class BuildError(RuntimeError):
    """A component could not be fetched or built."""


def say_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Where the official installers put a tool that a non-login shell's PATH may not include.
_STANDARD_DIRS: dict[str, tuple[str, ...]] = {"go": ("/usr/local/go/bin",)}


def _which(tool: str) -> str | None:
    path = shutil.which(tool)
    if path is not None:
        return path
    for directory in _STANDARD_DIRS.get(tool, ()):
        candidate = Path(directory) / tool
        if candidate.is_file() and os.access(candidate, os.X_OK):
            # Later steps (and the tools they start) call it by name: put it on PATH for them.
            os.environ["PATH"] = f"{directory}{os.pathsep}{os.environ.get('PATH', '')}"
            return str(candidate)
    return None


def require_tools(component: str, tools: Sequence[str]) -> dict[str, str]:
    """Absolute paths of ``tools``; one clear error naming every missing tool."""
    found: dict[str, str] = {}
    missing: list[str] = []
    for tool in tools:
        path = _which(tool)
        if path is None:
            missing.append(tool)
        else:
            found[tool] = path
    if missing:
        hints = "\n".join(f"  {tool}: {INSTALL_HINTS.get(tool, 'install it')}" for tool in missing)
        raise BuildError(
            f"{component}: missing tool(s) {', '.join(missing)} on PATH. To install:\n{hints}"
        )
    return found


def go_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for go commands.

    -modcacherw leaves the module cache deletable by ordinary means; GOTOOLCHAIN=local makes a
    too-old Go fail with its own clear message instead of downloading another toolchain;
    CGO_ENABLED=0 gives static binaries (all three Go servers use pure-Go SQLite) and needs
    no C compiler; GOWORK=off keeps a go.work of the caller's from steering the build.
    """
    flags = os.environ.get("GOFLAGS", "").split()
    if "-modcacherw" not in flags:
        flags.append("-modcacherw")
    env = {
        "GOFLAGS": " ".join(flags),
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
        "GOWORK": "off",
    }
    if extra:
        env.update(extra)
    return env


def parse_version(text: str) -> tuple[int, ...]:
    match = re.search(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if match is None:
        return ()
    return tuple(int(part) for part in match.groups() if part is not None)


def make_writable(root: Path) -> None:
    """Module-cache copies keep their read-only bits; the build writes into them."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in (dirpath, *(os.path.join(dirpath, f) for f in filenames)):
            mode = os.lstat(name).st_mode
            if not stat.S_ISLNK(mode):
                os.chmod(name, mode | stat.S_IWUSR)


class BuildContext:
    """One component's build: prints progress, keeps the tool output in a log file."""

    def __init__(self, component: str, log_path: Path, say: Say) -> None:
        self.component = component
        self.log_path = log_path
        self._say = say
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(
            f"=== {datetime.now(UTC).isoformat(timespec='seconds')} build of {component}\n"
        )

    def step(self, message: str) -> None:
        self._say(f"[{self.component}] {message}")
        with self.log_path.open("a") as log:
            log.write(f"\n=== {message}\n")

    def run(
        self,
        command: Sequence[str],
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        capture: bool = False,
    ) -> str:
        """Run ``command`` with its output appended to the log; return stdout if ``capture``.

        Prints a heartbeat with the latest log line now and then, so a long npm or go step
        does not look hung.
        """
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        with self.log_path.open("a") as log:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            try:
                proc = subprocess.Popen(
                    list(command),
                    cwd=cwd,
                    env=full_env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE if capture else log,
                    stderr=log,
                    text=True,
                )
            except OSError as exc:
                raise BuildError(f"{self.component}: cannot run {command[0]}: {exc}") from exc
            started = time.monotonic()
            next_beat = started + _HEARTBEAT_SECONDS
            output = ""
            if capture:
                output, _ = proc.communicate()
                log.write(output)
            else:
                while proc.poll() is None:
                    time.sleep(0.5)
                    if time.monotonic() >= next_beat:
                        next_beat += _HEARTBEAT_SECONDS
                        last = tail(self.log_path, 1).strip()[:100]
                        elapsed = time.monotonic() - started
                        self._say(f"[{self.component}]   ... {elapsed:.0f}s: {last}")
        if proc.returncode != 0:
            raise BuildError(
                f"{self.component}: `{' '.join(command)}` failed with exit code "
                f"{proc.returncode}; last lines of {self.log_path}:\n{tail(self.log_path)}"
            )
        return output


@contextlib.contextmanager
def file_lock(path: Path, say: Say, what: str) -> Iterator[None]:
    """Exclusive advisory lock, so concurrent `make run` and `make test` take turns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another process that holds the lock on {what} ({path})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_complete(install_dir: Path) -> bool:
    return (install_dir / STAMP_NAME).is_file()


def write_stamp(install_dir: Path, info: Mapping[str, str]) -> None:
    """Written last: its presence is what marks a build as finished and reusable."""
    data = {"built_at": datetime.now(UTC).isoformat(timespec="seconds"), **info}
    tmp = install_dir / (STAMP_NAME + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(install_dir / STAMP_NAME)


def fresh_dir(path: Path) -> Path:
    """Empty ``path``, throwing away whatever a crashed build left there."""
    if path.exists():
        make_writable(path)
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def require_go(component: str, minimum: tuple[int, int]) -> None:
    """Fail early and plainly when Go is older than the module's go.mod demands."""
    go = require_tools(component, ["go"])["go"]
    result = subprocess.run(
        [go, "env", "GOVERSION"], capture_output=True, text=True, check=False, timeout=60
    )
    found = parse_version(result.stdout.removeprefix("go"))
    if found[:2] < minimum:
        wanted = ".".join(map(str, minimum))
        raise BuildError(
            f"{component}: needs Go {wanted} or newer, found {result.stdout.strip() or 'none'}; "
            f"{INSTALL_HINTS['go']}"
        )


def go_module_source(ctx: BuildContext, module: str, version: str, dest: Path) -> Path:
    """Copy a module's source from the Go module cache into a writable ``dest``.

    The module cache is shared and read-only in spirit; builds that write generated files
    (version.txt, web assets) work on a private copy.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    ctx.step(f"downloading {module}@{version} with the Go module proxy")
    out = ctx.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        cwd=dest.parent,
        env=go_env(),
        capture=True,
    )
    info = json.loads(out)
    if info.get("Error") or not info.get("Dir"):
        raise BuildError(f"{ctx.component}: go mod download {module}@{version}: {info}")
    ctx.step(f"copying the source to {dest}")
    shutil.copytree(info["Dir"], dest, symlinks=True)
    make_writable(dest)
    return dest


def require_node(component: str, minimum: tuple[int, int]) -> None:
    node = require_tools(component, ["node", "npm"])["node"]
    result = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    found = parse_version(result.stdout.removeprefix("v"))
    if found[:2] < minimum:
        wanted = ".".join(map(str, minimum))
        raise BuildError(
            f"{component}: needs Node.js {wanted} or newer, found {result.stdout.strip() or 'none'}"
            f"; {INSTALL_HINTS['node']}"
        )


def patches_digest(patches: Sequence[Path]) -> str:
    """A short digest of the patches' text, for a cache folder name that changes with them."""
    digest = hashlib.sha256()
    for patch in patches:
        digest.update(patch.name.encode() + b"\0" + patch.read_bytes() + b"\0")
    return "p" + digest.hexdigest()[:12]


def _git_apply(src: Path, patches: Sequence[Path], check: bool) -> subprocess.CompletedProcess[str]:
    # GIT_CEILING_DIRECTORIES keeps git from taking a repository above `src` (a cache under a
    # checkout) for the one to patch; outside a repository `git apply` acts as `patch -p1`.
    # Several patches are applied in their order, each over the result of those before (but
    # see check_patches for `--check`).
    command = [
        "git",
        "apply",
        "--verbose",
        *(["--check"] if check else []),
        *(str(patch) for patch in patches),
    ]
    return subprocess.run(
        command,
        cwd=src,
        env={**os.environ, "GIT_CEILING_DIRECTORIES": str(src.parent)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def check_patches(src: Path, patches: Sequence[Path], what: str) -> None:
    """Fail with a clear BuildError if ``patches``, in order, do not apply to ``src``.

    `git apply --check` of several patches checks each against ``src`` as it is, not over the
    ones before it: a patch whose context holds lines an earlier one adds fails there although
    the series applies. So a series is checked on a scratch copy, one patch at a time, each
    applied before the next is checked; ``src`` is never written.
    """
    if len(patches) > 1:
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / "src"
            shutil.copytree(src, copy)
            make_writable(copy)
            for patch in patches:
                check_patches(copy, [patch], what)
                _git_apply(copy, [patch], check=False)
        return
    result = _git_apply(src, patches, check=True)
    if result.returncode != 0:
        names = ", ".join(patch.name for patch in patches)
        raise BuildError(
            f"our patch(es) {names} no longer apply to {what} ({src}): update them for this "
            f"version or pin the version they were written for.\n"
            f"{result.stdout}{result.stderr}".rstrip()
        )


def apply_patches(ctx: BuildContext, src: Path, patches: Sequence[Path], what: str) -> None:
    """Apply our patches, in order, to a writable copy of third-party source."""
    for patch in patches:
        ctx.step(f"applying our patch {patch.name}")
        check_patches(src, [patch], what)
        result = _git_apply(src, [patch], check=False)
        with ctx.log_path.open("a") as log:
            log.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise BuildError(f"{ctx.component}: applying {patch.name} failed:\n{result.stderr}")
