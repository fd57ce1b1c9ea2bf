"""How long media takes to accept a phone photo, and how much memory it uses meanwhile.

Uploads a 4 MB, 12-megapixel JPEG (4032x3024, EXIF orientation 6) 20 times to a real media
process on the real servers, one at a time, each to a fresh draft, and prints the median and
worst time from sending the request to the 201 answer, with the process's resident memory
(VmRSS) sampled every 10 ms. `make bench` runs it; servers come from the environment
(KAFKA_BOOTSTRAP_SERVERS, MONGODB_URL, S3_ENDPOINT...) or the test profile's embedded ones.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from PIL import Image

from returns_contracts.signing import issue_draft_token
from returns_infra import Infra, processes

RUNS = 20
WARM_UP = 2
TARGET_BYTES = 4 * 1024 * 1024
SECRET = "bench-portal-secret"


def phone_photo() -> bytes:
    """4032x3024 with coarse noise over a gradient: compresses like a photo, to about 4 MB."""
    rng = random.Random(42)
    base = Image.linear_gradient("L").resize((4032, 3024)).convert("RGB")
    noise = Image.frombytes("RGB", (1008, 756), rng.randbytes(1008 * 756 * 3))
    image = Image.blend(base, noise.resize((4032, 3024), Image.Resampling.NEAREST), 0.5)
    exif = Image.Exif()
    exif[0x0112] = 6
    low, high, best = 30, 98, b""
    while low <= high:
        quality = (low + high) // 2
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, exif=exif)
        if buffer.tell() <= TARGET_BYTES * 1.05:
            best, low = buffer.getvalue(), quality + 1
        else:
            high = quality - 1
    return best


def servers() -> tuple[dict[str, str], Infra | None, list[str]]:
    if os.environ.get("S3_ENDPOINT") and os.environ.get("MONGODB_URL"):
        return dict(os.environ), None, []
    infra = Infra.for_profile("test")
    needed = ["kafka", "mongo", "s3"]
    missing = [entry.name for entry in infra.status(needed) if not entry.healthy]
    if missing:
        infra.start(missing)
    return {**os.environ, **infra.env()}, infra, missing


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)


def main() -> int:
    env, infra, started = servers()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    suffix = uuid.uuid4().hex[:8]
    state = Path(tempfile.mkdtemp(prefix="media-bench-"))
    script = Path(sys.executable).parent / "returns-media"
    spec = processes.ProcessSpec(
        name="media-bench",
        command=[str(script) if script.exists() else str(shutil.which("returns-media"))],
        log_path=state / "media.log",
        pid_path=state / "media.pid",
        env={
            "KAFKA_BOOTSTRAP_SERVERS": env["KAFKA_BOOTSTRAP_SERVERS"],
            "MONGODB_URL": env["MONGODB_URL"],
            "S3_ENDPOINT": env["S3_ENDPOINT"],
            "S3_ACCESS_KEY": env["S3_ACCESS_KEY"],
            "S3_SECRET_KEY": env["S3_SECRET_KEY"],
            "S3_BUCKET": f"media-bench-{suffix}",
            "MONGODB_DATABASE": f"media_bench_{suffix}",
            "TOPIC_PREFIX": f"media-bench-{suffix}",
            "SERVICE_NAME": f"media-bench-{suffix}",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            "MEDIA_BASE_URL": url,
            "PORTAL_TOKEN_SECRET": SECRET,
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        },
    )

    def ready() -> bool:
        with urllib.request.urlopen(f"{url}/readyz", timeout=3) as response:
            return bool(response.status == 200)

    photo = phone_photo()
    with Image.open(io.BytesIO(photo)) as check:
        size = check.size
    pid = processes.start(spec, ready, timeout=90)
    try:
        http = httpx.Client(base_url=url, timeout=60)
        idle_kib = rss_kib(pid)
        sampler = RssSampler(pid)
        sampler.start()
        timings: list[float] = []
        for run in range(WARM_UP + RUNS):
            draft = f"bench-{run}"
            token = issue_draft_token(
                SECRET, "bench-shop", draft, datetime.now(UTC) + timedelta(hours=1)
            )
            started_at = time.perf_counter()
            response = http.post(
                f"/v1/merchants/bench-shop/drafts/{draft}/photos",
                params={"line_id": "1"},
                files={"file": ("IMG_0001.JPG", photo, "image/jpeg")},
                headers={"Authorization": f"Bearer {token}"},
            )
            elapsed = time.perf_counter() - started_at
            if response.status_code != 201:
                print(f"upload {run} failed: {response.status_code} {response.text}")
                return 1
            if run >= WARM_UP:
                timings.append(elapsed)
        sampler.stop_event.set()
        sampler.join()
        after_kib = rss_kib(pid)
        answer = response.json()
    finally:
        processes.stop(spec.pid_path)
        if infra is not None and started:
            infra.stop(started)

    print(
        f"photo: {len(photo) / 1024 / 1024:.2f} MB JPEG, {size[0]}x{size[1]} "
        f"({size[0] * size[1] / 1e6:.1f} megapixels), EXIF orientation 6"
    )
    print(f"stored: {answer['width']}x{answer['height']} JPEG of {answer['size_bytes']} bytes")
    print(
        f"time to 201 over {RUNS} uploads (after {WARM_UP} warm-up): "
        f"median {statistics.median(timings) * 1000:.0f} ms, "
        f"worst {max(timings) * 1000:.0f} ms, best {min(timings) * 1000:.0f} ms"
    )
    print(
        f"media RSS: idle {idle_kib / 1024:.0f} MiB, peak while uploading "
        f"{sampler.peak / 1024:.0f} MiB, after {after_kib / 1024:.0f} MiB"
    )
    print(f"media log (per-upload timings at BENCH_LOG_LEVEL=INFO): {spec.log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
