"""Every page template compiles, and every text the pages use exists in both languages."""

from __future__ import annotations

import re
from typing import get_args

from returns_declaration.domain.model import LabelStatus, TimelineKind
from returns_declaration.entrypoints.pages import HERE, _templates
from returns_declaration.entrypoints.texts import TEXTS


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
