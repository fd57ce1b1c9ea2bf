"""Screenshots of the monitoring consoles and alerts page, for the README and docs/ops/.

Not a test: run it while `make ops` runs and something loads the system (the demo, or
`returns-bench --profile dev --rate 1 --duration 300` in another terminal), e.g.

    .venv/bin/python tests/browser/ops_screenshots.py http://127.0.0.1:9190 docs/ops

Each console is opened in Chromium over the last `--minutes` and taken once every graph has
drawn its lines.
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from pathlib import Path

from playwright.sync_api import sync_playwright

from browser_kit import CHROMIUM, CHROMIUM_ARGS

PAGES = {
    "returns-flow": "/consoles/returns.html",
    "kafka-lag-dlq": "/consoles/kafka.html",
    "alerts": "/classic/alerts",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prometheus", help="URL of the Prometheus that `make ops` started")
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    parser.add_argument("--minutes", type=int, default=15, help="time range of the graphs")
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    # The consoles read their time range from the URL's fragment.
    window = urllib.parse.quote(f'{{"duration":{arguments.minutes * 60},"endTime":0}}')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for name, path in PAGES.items():
                url = arguments.prometheus.rstrip("/") + path
                if path.startswith("/consoles/"):
                    url += f"#pctc{window}"
                page.goto(url)
                if path.startswith("/consoles/"):
                    graphs = page.locator(".prom_graph_table").count()
                    # Rickshaw draws one SVG path per series once the query answered.
                    page.wait_for_function(
                        "n => document.querySelectorAll('.rickshaw_graph svg path').length >= n",
                        arg=graphs,
                        timeout=60_000,
                    )
                else:
                    page.wait_for_load_state("networkidle")
                # As tall as the page: the consoles' time bar is fixed to the window's bottom,
                # and would cover a graph in the middle of a full-page shot.
                height = int(page.evaluate("document.documentElement.scrollHeight"))
                page.set_viewport_size({"width": 1400, "height": max(height, 900)})
                target = arguments.out / f"{name}.png"
                page.screenshot(path=target, full_page=True)
                page.set_viewport_size({"width": 1400, "height": 900})
                print(target)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
