"""Issue 15, item 5: with the merchant's setting for mixed returns on, the customer's
acknowledgement says the other items' label follows by e-mail, not "no label for now"."""

from __future__ import annotations

import pytest

from returns_contracts import Locale
from returns_contracts.examples import return_submitted

from .fakes import World
from .test_use_cases import world as world  # the fixture


async def _acknowledgement(world: World, locale: Locale, split_mixed: bool) -> tuple[str, str]:
    submitted = return_submitted(defective=True, locale=locale)
    payload = submitted.payload.model_copy(update={"split_mixed": split_mixed})
    await world.notifier.on_return_submitted(submitted.model_copy(update={"payload": payload}))
    # The customer gets one e-mail about a defective return: the acknowledgement (R9).
    [email] = [sent for sent in world.sender.sent if sent.recipient == "lea.dupont@example.com"]
    return email.text, email.html


@pytest.mark.parametrize(
    ("locale", "label_follows", "no_label"),
    [
        (
            "fr",
            "Votre étiquette de retour pour les autres articles vous sera envoyée par e-mail",
            "Vous n'avez pas d'étiquette à imprimer pour l'instant.",
        ),
        (
            "en",
            "Your return label for the other items will be e-mailed to you",
            "There is no label to print for now.",
        ),
    ],
)
async def test_a_split_mixed_return_s_acknowledgement_says_the_other_items_label_follows(
    world: World, locale: Locale, label_follows: str, no_label: str
) -> None:
    text, html = await _acknowledgement(world, locale, split_mixed=True)

    assert label_follows in text and label_follows in html
    assert no_label not in text
    assert "no label" not in text.lower()


@pytest.mark.parametrize(
    ("locale", "no_label"),
    [
        ("fr", "Vous n'avez pas d'étiquette à imprimer pour l'instant."),
        ("en", "There is no label to print for now."),
    ],
)
async def test_a_return_held_whole_still_says_there_is_no_label_for_now(
    world: World, locale: Locale, no_label: str
) -> None:
    text, _ = await _acknowledgement(world, locale, split_mixed=False)

    assert no_label in text
    assert "autres articles" not in text and "other items" not in text
