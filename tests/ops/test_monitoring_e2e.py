"""What `make ops` shows, against the running system: a Prometheus (as returns-infra runs it)
scraping the four services of the test session and a lag exporter on the session's Kafka; one
defective return walks the portal, and its figures reach Prometheus: the return counted as
defective, the customer-service e-mail with its end-to-end time, the groups' lag."""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from returns_declaration.entrypoints.demo import (
    DEMO_ADMIN_TOKEN,
    LineChoice,
    configure_merchant,
    declare,
    demo_photo,
    put_order,
)
from returns_infra.components import Prometheus
from returns_infra.config import Settings
from returns_infra.fixtures import RunningServices
from returns_infra.processes import start, stop
from returns_infra.services import installed_script
from returns_infra.testing import eventually

pytestmark = pytest.mark.e2e

WAIT = 90.0
EMAIL = "ana@example.com"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def prometheus(
    services: RunningServices, kafka_bootstrap_servers: str, tmp_path: Path
) -> Iterator[str]:
    """Prometheus and the lag exporter on free ports, scraping the session's services."""
    settings = Settings.for_profile(
        "test",
        {
            "RETURNS_STATE_DIR": str(tmp_path),
            "RETURNS_PROMETHEUS_PORT": str(_free_port()),
            "RETURNS_LAG_EXPORTER_PORT": str(_free_port()),
        },
    )
    exporter = subprocess.Popen(
        [
            installed_script("returns-lag-exporter"),
            "--bootstrap-servers",
            kafka_bootstrap_servers,
            "--listen",
            f"127.0.0.1:{settings.ports.lag_exporter}",
            "--interval",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Prometheus(settings)
    try:
        server.prepare(lambda line: None)
        start(server.process_spec(), server.healthy, timeout=60)
        yield server.url
    finally:
        stop(server.pid_path, timeout=20)
        exporter.terminate()
        exporter.wait(timeout=20)


def _query(url: str, expr: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10)
    answer.raise_for_status()
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def _value(url: str, expr: str) -> float | None:
    found = _query(url, expr)
    return float(found[0]["value"][1]) if found else None


def _defective_return(declaration_url: str, media_url: str) -> str:
    merchant_id = f"shop-{uuid.uuid4().hex[:10]}"
    merchant = {
        "name": "Shop",
        "locale": "en",
        "customer_service_email": f"cs-{merchant_id}@example.com",
        "return_window_days": 30,
        "return_types": ["refund"],
    }
    reasons = {"damaged": {"label_fr": "Abîmé", "label_en": "Damaged", "defective": True}}
    order = {
        "ordered_on": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        "customer": {"name": "Ana Lopez", "email": EMAIL},
        "lines": [
            {"line_id": "1", "sku": "MUG", "name": "Mug", "quantity": 1, "unit_price_cents": 900}
        ],
    }
    with (
        httpx.Client(base_url=declaration_url, timeout=15) as http,
        httpx.Client(base_url=media_url, timeout=30) as media,
    ):
        api_key = configure_merchant(http, DEMO_ADMIN_TOKEN, merchant_id, merchant, reasons)
        put_order(http, api_key, merchant_id, "A-1", order)
        line = LineChoice(
            "1", 1, "damaged", comment="The mug arrived cracked.", photos=[demo_photo()]
        )
        submitted = declare(http, media, merchant_id, "A-1", EMAIL, [line]).submitted
    assert submitted.status_code == 201, submitted.text
    return str(submitted.json()["return_id"])


def test_a_return_s_figures_reach_the_dashboards_queries(
    services: RunningServices, prometheus: str
) -> None:
    def all_up() -> list[str] | None:
        targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=10).json()["data"]
        healthy = sorted(
            target["labels"]["job"]
            for target in targets["activeTargets"]
            if target["health"] == "up"
        )
        wanted = {"declaration", "media", "notifier", "labels", "lag-exporter", "prometheus"}
        return healthy if wanted <= set(healthy) else None

    eventually(all_up, WAIT, "Prometheus scraping the four services and the lag exporter")
    before = _value(prometheus, "sum(returns_submitted_total{defective='true'})") or 0.0

    _defective_return(services.urls["declaration"], services.urls["media"])

    def counted() -> float | None:
        now = _value(prometheus, "sum(returns_submitted_total{defective='true'})") or 0.0
        return now if now > before else None

    eventually(counted, WAIT, "the defective return counted by declaration")
    ended = "return_submitted_to_email_seconds_count{template='customer_service_defective'}"
    seen = eventually(
        lambda: _value(prometheus, f"sum({ended})") or None,
        WAIT,
        "the customer-service e-mail's end-to-end time",
    )
    assert seen >= 1
    assert (_value(prometheus, "sum(service_ready)") or 0) >= 4
    lag_groups = {
        row["metric"]["group"]
        for row in _query(prometheus, "sum by (group) (kafka_consumergroup_lag)")
    }
    assert "notifier.returns.submitted" in lag_groups
