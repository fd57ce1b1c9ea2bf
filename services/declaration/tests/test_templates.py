"""Every page template compiles, and every text the pages use exists in both languages."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from returns_declaration.domain.model import LabelStatus, TimelineKind
from returns_declaration.entrypoints.texts import TEXTS
from returns_declaration.entrypoints.web.forms import HERE, shown_link
from returns_declaration.entrypoints.web.forms import templates as _templates


def test_every_template_compiles() -> None:
    environment = _templates()
    names = sorted(path.name for path in (HERE / "templates").glob("*.html"))
    assert "portal_details.html" in names
    for name in names:
        environment.get_template(name)


def test_every_text_a_template_names_is_in_french_and_english() -> None:
    used: set[str] = set()
    for path in (HERE / "templates").glob("*.html"):
        used.update(re.findall(r"\bt\('([a-z0-9_]+)'\)", path.read_text()))
    assert used, "no t('...') found: the pattern is stale"
    assert used <= TEXTS.keys(), used - TEXTS.keys()
    for key, translations in TEXTS.items():
        assert set(translations) == {"fr", "en"}, key


def test_every_label_status_and_timeline_kind_has_words() -> None:
    for status in get_args(LabelStatus):
        assert f"status_{status}" in TEXTS
    for kind in get_args(TimelineKind):
        assert f"kind_{kind}" in TEXTS


def test_every_link_from_outside_goes_through_the_link_filter() -> None:
    # An href or src printing a value must be a path of this site, a URL-encoded mailto, or a
    # value passed through `link` (http(s) only): a stored `javascript:` link never reaches a page.
    allowed = re.compile(
        r"^(/|\{\{ base \}\}|\?\{\{ next_query \}\}|mailto:\{\{ [a-z_.]+\|urlencode \}\}"
        r"|\{\{ [a-z_.]+\|link \}\}"
        r"|\{\{ (label_url|link|portal_url|docs_url|links\.mailpit_url) \}\})"
    )
    checked = 0
    for path in (HERE / "templates").glob("*.html"):
        for value in re.findall(r'\b(?:href|src|action)="([^"]*\{\{[^"]*)"', path.read_text()):
            checked += 1
            assert allowed.match(value), f"{path.name}: {value}"
    assert checked > 20, "no templated link found: the pattern is stale"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://shop.example/mug.jpg", "https://shop.example/mug.jpg"),
        (" HTTP://shop.example/a?b=1&c=2 ", "HTTP://shop.example/a?b=1&c=2"),
        ("javascript:alert(1)", None),
        (" JaVaScRiPt:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("//evil.example/x", None),
        ("vbscript:x", None),
        (None, None),
    ],
)
def test_the_link_filter_keeps_http_links_only(url: str | None, shown: str | None) -> None:
    assert shown_link(url) == shown
    rendered = _templates().from_string('<a href="{{ url|link }}">').render(url=url)
    assert "javascript" not in rendered.lower() and "data:" not in rendered
