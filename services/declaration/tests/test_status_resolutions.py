"""Issue 15: the customer's status page after the merchant's resolution: the decision, what
happens next and the note the customer reads, in the merchant's language; the rules on their
own, then the page on in-memory fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from returns_declaration.config import DeclarationSettings
from returns_declaration.domain import follow_up
from returns_declaration.domain.model import Actor, LabelStatus, Locale
from returns_declaration.domain.resolution import Resolution, ResolutionKind
from returns_declaration.service.customer_links import CustomerLinks

from .builders import NOW
from .test_api_on_fakes import merchant_key
from .test_follow_up import _declared, entry, local
from .test_resolution_entrypoints import defective_return, path
from .web_world import World, world

SUPPORT = Actor(kind="user", id="u-1", display_name="Julie")


def resolved(kind: ResolutionKind, note: str | None = None, minutes: int = 5) -> Resolution:
    return Resolution(
        kind=kind, note=note, actor=SUPPORT, at=NOW + timedelta(minutes=minutes), event_id="e-1"
    )


@pytest.mark.parametrize(
    ("kind", "expected", "french_title", "english_title"),
    [
        (
            "refund_without_return",
            "refunded_without_return",
            "Remboursé, sans renvoyer l'article",
            "Refunded, no need to send the item back",
        ),
        (
            "replacement",
            "replacement_sent",
            "Un article de remplacement vous est envoyé",
            "A replacement is on its way",
        ),
        ("declined", "declined", "Retour refusé", "Return declined"),
    ],
)
def test_a_resolution_says_the_decision_and_what_happens_next_in_the_merchant_s_language(
    kind: ResolutionKind, expected: str, french_title: str, english_title: str
) -> None:
    timeline = [entry("submitted", 0)]
    resolution = resolved(kind, "Une note\nsur deux lignes.")

    french = follow_up.status(_declared(), "awaiting_merchant", timeline, "fr", NOW, resolution)
    english = follow_up.status(_declared(), "awaiting_merchant", timeline, "en", NOW, resolution)

    assert french.kind == english.kind == expected
    assert (french.title, english.title) == (french_title, english_title)
    assert french.next_step != english.next_step
    assert french.message == english.message == "Une note\nsur deux lignes."


@pytest.mark.parametrize(
    ("kind", "locale", "heading"),
    [
        ("declined", "fr", "Pourquoi"),
        ("declined", "en", "Why"),
        ("replacement", "fr", "Le message du marchand"),
        ("refund_without_return", "en", "The merchant's message"),
    ],
)
def test_the_note_is_headed_as_a_reason_for_a_decline_and_a_message_otherwise(
    kind: ResolutionKind, locale: Locale, heading: str
) -> None:
    shown = follow_up.status(
        _declared(), "awaiting_merchant", [], locale, NOW, resolved(kind, "Note.")
    )
    assert shown.message_title == heading


def test_a_resolution_without_a_note_shows_no_message() -> None:
    shown = follow_up.status(
        _declared(), "awaiting_merchant", [], "fr", NOW, resolved("replacement")
    )
    assert shown.kind == "replacement_sent"
    assert shown.message is None and shown.message_title is None


@pytest.mark.parametrize(
    ("label_status", "expected"),
    [("requested", "label_on_its_way"), ("generated", "label_sent")],
)
def test_a_label_resolution_goes_on_as_the_label(label_status: LabelStatus, expected: str) -> None:
    shown = follow_up.status(
        _declared(),
        label_status,
        [],
        "en",
        NOW,
        resolved("label", "Print it."),
    )
    assert shown.kind == expected and shown.message is None


def test_a_newer_resolution_wins_over_an_earlier_label() -> None:
    """Support sent a label, then decided a refund without return: the refund is what stands."""
    shown = follow_up.status(
        _declared(), "generated", [], "en", NOW, resolved("refund_without_return")
    )
    assert shown.kind == "refunded_without_return"


def test_a_question_asked_after_the_resolution_comes_first_until_it_is_answered() -> None:
    resolution = resolved("declined", "The crack comes from a fall.", minutes=5)
    before = [
        entry("information_requested", 1),
        entry("customer_answered", 2, about="information_requested-1"),
    ]
    open_after = [*before, entry("information_requested", 10)]
    answered_after = [*open_after, entry("customer_answered", 11, about="information_requested-10")]

    def kind(timeline: list) -> str:  # type: ignore[type-arg]
        return follow_up.status(
            _declared(), "awaiting_merchant", timeline, "en", NOW, resolution
        ).kind

    assert kind(before) == "declined"
    assert kind(open_after) == "question_open"
    assert kind(answered_after) == "declined"


def test_without_a_resolution_the_status_is_unchanged() -> None:
    assert follow_up.status(_declared(), "awaiting_merchant", [], "en", NOW).kind == (
        "merchant_will_contact"
    )


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
async def app() -> AsyncIterator[World]:
    async with world() as built:
        yield built


def status_link(return_id: str, merchant_id: str = "shop") -> str:
    links = CustomerLinks(DeclarationSettings().customer_link_secret, "http://declaration/portal")
    return local(links.status(merchant_id, return_id, NOW).url)


@pytest.mark.parametrize(
    ("body", "shown", "hidden"),
    [
        (
            {"resolution": "declined", "note": "La fêlure vient d'une chute.\nVoir la photo."},
            [
                'data-status="declined"',
                "Retour refusé",
                "Pourquoi",
                "La fêlure vient d&#39;une chute.<br>Voir la photo.",
            ],
            ["va vous contacter", "Le message du marchand"],
        ),
        (
            {"resolution": "refund_without_return"},
            [
                'data-status="refunded_without_return"',
                "vous n&#39;avez pas à renvoyer l&#39;article",
            ],
            ['id="resolution-message"'],
        ),
        (
            {"resolution": "replacement", "note": "Un mug neuf part demain."},
            [
                'data-status="replacement_sent"',
                "Le message du marchand",
                "Un mug neuf part demain.",
            ],
            ["Pourquoi"],
        ),
    ],
)
async def test_the_status_page_shows_the_resolution_in_the_merchant_s_language(
    app: World, body: dict[str, str], shown: list[str], hidden: list[str]
) -> None:
    return_id = await defective_return(app)
    link = status_link(return_id)
    before = await app.client.get(link)
    assert 'data-status="merchant_will_contact"' in before.text

    decided = await app.client.post(path(return_id), json=body, headers=await merchant_key(app))
    assert decided.status_code == 201, decided.text
    page = await app.client.get(link)

    assert page.status_code == 200
    for words in shown:
        assert words in page.text, words
    for words in hidden:
        assert words not in page.text, words
