"""Issue 15: the customer hears of the merchant's resolution, once per event, in the return's
language; a label resolution's e-mail is the label e-mail, never a second one."""

from __future__ import annotations

import asyncio

import pytest

from returns_contracts import NotificationSent
from returns_contracts.examples import return_resolved, return_submitted
from returns_contracts.service_kit.kafka import PermanentError, Unavailable
from returns_notifier.domain.resolution_emails import CUSTOMER_RESOLUTION
from returns_notifier.service.errors import ReturnNotKnownYet, SendInProgress

from .fakes import World
from .test_use_cases import HeldSender, _member
from .test_use_cases import world as world  # the fixture


def _resolution_notices(world: World) -> list[NotificationSent]:
    return [
        message
        for message in world.publisher.published
        if isinstance(message, NotificationSent) and message.payload.template == CUSTOMER_RESOLUTION
    ]


async def _submitted(world: World, locale: str = "fr") -> None:
    await world.notifier.on_return_submitted(
        return_submitted(defective=True, locale="en" if locale == "en" else "fr")
    )
    world.sender.sent.clear()
    world.publisher.published.clear()


@pytest.mark.parametrize(
    ("resolution", "locale", "subject", "wording"),
    [
        (
            "refund_without_return",
            "fr",
            "L'Atelier : suite donnée à votre retour (commande CMD-2026-0042)",
            "vous n'avez pas à renvoyer l'article",
        ),
        (
            "replacement",
            "en",
            "L'Atelier: what happens with your return (order CMD-2026-0042)",
            "a replacement item is sent to you",
        ),
        (
            "declined",
            "fr",
            "L'Atelier : suite donnée à votre retour (commande CMD-2026-0042)",
            "ne peut pas l'accepter",
        ),
    ],
)
async def test_each_resolution_sends_the_customer_one_email_in_the_return_s_language(
    world: World, resolution: str, locale: str, subject: str, wording: str
) -> None:
    await _submitted(world, locale)
    event = return_resolved(resolution=resolution, note="Une note\nsur deux lignes.")  # type: ignore[arg-type]

    [record] = await world.notifier.on_return_resolved(event)

    assert record.template == CUSTOMER_RESOLUTION and record.event_id == event.event_id
    [email] = world.sender.sent
    assert email.recipient == "lea.dupont@example.com"
    assert email.subject == subject
    assert wording in email.text
    assert "Une note\nsur deux lignes." in email.text
    assert "Une note<br>sur deux lignes." in email.html
    assert email.reply_to is not None and email.reply_to.address == "sav@atelier.example.com"
    [notice] = _resolution_notices(world)
    assert notice.payload.caused_by_event_id == event.event_id


async def test_a_label_resolution_sends_nothing_of_its_own(world: World) -> None:
    await _submitted(world)

    done = await world.notifier.on_return_resolved(return_resolved(resolution="label"))

    assert done == [] and world.sender.sent == [] and world.publisher.published == []


async def test_a_redelivered_resolution_sends_nothing_more(world: World) -> None:
    await _submitted(world)
    event = return_resolved()

    await world.notifier.on_return_resolved(event)
    await world.notifier.on_return_resolved(event)

    assert len(world.sender.sent) == 1
    assert len(_resolution_notices(world)) == 1


async def test_two_resolutions_are_two_emails(world: World) -> None:
    await _submitted(world)

    await world.notifier.on_return_resolved(return_resolved(resolution="replacement"))
    await world.notifier.on_return_resolved(
        return_resolved(resolution="declined", note="The damage comes from a fall.")
    )

    assert len(world.sender.sent) == 2


async def test_two_members_holding_one_resolution_send_its_email_once(world: World) -> None:
    await _submitted(world)
    event = return_resolved()
    held = HeldSender(world.sender)
    first = _member(world, "first", held)
    second = _member(world, "second", world.sender)
    sending = asyncio.create_task(first.on_return_resolved(event))
    await held.entered.wait()

    with pytest.raises(SendInProgress) as raised:
        await second.on_return_resolved(event)
    assert isinstance(raised.value, Unavailable)
    held.release.set()
    await sending
    await second.on_return_resolved(event)

    assert len(world.sender.sent) == 1
    assert len(_resolution_notices(world)) == 1


async def test_a_resolution_before_its_return_waits_for_it(world: World) -> None:
    with pytest.raises(ReturnNotKnownYet) as raised:
        await world.notifier.on_return_resolved(return_resolved())

    assert not isinstance(raised.value, PermanentError)
    assert world.sender.sent == []


async def test_a_resolution_of_another_merchant_s_return_is_not_sent(world: World) -> None:
    await _submitted(world)

    with pytest.raises(ReturnNotKnownYet):
        await world.notifier.on_return_resolved(return_resolved(merchant_id="m-other"))

    assert world.sender.sent == []


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_the_resolution_email_links_to_the_return_s_status_page(
    world: World, locale: str
) -> None:
    submitted = return_submitted(defective=True, locale="en" if locale == "en" else "fr")
    status_url = submitted.payload.status_url
    assert status_url is not None
    await _submitted(world, locale)

    await world.notifier.on_return_resolved(return_resolved(resolution="replacement"))

    [email] = world.sender.sent
    assert status_url in email.text
    assert f'href="{status_url.replace("&", "&amp;")}"' in email.html
    label = "Suivre votre retour : " if locale == "fr" else "Follow your return: "
    assert label + status_url in email.text


async def test_a_return_recorded_without_a_status_link_gets_the_email_without_it(
    world: World,
) -> None:
    """Returns the notifier recorded before the status page existed have no link to give."""
    submitted = return_submitted(defective=True)
    await world.notifier.on_return_submitted(
        submitted.model_copy(
            update={"payload": submitted.payload.model_copy(update={"status_url": None})}
        )
    )
    world.sender.sent.clear()

    await world.notifier.on_return_resolved(return_resolved(resolution="declined", note="Non."))

    [email] = world.sender.sent
    assert "ne peut pas l'accepter" in email.text
    assert "/status" not in email.text and "/status" not in email.html
    assert "Suivre votre retour" not in email.text


async def test_an_unsafe_status_link_is_left_out_of_the_resolution_email(world: World) -> None:
    submitted = return_submitted(defective=True)
    unsafe = submitted.payload.model_copy(update={"status_url": "javascript:alert(1)"})
    await world.notifier.on_return_submitted(submitted.model_copy(update={"payload": unsafe}))
    world.sender.sent.clear()

    await world.notifier.on_return_resolved(return_resolved(resolution="replacement"))

    [email] = world.sender.sent
    assert "javascript:" not in email.html and "javascript:" not in email.text
