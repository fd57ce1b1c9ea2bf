"""FerretDB on its SQLite backend: the MongoDB wire protocol without a MongoDB server.

Built with our patches (patches/ferretdb-*.patch, see their headers) applied to the module
source. The cache folder carries a digest of the patches, so a changed patch builds beside the
old binary instead of replacing one that another checkout may be running.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..build import (
    BuildContext,
    Say,
    apply_patches,
    go_env,
    go_module_source,
    make_writable,
    patches_digest,
    require_go,
)
from ..config import HOST
from ..health import mongo_ping
from ..processes import ProcessSpec
from .base import Component

FERRETDB_MODULE = "github.com/FerretDB/FerretDB"
FERRETDB_VERSION = "v1.24.2"
PATCHES_DIR = Path(__file__).resolve().parent.parent / "patches"
FERRETDB_PATCHES = (
    PATCHES_DIR / "ferretdb-sqlite-id-index.patch",
    PATCHES_DIR / "ferretdb-sqlite-atomic-update.patch",
    PATCHES_DIR / "ferretdb-release-resource-tracking.patch",
    PATCHES_DIR / "ferretdb-sqlite-one-pass-sjson.patch",
    PATCHES_DIR / "ferretdb-sqlite-serialized-writes.patch",
    PATCHES_DIR / "ferretdb-update-statements-share-one-write.patch",
    PATCHES_DIR / "ferretdb-sqlite-kept-statements.patch",
    PATCHES_DIR / "ferretdb-sjson-one-buffer-schema.patch",
)


# SQLite's default in WAL mode (synchronous FULL) fsyncs the log on every commit, and commits
# of one database are serialised: on the 2-core machine a commit waited 7.3 ms for the disk, so
# the store took at most ~140 writes/s whatever the CPU, about 20 submissions/s (7 writes each).
# NORMAL syncs the log at checkpoints instead. A FerretDB crash (kill -9) still loses no
# acknowledged write; a power cut or kernel crash can lose the last commits. That is the
# durability of a standalone MongoDB's default write concern too (acknowledged before the
# journal's next group commit, every 100 ms by default), which is what production runs.
SQLITE_DURABILITY = "_pragma=synchronous(normal)"

# FerretDB decodes every document it reads from its JSON form into fresh Go objects (updates
# read the document too), so its garbage collector ran after every few requests. With the
# collector's target at 4 times the live heap instead of 1, a fixed workload of returns-like
# documents cost it 30-50 % less CPU per find and update (the README's Benchmark). The live heap
# is tens of MB; the soft limit makes the collector run sooner before it grows past 1 GiB.
GO_GARBAGE_COLLECTION = {"GOGC": "400", "GOMEMLIMIT": "1GiB"}


class Mongo(Component):
    name = "mongo"
    version = FERRETDB_VERSION
    artifact = f"ferretdb-{FERRETDB_VERSION}-{patches_digest(FERRETDB_PATCHES)}"
    build_tools = ("go", "git")
    description = f"FerretDB {FERRETDB_VERSION} (MongoDB protocol, SQLite backend)"

    @property
    def binary(self) -> Path:
        return self.install_dir / "ferretdb"

    def _build(self, ctx: BuildContext) -> None:
        # ferretdb-sqlite-kept-statements.patch brings a SQLite driver that needs Go 1.26.
        require_go(self.name, (1, 26))
        src = go_module_source(
            ctx, FERRETDB_MODULE, FERRETDB_VERSION, self.install_dir / "build" / "src"
        )
        # The version package embeds build/version/*.txt and version.txt is mandatory; the
        # release process generates it from git, which a module download does not have.
        (src / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
        (src / "build" / "version" / "package.txt").write_text("returns-infra\n")
        apply_patches(ctx, src, FERRETDB_PATCHES, f"FerretDB {FERRETDB_VERSION}")
        ctx.step("compiling ./cmd/ferretdb (go build)")
        ctx.run(
            [
                "go",
                "build",
                "-v",
                "-trimpath",
                "-ldflags=-s -w",
                "-o",
                str(self.binary),
                "./cmd/ferretdb",
            ],
            cwd=src,
            env=go_env(),
        )
        ctx.step("checking the binary")
        ctx.run([str(self.binary), "--version"])
        make_writable(src.parent)
        shutil.rmtree(src.parent)

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    def ports(self) -> list[int]:
        return [self.settings.ports.mongo]

    def address(self) -> str:
        return f"mongodb://{HOST}:{self.settings.ports.mongo}/"

    def prepare(self, say: Say) -> None:
        super().prepare(say)
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def process_spec(self) -> ProcessSpec:
        command = [
            str(self.binary),
            "--handler=sqlite",
            # FerretDB wants a directory URI with a trailing slash: one SQLite file per database.
            f"--sqlite-url=file:{self.data_dir}/?{SQLITE_DURABILITY}",
            f"--listen-addr={HOST}:{self.settings.ports.mongo}",
            f"--state-dir={self.state_dir}",
            # The debug HTTP handler would take a fixed port (8088) in every instance.
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=info",
        ]
        return self._spec(command, env=dict(GO_GARBAGE_COLLECTION), scrub_prefixes=("FERRETDB_",))

    def healthy(self, timeout: float = 3.0) -> bool:
        return mongo_ping(self.address(), timeout)
