"""Issue 15, item 5: with the merchant's setting for mixed returns on, the portal's confirmation
says the label of the classic lines follows and the merchant contacts the customer about the
defective ones, instead of "the merchant will contact you" alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from returns_declaration.domain import follow_up, views
from returns_declaration.domain.model import LabelStatus, Locale, Return, TimelineEntry
from returns_declaration.service.ports import TimelineChange

from .builders import NOW, returned
from .web_world import World, world


def mixed(split_mixed: bool, locale: Locale = "fr") -> Return:
    """A return of order A-1 with a classic mug and a defective one."""
    declared = returned("shop", 1, defective=True)
    classic = returned("shop", 1).lines[0].model_copy(update={"line_id": "2"})
    return declared.model_copy(
        update={
            "lines": (*declared.lines, classic),
            "split_mixed": split_mixed,
            "locale": locale,
        }
    )


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("fr", "Votre étiquette de retour pour les articles sans défaut vous sera envoyée"),
        ("en", "Your return label for the items without a defect will be e-mailed to you"),
    ],
)
def test_a_split_mixed_return_s_next_step_says_its_label_follows(
    locale: Locale, words: str
) -> None:
    step = views.next_step(mixed(True, locale))

    # The public kind stays: the defective lines still wait for the merchant.
    assert step.kind == "merchant_will_contact"
    assert words in step.message
    assert ("défectueux" if locale == "fr" else "defective") in step.message


def test_a_mixed_return_held_whole_keeps_the_merchant_will_contact_you() -> None:
    step = views.next_step(mixed(False))
    assert step.message == "Merci. Le marchand va vous contacter au sujet de votre retour."


@pytest.mark.parametrize("label_status", ["pending", "generated"])
def test_a_split_mixed_return_s_status_says_the_defective_items_still_wait(
    label_status: LabelStatus,
) -> None:
    split = follow_up.status(mixed(True), label_status, [], "fr", NOW)
    whole = follow_up.status(mixed(False, "en"), label_status, [], "en", NOW)
    english = follow_up.status(mixed(True, "en"), label_status, [], "en", NOW)

    assert split.kind == english.kind and split.kind.startswith("label_")
    assert split.next_step.endswith(
        "Le marchand va vous contacter au sujet des articles défectueux."
    )
    assert english.next_step.endswith("The merchant will contact you about the defective items.")
    assert "defective" not in whole.next_step


@pytest.fixture
async def app() -> AsyncIterator[World]:
    async with world() as built:
        yield built


async def confirmation(app: World, split_mixed: bool) -> str:
    declared = mixed(split_mixed)
    first = TimelineEntry(event_id=f"submitted-{declared.id}", kind="submitted", at=NOW)
    await app.store.add_return(declared, TimelineChange(entry=first))
    await app.page_sign_in()
    page = await app.client.get(f"/portal/shop/returns/{declared.id}")
    assert page.status_code == 200, page.text
    return page.text


async def test_the_confirmation_of_a_split_mixed_return_says_the_label_is_on_its_way(
    app: World,
) -> None:
    text = await confirmation(app, split_mixed=True)

    assert "pour les articles sans défaut vous sera envoyée" in text
    assert "Votre étiquette est en préparation" in text


async def test_the_confirmation_of_a_return_held_whole_shows_no_label(app: World) -> None:
    text = await confirmation(app, split_mixed=False)

    assert "Le marchand va vous contacter au sujet de votre retour" in text
    assert "Votre étiquette est en préparation" not in text
