"""versitygw: an S3 gateway that stores buckets as directories of a local file system."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ..build import BuildContext, Say, go_env, require_go
from ..config import HOST, S3_REGION
from ..health import s3_list_buckets
from ..processes import ProcessSpec
from .base import Component

VERSITYGW_MODULE = "github.com/versity/versitygw"
VERSITYGW_VERSION = "v1.8.0"


def _supports_user_xattrs(directory: Path) -> bool:
    directory.mkdir(parents=True, exist_ok=True)
    probe = directory / ".xattr-probe"
    probe.touch()
    try:
        os.setxattr(probe, "user.returns-infra", b"1")
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
            return False
        raise
    finally:
        probe.unlink(missing_ok=True)
    return True


class S3(Component):
    name = "s3"
    version = VERSITYGW_VERSION
    artifact = f"versitygw-{VERSITYGW_VERSION}"
    build_tools = ("go",)
    description = f"versitygw {VERSITYGW_VERSION} (S3 API, posix backend)"

    @property
    def binary(self) -> Path:
        return self.install_dir / "versitygw"

    def _build(self, ctx: BuildContext) -> None:
        require_go(self.name, (1, 25))
        ctx.step(f"go install {VERSITYGW_MODULE}/cmd/versitygw@{VERSITYGW_VERSION}")
        ctx.run(
            [
                "go",
                "install",
                "-v",
                "-trimpath",
                "-ldflags=-s -w",
                f"{VERSITYGW_MODULE}/cmd/versitygw@{VERSITYGW_VERSION}",
            ],
            cwd=self.install_dir,
            env=go_env({"GOBIN": str(self.install_dir)}),
        )
        ctx.step("checking the binary")
        ctx.run([str(self.binary), "--version"])

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def meta_dir(self) -> Path:
        return self.state_dir / "meta"

    def ports(self) -> list[int]:
        return [self.settings.ports.s3]

    def address(self) -> str:
        return f"http://{HOST}:{self.settings.ports.s3}"

    def prepare(self, say: Say) -> None:
        super().prepare(say)
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def process_spec(self) -> ProcessSpec:
        backend = ["posix"]
        # The posix backend keeps object metadata in extended attributes; on file systems
        # without user xattrs (tmpfs on some kernels, some overlays) it needs a sidecar dir.
        if not _supports_user_xattrs(self.state_dir):
            self.meta_dir.mkdir(parents=True, exist_ok=True)
            backend += ["--sidecar", str(self.meta_dir)]
        command = [
            str(self.binary),
            "--port",
            f"{HOST}:{self.settings.ports.s3}",
            "--region",
            S3_REGION,
            # Without it every request is answered with `Connection: close`, and each upload,
            # label and read of a label paid a new TCP connection (a fifth of the labels
            # process's CPU samples were in connect).
            "--keep-alive",
            *backend,
            str(self.data_dir),
        ]
        # Keys travel in the environment rather than argv, where `ps` would show them.
        env: dict[str, str | None] = {
            "ROOT_ACCESS_KEY": self.settings.s3_access_key,
            "ROOT_SECRET_KEY": self.settings.s3_secret_key,
            "ROOT_ACCESS_KEY_ID": None,
            "ROOT_SECRET_ACCESS_KEY": None,
        }
        return self._spec(command, env, scrub_prefixes=("VGW_",))

    def healthy(self, timeout: float = 3.0) -> bool:
        return s3_list_buckets(
            f"{HOST}:{self.settings.ports.s3}",
            self.settings.s3_access_key,
            self.settings.s3_secret_key,
            S3_REGION,
            timeout,
        )
