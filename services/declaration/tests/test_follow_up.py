"""Issue 15, items 3 and 4, on in-memory fakes: the rules of a question and its answer and of
the customer's status page (domain), the signed links, and the API and pages that use them
(asking from the record, answering once from the link, the status page, refused links)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from returns_contracts import CustomerAnswered, InformationRequested, ReturnSubmitted
from returns_declaration.config import DeclarationSettings
from returns_declaration.domain import follow_up
from returns_declaration.domain.model import (
    Actor,
    Customer,
    Return,
    ReturnLine,
    TimelineEntry,
)
from returns_declaration.domain.rules import DeclarationRejected
from returns_declaration.service.customer_links import CustomerLinks, LinkRefused
from returns_declaration.service.follow_up import CustomerLinkRefused, FollowUp
from returns_declaration.service.ports import UploadedPhoto
from returns_declaration.service.uploads import PhotoFile

from .builders import NOW, order
from .fakes import FakePhotoCatalog
from .web_world import CSRF, OPERATOR_TOKEN, World, world

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64
QUESTION = "Could you send a photo of the label under the lamp?"
ANSWER = "Here it is: the batch number is on the second photo."


@pytest.fixture
async def pages() -> AsyncIterator[World]:
    async with world() as built:
        yield built


def local(url: str) -> str:
    """The path and query of a link the service gave out, to request it from the test app."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def outbox_of(pages: World, kind: type) -> list:  # type: ignore[type-arg]
    return [event for event in pages.store.outbox if isinstance(event, kind)]


async def ask(pages: World, return_id: str, question: str = QUESTION) -> httpx.Response:
    return await pages.client.post(
        f"/v1/merchants/shop/returns/{return_id}/questions",
        json={"question": question, "asked_by_name": "Julie"},
        headers=OPERATOR,
    )


async def second_return(pages: World) -> str:
    """Another return of the same shop (order A-2), to try one return's link on it."""
    await pages.store.save_order(order(number="A-2"))
    return await pages.api_return(await pages.api_session("A-2"))


async def asked(pages: World) -> tuple[str, InformationRequested]:
    return_id = await pages.api_return()
    answer = await ask(pages, return_id)
    assert answer.status_code == 202, answer.text
    return return_id, outbox_of(pages, InformationRequested)[-1]


async def post_answer(
    pages: World, url: str, comment: str = ANSWER, photos: int = 1
) -> httpx.Response:
    files = [("photos", (f"p{index}.jpg", JPEG, "image/jpeg")) for index in range(photos)]
    return await pages.client.post(
        local(url), data={"csrf": CSRF, "comment": comment}, files=files or None
    )


# --- domain: the rules ------------------------------------------------------------------------


def entry(kind: str, minutes: int, **fields: object) -> TimelineEntry:
    return TimelineEntry.model_validate(
        {"event_id": f"{kind}-{minutes}", "kind": kind, "at": NOW + timedelta(minutes=minutes)}
        | fields
    )


def test_exchanges_pair_each_answer_with_its_question_in_time_order() -> None:
    timeline = [
        entry("customer_answered", 30, about="information_requested-10", detail="first answer"),
        entry("information_requested", 40, detail="second question"),
        entry("information_requested", 10, detail="first question"),
        entry("submitted", 0),
    ]
    found = follow_up.exchanges(timeline)
    assert [item.question for item in found] == ["first question", "second question"]
    assert found[0].answer is not None and found[0].answer.comment == "first answer"
    assert found[1].answer is None


@pytest.mark.parametrize(
    ("label_status", "kinds", "expected"),
    [
        ("pending", [], "label_on_its_way"),
        ("requested", ["information_requested"], "label_on_its_way"),
        ("generated", [], "label_sent"),
        ("awaiting_merchant", [], "merchant_will_contact"),
        ("rejected", [], "merchant_will_contact"),
        ("awaiting_merchant", ["information_requested"], "question_open"),
        ("awaiting_merchant", ["information_requested", "customer_answered"], "answer_received"),
    ],
)
def test_the_status_page_says_what_happens_next(
    label_status: str, kinds: list[str], expected: str
) -> None:
    declared = _declared()
    timeline = [entry("submitted", 0)]
    for minute, kind in enumerate(kinds, start=1):
        about = {"about": "information_requested-1"} if kind == "customer_answered" else {}
        timeline.append(entry(kind, minute, **about))
    shown = follow_up.status(declared, label_status, timeline, "en", NOW)  # type: ignore[arg-type]
    assert shown.kind == expected
    french = follow_up.status(declared, label_status, timeline, "fr", NOW)  # type: ignore[arg-type]
    assert french.next_step != shown.next_step and french.title != shown.title


def _declared() -> Return:
    return Return(
        id="r-1",
        merchant_id="shop",
        order_number="A-1",
        ordered_on=NOW.date(),
        customer=Customer(name="Ana", email="ana@example.com"),
        locale="fr",
        lines=(
            ReturnLine(
                line_id="1",
                sku="LAMP",
                name="Lamp",
                quantity=1,
                reason_code="damaged",
                reason_label="Abîmé",
                reason_label_fr="Abîmé",
                reason_label_en="Damaged",
                defective=True,
                return_type=None,
                comment="Broken on arrival",
                media_ids=("ph-1",),
            ),
        ),
        submitted_at=NOW,
    )


def test_status_lines_show_the_reason_in_the_page_language() -> None:
    assert [line.reason_label for line in follow_up.status_lines(_declared(), "en")] == ["Damaged"]
    assert [line.reason_label for line in follow_up.status_lines(_declared(), "fr")] == ["Abîmé"]


@pytest.mark.parametrize(
    ("comment", "photos", "fields"),
    [
        ("too short", 0, ["comment"]),
        ("   " + "x" * 9 + "   ", 1, ["comment"]),
        ("x" * 2001, 0, ["comment"]),
        (ANSWER, 6, ["photos"]),
        ("short", 6, ["comment", "photos"]),
    ],
)
def test_an_answer_needs_10_to_2000_characters_and_at_most_5_photos(
    comment: str, photos: int, fields: list[str]
) -> None:
    with pytest.raises(DeclarationRejected) as rejected:
        follow_up.checked_answer("en", comment, photos)
    assert [error.field for error in rejected.value.errors] == fields


def test_an_answer_within_the_bounds_is_trimmed() -> None:
    assert follow_up.checked_answer("fr", f"  {ANSWER}\n", 5) == ANSWER
    assert follow_up.checked_answer("fr", "x" * 10, 0) == "x" * 10


def test_a_question_is_trimmed_and_bounded() -> None:
    assert follow_up.checked_question("en", "  Which colour?  ") == "Which colour?"
    with pytest.raises(DeclarationRejected):
        follow_up.checked_question("en", " Why ")


def test_one_answer_id_per_question() -> None:
    assert follow_up.answer_id("q-1") == follow_up.answer_id("q-1")
    assert follow_up.answer_id("q-1") != follow_up.answer_id("q-2")


# --- the signed links ---------------------------------------------------------------------------


def _query(url: str) -> tuple[str, str]:
    found = re.search(r"exp=(\d+)&sig=([A-Za-z0-9_-]+)$", url)
    assert found, url
    return found.group(1), found.group(2)


def test_a_status_link_opens_that_return_only_until_it_expires() -> None:
    links = CustomerLinks("secret", "https://shop.example/portal", status_ttl=timedelta(days=1))
    link = links.status("shop", "r-1", NOW)
    assert link.url.startswith("https://shop.example/portal/shop/returns/r-1/status?")
    exp, sig = _query(link.url)
    links.check_status("shop", "r-1", exp, sig, NOW + timedelta(hours=23))
    for merchant_id, return_id, signature in (
        ("shop", "r-2", sig),
        ("other", "r-1", sig),
        ("shop", "r-1", sig[:-2] + "AA"),
    ):
        with pytest.raises(LinkRefused) as refused:
            links.check_status(merchant_id, return_id, exp, signature, NOW)
        assert refused.value.problem == "invalid"
    with pytest.raises(LinkRefused) as late:
        links.check_status("shop", "r-1", exp, sig, NOW + timedelta(days=1, seconds=1))
    assert late.value.problem == "expired"
    with pytest.raises(LinkRefused) as pushed:
        links.check_status("shop", "r-1", str(int(exp) + 86400), sig, NOW)
    assert pushed.value.problem == "invalid"
    with pytest.raises(LinkRefused):
        CustomerLinks("another-secret", "https://x").check_status("shop", "r-1", exp, sig, NOW)


def test_an_answer_link_is_bound_to_its_question_and_lasts_7_days() -> None:
    links = CustomerLinks("secret", "https://shop.example/portal")
    link = links.answer("shop", "r-1", "q-1", NOW)
    assert link.expires_at == NOW + timedelta(days=7)
    exp, sig = _query(link.url)
    links.check_answer("shop", "r-1", "q-1", exp, sig, NOW)
    with pytest.raises(LinkRefused):
        links.check_answer("shop", "r-1", "q-2", exp, sig, NOW)
    with pytest.raises(LinkRefused):
        links.check_status("shop", "r-1", exp, sig, NOW)


# --- asking from the record (API and back-office page) ----------------------------------------


async def test_support_asks_through_the_api_and_the_outbox_carries_the_link(
    pages: World,
) -> None:
    return_id, event = await asked(pages)
    assert event.payload.question == QUESTION
    assert event.payload.asked_by.display_name == "Julie"
    assert event.payload.answer_by == NOW + timedelta(days=7)
    assert f"/portal/shop/returns/{return_id}/questions/{event.payload.question_id}?" in (
        event.payload.answer_url
    )
    record = await pages.client.get(f"/v1/merchants/shop/returns/{return_id}", headers=OPERATOR)
    kinds = [step["kind"] for step in record.json()["timeline"]]
    assert kinds[-1] == "information_requested"
    assert record.json()["timeline"][-1]["event_id"] == str(event.event_id)


async def test_another_merchants_key_cannot_ask_about_a_return(pages: World) -> None:
    return_id = await pages.api_return()
    issued = await pages.client.post("/v1/merchants/other/api-keys", headers=OPERATOR)
    foreign = {"Authorization": f"Bearer {issued.json()['api_key']}"}
    answer = await pages.client.post(
        f"/v1/merchants/shop/returns/{return_id}/questions",
        json={"question": QUESTION},
        headers=foreign,
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    missing = await ask(pages, "no-such-return")
    assert missing.status_code == 404
    assert not outbox_of(pages, InformationRequested)


@pytest.mark.parametrize("question", ["Why", "", "x" * 2001])
async def test_a_bad_question_gets_the_one_error_shape(pages: World, question: str) -> None:
    return_id = await pages.api_return()
    answer = await ask(pages, return_id, question)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["fields"] and error["fields"][0]["field"].endswith("question")
    assert not outbox_of(pages, InformationRequested)


async def test_support_asks_from_the_record_page_and_sees_the_exchange(pages: World) -> None:
    return_id = await pages.api_return()
    await pages.back_office_sign_in()
    path = f"/back-office/merchants/shop/returns/{return_id}"
    too_short = await pages.client.post(f"{path}/questions", data={"csrf": CSRF, "question": "?"})
    assert too_short.status_code == 422
    assert 'id="question-error"' in too_short.text
    sent = await pages.client.post(f"{path}/questions", data={"csrf": CSRF, "question": QUESTION})
    assert sent.status_code == 303 and sent.headers["location"] == f"{path}?asked=1"
    forged = await pages.client.post(f"{path}/questions", data={"csrf": "x", "question": QUESTION})
    assert forged.status_code == 403
    assert len(outbox_of(pages, InformationRequested)) == 1
    record = await pages.client.get(f"{path}?asked=1")
    assert "Question envoyée au client." in record.text
    assert QUESTION in record.text and "En attente de réponse" in record.text


# --- the customer's answer ---------------------------------------------------------------------


async def test_the_customer_answers_once_with_photos_through_media(pages: World) -> None:
    return_id, event = await asked(pages)
    url = event.payload.answer_url
    page = await pages.client.get(local(url))
    assert page.status_code == 200
    assert QUESTION in page.text and 'name="photos"' in page.text
    answered = await post_answer(pages, url, photos=2)
    assert answered.status_code == 200, answered.text
    assert "Merci, votre réponse a été transmise au marchand." in answered.text
    draft_id = f"answer-{event.payload.question_id}"
    assert [(draft, line) for draft, line, _ in pages.media.uploads] == [(draft_id, "answer")] * 2
    [sent] = outbox_of(pages, CustomerAnswered)
    assert sent.payload.question_id == event.payload.question_id
    assert sent.payload.comment == ANSWER and sent.payload.question == QUESTION
    assert sent.payload.media_ids == ["photo-1", "photo-2"]
    assert str(sent.event_id) == follow_up.answer_id(event.payload.question_id)
    # The link is used: a second visit or answer is a clear page, nothing more is written.
    again = await pages.client.get(local(url))
    assert again.status_code == 409
    assert "Vous avez déjà répondu à cette question" in again.text
    twice = await post_answer(pages, url, photos=0)
    assert twice.status_code == 409
    assert len(outbox_of(pages, CustomerAnswered)) == 1
    record = await pages.client.get(f"/v1/merchants/shop/returns/{return_id}", headers=OPERATOR)
    steps = record.json()["timeline"]
    assert [step["kind"] for step in steps][-2:] == ["information_requested", "customer_answered"]
    assert steps[-1]["media_ids"] == ["photo-1", "photo-2"]
    assert steps[-1]["about"] == event.payload.question_id


class GatedUploader:
    """Media's upload that lets no answer through before both are uploading: two tabs past
    the "already answered" check at once."""

    def __init__(self) -> None:
        self.waiting = 0
        self.both = asyncio.Event()

    async def upload(self, *args: object) -> UploadedPhoto:
        self.waiting += 1
        if self.waiting == 2:
            self.both.set()
        await self.both.wait()
        return UploadedPhoto(f"gated-{self.waiting}-{id(args)}", None)

    async def remove(self, *args: object) -> None:
        raise AssertionError("an answer removes no photo")


async def test_two_answers_at_once_record_one(pages: World) -> None:
    """The answer's id is made from the question, so the store writes one answer whatever
    arrives together; the other is told the link was used."""
    _, event = await asked(pages)
    use_case = FollowUp(
        pages.store,
        FakePhotoCatalog(),
        GatedUploader(),
        CustomerLinks(DeclarationSettings().customer_link_secret, "http://declaration/portal"),
        lambda: None,
        back_office_base_url="http://bo.example/back-office",
        portal_token_secret="s",
        clock=pages.clock,
    )
    exp, sig = _query(event.payload.answer_url)
    photo = [PhotoFile("p.jpg", JPEG, "image/jpeg")]

    async def answer(comment: str) -> str:
        try:
            await use_case.answer(
                "shop",
                event.payload.return_id,
                event.payload.question_id,
                exp,
                sig,
                comment,
                photo,
                "c",
            )
        except CustomerLinkRefused as refused:
            return refused.problem
        return "answered"

    outcomes = await asyncio.gather(answer(ANSWER), answer(ANSWER + " (bis)"))
    assert sorted(outcomes) == ["answered", "used"]
    [sent] = outbox_of(pages, CustomerAnswered)
    assert sent.payload.comment == (ANSWER if outcomes[0] == "answered" else ANSWER + " (bis)")


async def test_the_record_page_shows_the_answer_with_its_photos(pages: World) -> None:
    return_id, event = await asked(pages)
    await post_answer(pages, event.payload.answer_url, photos=1)
    await pages.back_office_sign_in()
    record = await pages.client.get(f"/back-office/merchants/shop/returns/{return_id}")
    assert ANSWER in record.text and "Réponse du client" in record.text
    assert "https://t/photo-1" in record.text


async def test_a_refused_answer_keeps_what_was_written_and_records_nothing(
    pages: World,
) -> None:
    _, event = await asked(pages)
    short = await post_answer(pages, event.payload.answer_url, comment="merci", photos=0)
    assert short.status_code == 422
    assert 'id="comment-error"' in short.text and ">merci</textarea>" in short.text
    many = await post_answer(pages, event.payload.answer_url, photos=6)
    assert many.status_code == 422 and 'id="photos-error"' in many.text
    assert not pages.media.uploads
    pages.media.refuse_with = 415
    refused = await post_answer(pages, event.payload.answer_url, photos=1)
    assert refused.status_code == 422 and 'id="photos-error"' in refused.text
    assert not outbox_of(pages, CustomerAnswered)
    pages.media.refuse_with = None
    accepted = await post_answer(pages, event.payload.answer_url, photos=1)
    assert accepted.status_code == 200


async def test_an_expired_a_foreign_or_an_altered_link_gets_a_clear_page(pages: World) -> None:
    return_id, event = await asked(pages)
    other_return = await second_return(pages)
    url = local(event.payload.answer_url)
    foreign = url.replace(f"/returns/{return_id}/", f"/returns/{other_return}/")
    altered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    other_merchant = url.replace("/portal/shop/", "/portal/other/")
    for link, words in (
        (foreign, "Ce lien n&#39;est pas valable"),
        (altered, "Ce lien n&#39;est pas valable"),
        (other_merchant, "This link is not valid"),  # in that merchant's language
    ):
        page = await pages.client.get(link)
        assert page.status_code == 403, link
        assert words in page.text
        posted = await pages.client.post(link, data={"csrf": CSRF, "comment": ANSWER})
        assert posted.status_code == 403
    pages.clock.advance(days=7, seconds=1)
    late = await pages.client.get(url)
    assert late.status_code == 410 and "Ce lien a expiré" in late.text
    posted = await post_answer(pages, event.payload.answer_url)
    assert posted.status_code == 410
    assert not outbox_of(pages, CustomerAnswered)


# --- the status page -------------------------------------------------------------------------


async def test_the_acknowledgement_link_opens_the_status_page(pages: World) -> None:
    return_id = await pages.api_return()
    [submitted] = [e for e in outbox_of(pages, ReturnSubmitted) if e.payload.return_id == return_id]
    assert submitted.payload.status_url is not None
    page = await pages.client.get(local(submitted.payload.status_url))
    assert page.status_code == 200
    assert 'data-status="label_on_its_way"' in page.text
    assert "Votre étiquette de retour est en préparation" in page.text
    assert "Tee" in page.text and return_id in page.text
    altered = local(submitted.payload.status_url).replace("exp=", "exp=1")
    refused = await pages.client.get(altered)
    assert refused.status_code == 403
    other = await second_return(pages)
    foreign = local(submitted.payload.status_url).replace(return_id, other)
    assert (await pages.client.get(foreign)).status_code == 403


def test_actor_of_a_question_is_kept() -> None:
    actor = Actor(kind="user", id="u", display_name="Julie")
    item = follow_up.exchanges(
        [entry("information_requested", 1, actor=actor.model_dump(), detail="?")]
    )
    assert item[0].asked_by == actor
