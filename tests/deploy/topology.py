"""What the offline checks of the production topology share: the files, the tools and the
Kubernetes JSON schemas (README: Production). Nothing here needs a Docker engine or a cluster."""

from __future__ import annotations

import hashlib
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

from returns_infra.config import default_cache_dir

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose" / "compose.yaml"
K8S = DEPLOY / "k8s"
DOCKERFILES = sorted((DEPLOY / "docker").glob("*.Dockerfile"))
SERVICES = ("declaration", "media", "notifier", "labels")
# The Kubernetes release the manifests are checked against (schemas of kubernetes-validate).
KUBERNETES_VERSION = "1.34.0"
# Strimzi's custom resources: no registry package ships their CRDs or schemas (the
# io.strimzi:api jar on Maven Central holds the model classes; the CRDs are generated at build
# time by a generator that is not published), so kubeconform skips them and test_k8s.py checks
# the fields this project relies on. MongoDBCommunity's CRD comes from the operator's Go module.
SKIPPED_KINDS = ("Kafka", "KafkaNodePool", "KafkaTopic")

Resource = dict[str, Any]


def _cache() -> Path:
    """Where the project caches what it builds: the servers' folder (RETURNS_CACHE_DIR)."""
    return default_cache_dir(os.environ)


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
    target = _cache() / f"k8s-schemas-{version('kubernetes-validate')}-v{KUBERNETES_VERSION}-strict"
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


def _strict(schema: Any) -> Any:
    """An OpenAPI v3 schema of a CRD as the JSON schema the API server applies: nullable is a
    type, int-or-string is either, and an object refuses fields it does not list unless it
    preserves unknown fields (kubeconform's strict mode, as for the built-in kinds)."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _strict(value) for key, value in schema.items()}
    if converted.pop("x-kubernetes-int-or-string", False):
        converted.pop("type", None)
        converted["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if converted.pop("nullable", False) and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    preserve = converted.pop("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in converted and not preserve:
        converted.setdefault("additionalProperties", False)
    return {key: value for key, value in converted.items() if not key.startswith("x-kubernetes")}


def crd_schemas() -> Path:
    """JSON schemas of the custom resources whose CRD a registry serves, named as kubeconform
    looks for them (`<kind>-<group's first label>-<version>.json`); made once, in the cache."""
    crd_path = Path(tool("mongodbcommunity-crd"))
    crd = yaml.safe_load(crd_path.read_text())
    target = _cache() / f"crd-schemas-{crd_path.parts[-5].split('@')[-1]}"
    if (target / ".complete").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    kind = crd["spec"]["names"]["kind"].lower()
    group = crd["spec"]["group"].split(".")[0]
    for served in crd["spec"]["versions"]:
        schema = _strict(served["schema"]["openAPIV3Schema"])
        schema["$schema"] = "http://json-schema.org/draft-04/schema#"
        (target / f"{kind}-{group}-{served['name']}.json").write_text(json.dumps(schema))
    (target / ".complete").touch()
    return target


def strimzi_check(manifests: str) -> subprocess.CompletedProcess[str]:
    """StrimziCheck.java over the YAML documents in `manifests`: each Strimzi resource read into
    Strimzi's own model classes (io.strimzi:api), unknown fields and values reported."""
    java, javac = shutil.which("java"), shutil.which("javac")
    assert java and javac, "a JDK is needed (apt-get install openjdk-17-jdk-headless)"
    library = f"{tool('strimzi-api')}/*"
    # Compiled once per version of the source, in the cache: compiling at every run costs more
    # than the check itself.
    source = Path(__file__).with_name("StrimziCheck.java")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    classes = _cache() / f"strimzi-check-{digest}"
    if not (classes / "StrimziCheck.class").exists():
        partial = classes.with_name(classes.name + f".tmp{os.getpid()}")
        compiled = run([javac, "-cp", library, "-d", str(partial), str(source)])
        assert compiled.returncode == 0, compiled.stderr
        shutil.rmtree(classes, ignore_errors=True)
        partial.rename(classes)
    return subprocess.run(
        [java, "-cp", f"{classes}{os.pathsep}{library}", "StrimziCheck"],
        input=manifests,
        capture_output=True,
        text=True,
        check=False,
    )


def kubeconform(paths: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """kubeconform, strict, against the cached schemas; Strimzi's resources are skipped."""
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
        "-schema-location",
        f"{crd_schemas()}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
        "-skip",
        ",".join(SKIPPED_KINDS),
        *paths,
    ]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
