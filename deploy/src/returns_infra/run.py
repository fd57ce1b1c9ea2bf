"""`make run`: the whole system on one machine, with demo data, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from returns_infra.infra import Infra
from returns_infra.services import service_logs, service_urls, start_services, stop_services
from returns_infra.supervisor import Supervisor

DEMO_CUSTOMER_SERVICE = "service-client@demo-shop.example"
DEMO_BACK_OFFICE_USER = "support@demo-shop.example"
DEMO_PORTAL_QUERY = "order=DEMO-1001&email=camille.martin@example.com"
# How often the supervisor looks for a server or service that died.
CHECK_SECONDS = 1.0


def _demo_password() -> str:
    # The seed's demo default unless the developer chose one.
    return os.environ.get("DEMO_BACK_OFFICE_PASSWORD", "demo-shop-password")


def _seed(declaration_url: str) -> None:
    script = Path(sys.executable).parent / "returns-demo-seed"
    subprocess.run(
        [str(script), "--url", declaration_url, "--customer-service-email", DEMO_CUSTOMER_SERVICE],
        check=True,
    )


def _banner(infra: Infra, urls: dict[str, str]) -> str:
    env = infra.env()
    declaration = urls["declaration"]
    demo = Path(sys.executable).parent / "returns-demo-return"
    example = f"{demo} --url {declaration} --media-url {urls['media']}"
    lines = [
        "",
        "The returns backend is running (Ctrl-C stops everything).",
        "",
        f"  Start here             {declaration}/",
        f"  Customer portal        {declaration}/portal/demo-shop?{DEMO_PORTAL_QUERY}",
        f"  Back-office            {declaration}/back-office/login",
        f"                         sign in as {DEMO_BACK_OFFICE_USER} / {_demo_password()}",
        f"  Declaration API docs   {declaration}/docs",
        f"  Media API docs         {urls['media']}/docs",
        f"  Notifier               {urls['notifier']}/readyz   (AsyncAPI: /asyncapi)",
        f"  Labels API docs        {urls['labels']}/docs",
        f"  Declaration consumers  {urls['declaration-consumers']}/readyz   (its timeline)",
        f"  Media consumers        {urls['media-consumers']}/readyz",
        f"  Mailpit (e-mails)      {env['MAILPIT_URL']}",
        f"  Kafka                  {env['KAFKA_BOOTSTRAP_SERVERS']}",
        f"  MongoDB protocol       {env['MONGODB_URL']}",
        f"  S3                     {env['S3_ENDPOINT']}",
        *_monitoring_lines(infra),
        "",
        "Demo merchant 'demo-shop' (customer service: " + DEMO_CUSTOMER_SERVICE + "),",
        "orders DEMO-1001 and DEMO-1002 of camille.martin@example.com. Declare a return with",
        "one defective line (a photo goes to media) and one classic line, in the portal's four",
        "steps (README.md shows the same steps with curl):",
        "",
        f"  {example}",
        "",
        f"then open {env['MAILPIT_URL']} to read the e-mail customer service received, and the",
        "return record with the demo merchant's API key printed above:",
        "",
        "  curl -s -H 'Authorization: Bearer <API key>' \\",
        f"       {declaration}/v1/merchants/demo-shop/returns",
        "",
        f"Logs: {infra.settings.state_dir}",
        "",
    ]
    return "\n".join(lines)


def _monitoring_lines(infra: Infra) -> list[str]:
    if not infra.settings.monitoring:
        return []
    prometheus = infra.env()["PROMETHEUS_URL"]
    ports = infra.settings.ports
    return [
        f"  Dashboards             {prometheus}/consoles/returns.html",
        f"                         {prometheus}/consoles/kafka.html",
        f"  Prometheus (alerts)    {prometheus}/classic/alerts",
        f"  Lag exporter           http://127.0.0.1:{ports.lag_exporter}/metrics",
        f"  Kafka JMX exporter     http://127.0.0.1:{ports.kafka_jmx_exporter}/metrics",
    ]


def run(profile: str = "dev") -> int:
    infra = Infra.for_profile(profile)
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        infra.start()
        urls = start_services(profile, infra.settings.state_dir, infra.env())
        _seed(urls["declaration"])
        print(_banner(infra, urls), flush=True)
        supervisor = Supervisor(infra, say=lambda line: print(line, flush=True))
        supervisor.adopt()
        print("Supervising: a server or service that dies is started again.", flush=True)
        while not stop_requested.wait(timeout=CHECK_SECONDS):
            supervisor.check()
        supervisor.forget()
        print("\nstopping...", flush=True)
        return 0
    except Exception as error:
        print(f"returns-infra run: {error}", file=sys.stderr)
        for name, log in service_logs(infra.settings.state_dir).items():
            print(f"  {name} log: {log}", file=sys.stderr)
        return 1
    finally:
        # Ctrl-C again while stopping must not leave servers behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_services(infra.settings.state_dir)
        infra.stop()
        print("everything stopped.", flush=True)


__all__ = ["run", "service_urls"]
