"""What the offline checks of the production topology share: the files, the tools and the
Kubernetes JSON schemas (README: Production). Nothing here needs a Docker engine or a cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose" / "compose.yaml"
K8S = DEPLOY / "k8s"
DOCKERFILES = sorted((DEPLOY / "docker").glob("*.Dockerfile"))
SERVICES = ("declaration", "media", "notifier", "labels")
# The Kubernetes release the manifests are checked against (schemas of kubernetes-validate).
KUBERNETES_VERSION = "1.34.0"
# Kinds of the operators' custom resources: no JSON schema of them ships in a registry package
# (Strimzi generates its CRDs at build time and publishes none; neither does the MongoDB
# Community Operator), so kubeconform skips them and tests/deploy/test_k8s.py checks the fields
# that matter to this project itself.
CUSTOM_KINDS = ("Kafka", "KafkaNodePool", "KafkaTopic", "MongoDBCommunity")

Resource = dict[str, Any]


def tool(name: str) -> str:
    """The path of an installed checking tool; fails with the command that installs it."""
    found = subprocess.run(
        [str(DEPLOY / "scripts" / "deploy_tools.sh"), "path", name],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise AssertionError(found.stderr.strip() or f"{name} is missing: run make deploy-tools")
    return found.stdout.strip()


def venv_tool(name: str) -> str:
    """A tool installed from PyPI into this virtualenv (requirements.lock)."""
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        raise AssertionError(f"{name} is missing from the virtualenv: run make venv")
    return path


def run(command: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def kustomize_build() -> list[Resource]:
    """deploy/k8s rendered by kustomize, as the cluster would receive it."""
    built = run([tool("kustomize"), "build", str(K8S)])
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def of_kind(resources: list[Resource], kind: str) -> Iterator[Resource]:
    return (resource for resource in resources if resource["kind"] == kind)


def kubernetes_schemas() -> Path:
    """kubernetes-validate's JSON schemas of the Kubernetes API, made standalone for kubeconform
    once (cached beside the servers): its files name their shared definitions by an absolute
    `$id` (https://kubernetes.io/api/...), which kubeconform would try to download; here each
    file points at the `_definitions.json` beside it."""
    import kubernetes_validate

    package = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    source = package / f"v{KUBERNETES_VERSION}-local-strict"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "returns-backend"
    target = cache / f"k8s-schemas-{version('kubernetes-validate')}-v{KUBERNETES_VERSION}-strict"
    if (target / ".complete").exists():
        return target
    partial = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for path in source.glob("*.json"):
        text = path.read_text()
        if path.name != "_definitions.json":
            text = text.replace('"/api/_definitions.json#', '"_definitions.json#')
        schema = json.loads(text)
        schema.pop("$id", None)
        (partial / path.name).write_text(json.dumps(schema))
    (partial / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def kubeconform(paths: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """kubeconform, strict, against the cached schemas; the custom resources are skipped."""
    schemas = kubernetes_schemas()
    command = [
        tool("kubeconform"),
        "-strict",
        "-summary",
        "-output",
        "json",
        "-kubernetes-version",
        KUBERNETES_VERSION,
        "-schema-location",
        f"{schemas}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
        "-skip",
        ",".join(CUSTOM_KINDS),
        *paths,
    ]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
