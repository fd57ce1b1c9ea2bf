"""Health probes that talk each server's real protocol, each bounded by a short timeout."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import smtplib
import socket
import urllib.request
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# Connection failures while a server is still booting are expected; without a handler the
# stdlib's last-resort handler would print each one. Applications that configure logging
# still receive the records.
for _noisy in ("aiokafka", "kafka", "urllib3", "pymongo"):
    logging.getLogger(_noisy).addHandler(logging.NullHandler())


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion, also when called from inside a running event loop.

    Async test fixtures call the synchronous API from within their loop, where asyncio.run()
    is not allowed; a worker thread gets a loop of its own there.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same option the servers use, so a port in TIME_WAIT after a restart counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def kafka_metadata(bootstrap: str, timeout: float = 5.0) -> bool:
    """A metadata request answered by the broker (not just an open port)."""

    async def probe() -> bool:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="returns-infra-health",
            request_timeout_ms=int(timeout * 1000),
        )
        try:
            await asyncio.wait_for(admin.start(), timeout)
            await asyncio.wait_for(admin.list_topics(), timeout)
            return True
        finally:
            # Closing a client that never connected may fail; the probe's answer stands.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(admin.close(), timeout)

    try:
        return run_coroutine(probe)
    except Exception:
        return False


def kafka_node_in_sync(
    bootstrap: str, node_id: int, replicas: int, topic: str, timeout: float = 5.0
) -> bool:
    """One cluster node answers through `bootstrap`, is a registered (unfenced) broker, and is in
    sync on every partition of `topic`, which has `replicas` replicas.

    `topic` is the group-offsets topic: asking for a group coordinator creates it if need be,
    which the cluster refuses until enough brokers are registered for its replication.
    """

    async def probe() -> bool:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="returns-infra-health",
            request_timeout_ms=int(timeout * 1000),
        )
        try:
            await asyncio.wait_for(admin.start(), timeout)
            cluster = await asyncio.wait_for(admin.describe_cluster(), timeout)
            if node_id not in {broker["node_id"] for broker in cluster["brokers"]}:
                return False
            await asyncio.wait_for(admin.find_coordinator("returns-infra-health"), timeout)
            described = await asyncio.wait_for(admin.describe_topics([topic]), timeout)
            partitions = [
                p for entry in described if not entry["error_code"] for p in entry["partitions"]
            ]
            return bool(partitions) and all(
                len(p["replicas"]) == replicas and node_id in p["isr"] for p in partitions
            )
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(admin.close(), timeout)

    try:
        return run_coroutine(probe)
    except Exception:
        return False


def mongo_ping(url: str, timeout: float = 3.0) -> bool:
    from pymongo import MongoClient

    ms = int(timeout * 1000)
    client: MongoClient[dict[str, Any]] = MongoClient(
        url,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=ms,
        directConnection=True,
    )
    try:
        reply = client.admin.command("ping")
        return bool(reply.get("ok"))
    except Exception:
        return False
    finally:
        client.close()


def s3_list_buckets(
    endpoint: str, access_key: str, secret_key: str, region: str, timeout: float = 3.0
) -> bool:
    """Signed ListBuckets: proves both that the gateway answers and that the keys work."""
    import urllib3
    from minio import Minio

    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout, read=timeout),
        retries=urllib3.Retry(total=0),
    )
    try:
        client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=False,
            region=region,
            http_client=http,
        )
        client.list_buckets()
        return True
    except Exception:
        return False
    finally:
        http.clear()


def smtp_ehlo(host: str, port: int, timeout: float = 3.0) -> bool:
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            code, _ = smtp.ehlo()
            return code == 250
    except (OSError, smtplib.SMTPException):
        return False


def http_get_json(url: str, timeout: float = 3.0) -> Any:
    """Parsed JSON of a GET that answered 200; raises otherwise."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        if response.status != 200:
            raise OSError(f"GET {url} answered {response.status}")
        return json.loads(response.read())


def http_ok(url: str, timeout: float = 3.0) -> bool:
    try:
        http_get_json(url, timeout)
    except Exception:
        return False
    return True


def http_status_ok(url: str, timeout: float = 3.0) -> bool:
    """Whether a GET of ``url`` answers 200, whatever the body (text, Prometheus format)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False
