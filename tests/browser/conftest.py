"""The fixtures every browser test module shares: the browser, a phone and a desktop page, a
fresh shop and a photo to upload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from browser_kit import CHROMIUM, CHROMIUM_ARGS, Shop, make_photo, make_shop
from returns_infra.fixtures import RunningServices


# Module scope: while Playwright's sync driver runs, its event loop counts as running in this
# thread, and the asyncio tests of other modules could not start theirs.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        # A browser test that skips would let `make test` pass without the pages being tried.
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs it (as root)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone_without_js(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="fr-FR", java_script_enabled=False
    )
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def shop(services: RunningServices) -> Shop:
    return make_shop(services.urls["declaration"], services.env["MAILPIT_URL"])


@pytest.fixture(scope="session")
def photo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_photo(tmp_path_factory.mktemp("photos") / "mug-fele.jpg")
