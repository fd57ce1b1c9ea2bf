"""Our FerretDB patch still applies to the version `returns-infra build` fetches.

Runs `go mod download` (the module cache answers at once after the first build) and checks the
patch against the pristine module source without writing to it. Skips when Go is missing: the
build itself then fails with its own message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from returns_infra.build import (
    BuildError,
    check_patches,
    go_env,
    make_writable,
    patches_digest,
    require_tools,
)
from returns_infra.components.mongo import (
    FERRETDB_MODULE,
    FERRETDB_PATCHES,
    FERRETDB_VERSION,
    Mongo,
)

SQLITE_BACKEND = Path("internal/backends/sqlite")


@pytest.fixture(scope="module")
def ferretdb_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        go = require_tools("mongo", ["go"])["go"]
    except BuildError:
        pytest.skip("Go is not installed; `returns-infra build` says how to get it")
    result = subprocess.run(
        [go, "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
        cwd=tmp_path_factory.mktemp("gomod"),
        env={**os.environ, **go_env()},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    info = json.loads(result.stdout or "{}")
    assert result.returncode == 0 and info.get("Dir"), result.stderr or info
    return Path(info["Dir"])


def test_our_patches_apply_in_order_to_the_pinned_ferretdb(ferretdb_source: Path) -> None:
    check_patches(ferretdb_source, FERRETDB_PATCHES, f"FerretDB {FERRETDB_VERSION}")


def test_the_patched_packages_pass_ferretdb_s_tests_and_ours(
    ferretdb_source: Path, tmp_path: Path
) -> None:
    """The one-pass sjson reader (ferretdb-sqlite-one-pass-sjson.patch) reads every type as
    the original does; a write waits for the one before it to end
    (ferretdb-sqlite-serialized-writes.patch); a data statement is prepared once and still runs
    after the schema changed under it (ferretdb-sqlite-kept-statements.patch); a document's
    schema is written byte for byte as before (ferretdb-sjson-one-buffer-schema.patch).
    FerretDB's own tests of both packages run beside the patches'."""
    source = tmp_path / "ferretdb"
    shutil.copytree(ferretdb_source, source)
    make_writable(source)
    # FerretDB's test helpers look for the repository root; the module download has none.
    subprocess.run(["git", "init", "-q", str(source)], check=True, timeout=60)
    applied = subprocess.run(
        ["git", "apply", *(str(patch) for patch in FERRETDB_PATCHES)],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert applied.returncode == 0, applied.stderr
    tested = subprocess.run(
        ["go", "test", "-count=1", "-v", "./internal/handler/sjson/", "./internal/util/fsql/"],
        cwd=source,
        env={**os.environ, **go_env()},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert "--- PASS: TestOnePassMatchesTheOriginalReader" in tested.stdout
    assert "--- PASS: TestMarshalUnmarshal" in tested.stdout
    assert "--- PASS: TestWriteTurnIsHeldByOneWriterAtATime" in tested.stdout
    assert "--- PASS: TestRepeatedStatementsAreKeptOnceEach" in tested.stdout
    assert "--- PASS: TestKeptStatementsFollowSchemaChanges" in tested.stdout
    assert "--- PASS: TestAppendedSchemaMatchesTheOriginal" in tested.stdout


def test_a_patch_that_no_longer_applies_fails_the_build_clearly(
    ferretdb_source: Path, tmp_path: Path
) -> None:
    # The backend as another FerretDB version could bring it: the patched line changed.
    (tmp_path / SQLITE_BACKEND / "metadata").mkdir(parents=True)
    for name in ("collection.go", "query.go", "metadata/metadata.go"):
        shutil.copy(ferretdb_source / SQLITE_BACKEND / name, tmp_path / SQLITE_BACKEND / name)
    metadata = tmp_path / SQLITE_BACKEND / "metadata" / "metadata.go"
    metadata.write_text(metadata.read_text().replace("IDColumn = ", "IDColumnRenamed = "))
    with pytest.raises(BuildError, match=r"ferretdb-sqlite-id-index\.patch no longer apply"):
        check_patches(tmp_path, FERRETDB_PATCHES[:1], "FerretDB vX")


def test_the_cache_folder_changes_with_the_patch(tmp_path: Path) -> None:
    patch = tmp_path / "a.patch"
    patch.write_text("one")
    before = patches_digest([patch])
    patch.write_text("two")
    assert patches_digest([patch]) != before
    # Another checkout's unpatched or differently patched build stays in its own folder.
    assert Mongo.artifact == f"ferretdb-{FERRETDB_VERSION}-{patches_digest(FERRETDB_PATCHES)}"
