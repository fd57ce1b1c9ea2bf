"""The e-mails of a question and its answer (issue 15) against the fakes of test_use_cases:
each once per event, in the merchant's language, photos linked and carried like R9's."""

from __future__ import annotations

import pytest

from returns_contracts.examples import (
    customer_answered,
    information_requested,
    merchant_updated,
    return_submitted,
)
from returns_notifier.domain.emails import (
    CUSTOMER_INFORMATION_REQUEST,
    CUSTOMER_SERVICE_ANSWER,
)
from returns_notifier.service.errors import ReturnNotKnownYet
from returns_notifier.service.follow_up import FollowUpMails

from .fakes import DOMAIN, World
from .test_use_cases import _notifications, _to_customer, _to_customer_service


@pytest.fixture
async def world() -> World:
    world = World()
    await world.notifier.record_merchant(merchant_updated())
    await world.notifier.on_return_submitted(return_submitted(defective=True))
    world.sender.sent.clear()
    world.photos.known["media-3"] = "m-atelier"
    return world


async def test_the_customer_gets_the_question_with_its_link_once(world: World) -> None:
    mails = FollowUpMails(world.notifier)
    event = information_requested()

    await mails.on_information_requested(event)
    await mails.on_information_requested(event)  # redelivered

    [email] = _to_customer(world)
    assert email.subject == "L'Atelier : une question sur votre retour (commande CMD-2026-0042)"
    assert event.payload.question in email.text
    assert f"Répondre : {event.payload.answer_url}" in email.text
    assert email.reply_to is not None and email.reply_to.address == "sav@atelier.example.com"
    [announced] = _notifications(world, CUSTOMER_INFORMATION_REQUEST)
    assert announced.payload.caused_by_event_id == event.event_id


async def test_customer_service_gets_the_answer_with_its_photos_once(world: World) -> None:
    mails = FollowUpMails(world.notifier)
    event = customer_answered()

    await mails.on_customer_answered(event)
    await mails.on_customer_answered(event)

    [email] = _to_customer_service(world)
    assert email.subject == "[Réponse du client] Commande CMD-2026-0042 - Léa Dupont"
    assert event.payload.comment in email.text
    assert "Photo 1: https://media.test/p/media-3/full?sig=x" in email.text
    assert "Photo media-4 introuvable" in email.text  # unknown to media: listed, not linked
    [image] = email.inline_images
    assert image.content_id == f"thumb-1.{event.event_id}@{DOMAIN}"
    assert email.reply_to is not None and email.reply_to.address == "lea.dupont@example.com"
    assert len(_notifications(world, CUSTOMER_SERVICE_ANSWER)) == 1


async def test_the_emails_are_in_the_merchants_language(world: World) -> None:
    await world.notifier.record_merchant(
        merchant_updated(revision=2).model_copy(
            update={
                "payload": merchant_updated(revision=2).payload.model_copy(update={"locale": "en"})
            }
        )
    )
    mails = FollowUpMails(world.notifier)
    await mails.on_information_requested(information_requested())
    [email] = _to_customer(world)
    assert email.subject.startswith("L'Atelier: a question about your return")


async def test_a_question_before_the_return_waits_for_it() -> None:
    world = World()
    await world.notifier.record_merchant(merchant_updated())
    with pytest.raises(ReturnNotKnownYet):
        await FollowUpMails(world.notifier).on_information_requested(information_requested())
    assert not world.sender.sent
