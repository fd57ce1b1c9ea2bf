"""Mailpit: an SMTP server that keeps every message and shows it through a web UI and REST API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..build import (
    BuildContext,
    BuildError,
    go_env,
    go_module_source,
    make_writable,
    require_go,
    require_node,
)
from ..config import HOST
from ..health import http_ok, smtp_ehlo
from ..processes import BACKGROUND_NICENESS, ProcessSpec
from .base import Component

MAILPIT_MODULE = "github.com/axllent/mailpit"
MAILPIT_VERSION = "v1.33.1"
# Ranges used only when the registry lacks a version that Mailpit's lock pins; see _relock().
_RELAXED_RANGES: dict[str, str] = {"rapidoc": "^9.3.8"}


class Smtp(Component):
    name = "smtp"
    version = MAILPIT_VERSION
    artifact = f"mailpit-{MAILPIT_VERSION}"
    build_tools = ("go", "node", "npm")
    description = f"Mailpit {MAILPIT_VERSION} (SMTP + web UI + REST API)"

    @property
    def binary(self) -> Path:
        return self.install_dir / "mailpit"

    def _build(self, ctx: BuildContext) -> None:
        require_go(self.name, (1, 26))
        # The Sass compiler in Mailpit's lock declares node >= 20.19.
        require_node(self.name, (20, 19))
        src = go_module_source(
            ctx, MAILPIT_MODULE, MAILPIT_VERSION, self.install_dir / "build" / "src"
        )
        npm_env = {
            # Only the UI bundle is needed; the e2e test dependency must not fetch browsers.
            "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
            "npm_config_update_notifier": "false",
        }
        # --omit=peer skips sass-embedded, an alternative Sass compiler that npm installs as a
        # peer of esbuild-sass-plugin but the bundle does not use (it compiles with `sass`).
        # --ignore-scripts: nothing the bundle needs has an install script (esbuild's binary
        # comes as an optional package), and tree-sitter's would try to compile C++.
        npm_ci = ["npm", "ci", "--omit=peer", "--ignore-scripts", "--no-audit", "--no-fund"]
        ctx.step("installing the web UI's npm dependencies (npm ci)")
        try:
            ctx.run(npm_ci, cwd=src, env=npm_env)
        except BuildError:
            self._relock(ctx, src, npm_env)
            ctx.step("installing the web UI's npm dependencies from the new lock (npm ci)")
            ctx.run(npm_ci, cwd=src, env=npm_env)
        # The Go binary embeds server/ui, whose dist/ bundle only this step produces.
        ctx.step("bundling the web UI (npm run package)")
        ctx.run(["npm", "run", "package"], cwd=src, env=npm_env)
        if not (src / "server" / "ui" / "dist").is_dir():
            raise BuildError(f"smtp: npm finished but {src}/server/ui/dist is missing")
        ctx.step("compiling mailpit (go build)")
        ctx.run(
            [
                "go",
                "build",
                "-v",
                "-trimpath",
                f"-ldflags=-s -w -X {MAILPIT_MODULE}/config.Version={MAILPIT_VERSION}",
                "-o",
                str(self.binary),
                ".",
            ],
            cwd=src,
            env=go_env(),
        )
        ctx.step("checking the binary")
        ctx.run([str(self.binary), "version", "--no-release-check"])
        make_writable(src.parent)
        shutil.rmtree(src.parent)

    def _relock(self, ctx: BuildContext, src: Path, npm_env: dict[str, str]) -> None:
        """Fallback for registries that do not serve every version Mailpit's lock pins.

        Some registry mirrors stop at rapidoc 9.3.8 while Mailpit 1.33 locks 12.1.0 (and
        sass-embedded 1.108.1). rapidoc only draws the API reference page (/api/v1/); the
        mail UI and the REST API do not use it. Loosening that one range and locking again
        against what the registry serves keeps every other dependency as close as npm can.
        """
        ctx.step(
            "npm ci failed with Mailpit's own lock (see the log); relocking against the "
            f"versions this registry serves, with {', '.join(_RELAXED_RANGES)} relaxed"
        )
        manifest_path = src / "package.json"
        manifest = json.loads(manifest_path.read_text())
        for section in ("dependencies", "devDependencies"):
            for package, wanted in _RELAXED_RANGES.items():
                if package in manifest.get(section, {}):
                    manifest[section][package] = wanted
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        ctx.run(
            [
                "npm",
                "install",
                "--package-lock-only",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
            ],
            cwd=src,
            env=npm_env,
        )

    @property
    def database(self) -> Path:
        return self.state_dir / "mailpit.db"

    def ports(self) -> list[int]:
        return [self.settings.ports.smtp, self.settings.ports.mailpit_ui]

    def address(self) -> str:
        ports = self.settings.ports
        return f"smtp://{HOST}:{ports.smtp} (UI http://{HOST}:{ports.mailpit_ui})"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.settings.ports.mailpit_ui}"

    def process_spec(self) -> ProcessSpec:
        ports = self.settings.ports
        command = [
            str(self.binary),
            "--smtp",
            f"{HOST}:{ports.smtp}",
            "--listen",
            f"{HOST}:{ports.mailpit_ui}",
            "--database",
            str(self.database),
            # Services log in with whatever credentials they are configured with and use no
            # TLS locally; Mailpit must take any login over plain text.
            "--smtp-auth-accept-any",
            "--smtp-auth-allow-insecure",
            "--disable-version-check",
            # Mailpit deletes all but the newest 500 messages by default: a test counting the
            # e-mails of more returns than that (the fault suite) would find some gone.
            "--max",
            "0",
        ]
        # It only takes the notifier's e-mails: it yields the CPU as the notifier does.
        return self._spec(command, scrub_prefixes=("MP_",), niceness=BACKGROUND_NICENESS)

    def healthy(self, timeout: float = 3.0) -> bool:
        return smtp_ehlo(HOST, self.settings.ports.smtp, timeout) and http_ok(
            f"{self.ui_url}/api/v1/messages", timeout
        )
