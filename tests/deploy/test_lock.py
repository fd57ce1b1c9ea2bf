"""`make venv` installs third-party packages from requirements.lock only: a dependency declared
in a pyproject.toml or requirements-dev.txt but missing from the lock is silently not installed,
and the first process that imports it fails. `make lock` must follow every such change."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "contracts",
    "services/declaration",
    "services/media",
    "services/notifier",
    "services/labels",
    "deploy",
    "tools/admin",
    "tools/bench",
)


def _name(requirement: str) -> str:
    """The normalised distribution name (`faststream[kafka]>=0.7` is faststream)."""
    name = re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        project = tomllib.loads((ROOT / package / "pyproject.toml").read_text())["project"]
        requirements = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            requirements += extra
        names |= {_name(requirement) for requirement in requirements}
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(_name(line))
    return {name for name in names if not name.startswith("returns-")}


def locked() -> set[str]:
    text = (ROOT / "requirements.lock").read_text()
    return {_name(match) for match in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", text, re.M)}


def test_every_declared_dependency_is_in_the_lock() -> None:
    missing = declared() - locked()
    assert not missing, f"not in requirements.lock (run `make lock`): {sorted(missing)}"


def test_the_name_of_a_requirement_is_read_without_extras_bounds_or_markers() -> None:
    assert _name("faststream[kafka]>=0.7.8,<0.8") == "faststream"
    assert _name("Prometheus_Client>=0.20; python_version < '4'") == "prometheus-client"
    assert _name("uvloop") == "uvloop"
