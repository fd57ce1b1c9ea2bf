"""After the submit (issue 15, items 3 and 4): support asks the customer a question from the
return record, the customer answers it from a signed link with a comment and up to 5 more
photos, and the customer reads where their return stands from another signed link.

The question and the answer are timeline entries written with their events in the return's
document (the outbox): `InformationRequested` and `CustomerAnswered`. The answer's entry and
event have an id made from the question, so a question is answered at most once, whatever
double click or retry; its photos go to media like step 3's (the same upload, limits and
checks), under a draft of their own that the answer keeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from returns_contracts import (
    Actor as ContractActor,
)
from returns_contracts import (
    CustomerAnswered,
    CustomerAnsweredPayload,
    InformationRequested,
    InformationRequestedPayload,
)
from returns_contracts.service_kit.clock import Clock, utc_now_millis
from returns_contracts.signing import issue_draft_token
from returns_declaration.domain import follow_up
from returns_declaration.domain.follow_up import Answer, Exchange, ReturnStatus, StatusLine
from returns_declaration.domain.model import Actor, Locale, Merchant, TimelineEntry
from returns_declaration.service.customer_links import CustomerLinks, LinkRefused
from returns_declaration.service.errors import NotFound, PhotoCatalogUnavailable, PhotoRefused
from returns_declaration.service.merchants import PRODUCER, known_merchant
from returns_declaration.service.ports import (
    DeclarationStore,
    PhotoCatalog,
    PhotoUploader,
    ReturnRecord,
    TimelineChange,
)
from returns_declaration.service.uploads import PhotoFile

ANSWER_LINE_ID = "answer"
"""The media "line" an answer's photos are uploaded under (5 per line, as at step 3)."""
UPLOAD_TOKEN_TTL = timedelta(minutes=30)

CustomerLinkProblem = Literal["invalid", "expired", "used"]


class CustomerLinkRefused(Exception):
    """A customer's link that cannot open its page: altered or for another return or question
    (`invalid`), past its date (`expired`), or for a question already answered (`used`).
    `locale` is the language to say it in: the merchant's (French when the merchant is
    unknown, R15's default)."""

    def __init__(self, problem: CustomerLinkProblem, locale: Locale) -> None:
        super().__init__(problem)
        self.problem: CustomerLinkProblem = problem
        self.locale: Locale = locale


class AnswerPhotoRefused(Exception):
    """Media refused a photo of the answer (or did not answer): nothing was recorded."""

    def __init__(self, problem: PhotoRefused | PhotoCatalogUnavailable) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class StatusPage:
    merchant: Merchant
    record: ReturnRecord
    status: ReturnStatus
    lines: tuple[StatusLine, ...]


@dataclass(frozen=True)
class QuestionPage:
    merchant: Merchant
    record: ReturnRecord
    exchange: Exchange
    answer_by: datetime


@dataclass(frozen=True)
class Answered:
    page: QuestionPage
    status_url: str


class FollowUp:
    def __init__(
        self,
        store: DeclarationStore,
        photos: PhotoCatalog,
        uploader: PhotoUploader,
        links: CustomerLinks,
        on_events: Callable[[], None],
        *,
        back_office_base_url: str,
        portal_token_secret: str,
        clock: Clock = utc_now_millis,
    ) -> None:
        self.store = store
        self.photos = photos
        self.uploader = uploader
        self.links = links
        self.on_events = on_events
        self.back_office_base_url = back_office_base_url.rstrip("/")
        self.portal_token_secret = portal_token_secret
        self.clock = clock

    # --- support ----------------------------------------------------------------------------

    async def ask(
        self,
        merchant_id: str,
        return_id: str,
        actor: Actor,
        question: str,
        correlation_id: str,
    ) -> ReturnRecord:
        """Write the question on the record and publish InformationRequested with the
        customer's signed link (valid `answer_ttl`, 7 days by default)."""
        merchant = await known_merchant(self.store, merchant_id)
        record = await self.store.get_return(merchant_id, return_id)
        if record is None:
            raise NotFound("return")
        asked = follow_up.checked_question(merchant.locale, question)
        now = self.clock()
        question_id = uuid.uuid4()
        link = self.links.answer(merchant_id, return_id, str(question_id), now)
        event = InformationRequested(
            event_id=question_id,
            occurred_at=now,
            merchant_id=merchant_id,
            correlation_id=correlation_id,
            producer=PRODUCER,
            payload=InformationRequestedPayload(
                return_id=return_id,
                question_id=str(question_id),
                question=asked,
                asked_by=ContractActor.model_validate(actor.model_dump()),
                answer_url=link.url,
                answer_by=link.expires_at,
            ),
        )
        change = TimelineChange(
            entry=TimelineEntry(
                event_id=str(question_id),
                kind="information_requested",
                at=now,
                detail=asked,
                actor=actor,
            ),
            events=[event],
        )
        await self.store.change_timeline(merchant_id, return_id, change)
        self.on_events()
        updated = await self.store.get_return(merchant_id, return_id)
        assert updated is not None
        return updated

    # --- the customer, holding a signed link ------------------------------------------------

    async def status_page(self, merchant_id: str, return_id: str, exp: str, sig: str) -> StatusPage:
        merchant, record = await self._linked_return(merchant_id, return_id)
        now = self.clock()
        try:
            self.links.check_status(merchant_id, return_id, exp, sig, now)
        except LinkRefused as refused:
            raise CustomerLinkRefused(refused.problem, merchant.locale) from refused
        declared = record.declared
        return StatusPage(
            merchant,
            record,
            follow_up.status(
                declared,
                record.label_status,
                record.timeline,
                merchant.locale,
                now,
                record.resolution,
            ),
            follow_up.status_lines(declared, merchant.locale),
        )

    def status_url(self, merchant_id: str, return_id: str) -> str:
        return self.links.status(merchant_id, return_id, self.clock()).url

    async def question_page(
        self, merchant_id: str, return_id: str, question_id: str, exp: str, sig: str
    ) -> QuestionPage:
        """The question a link opens: CustomerLinkRefused unless the link is for this question
        of this return, still valid, and the question not answered yet."""
        merchant, record = await self._linked_return(merchant_id, return_id)
        locale = merchant.locale
        expired: LinkRefused | None = None
        try:
            self.links.check_answer(merchant_id, return_id, question_id, exp, sig, self.clock())
        except LinkRefused as refused:
            if refused.problem == "invalid":
                raise CustomerLinkRefused("invalid", locale) from refused
            expired = refused
        exchange = follow_up.question(record.timeline, question_id)
        if exchange is None:
            raise CustomerLinkRefused("invalid", locale)
        if exchange.answered:
            raise CustomerLinkRefused("used", locale)
        if expired is not None:
            raise CustomerLinkRefused("expired", locale) from expired
        return QuestionPage(merchant, record, exchange, datetime.fromtimestamp(int(exp), tz=UTC))

    async def answer(
        self,
        merchant_id: str,
        return_id: str,
        question_id: str,
        exp: str,
        sig: str,
        comment: str,
        files: Sequence[PhotoFile],
        correlation_id: str,
    ) -> Answered:
        """Record the customer's answer once and publish CustomerAnswered.

        The rules are checked before any photo leaves (DeclarationRejected, by field); a photo
        media refuses stops the answer (AnswerPhotoRefused), so nothing half-done is recorded
        and the customer sends it again with the same link.
        """
        page = await self.question_page(merchant_id, return_id, question_id, exp, sig)
        locale = page.merchant.locale
        written = follow_up.checked_answer(locale, comment, len(files))
        photo_ids = await self._upload(merchant_id, question_id, files)
        now = self.clock()
        entry_id = follow_up.answer_id(question_id)
        event = CustomerAnswered(
            event_id=uuid.UUID(entry_id),
            occurred_at=now,
            merchant_id=merchant_id,
            correlation_id=correlation_id,
            producer=PRODUCER,
            payload=CustomerAnsweredPayload(
                return_id=return_id,
                question_id=question_id,
                question=page.exchange.question,
                comment=written,
                media_ids=list(photo_ids),
                answered_at=now,
                back_office_url=f"{self.back_office_base_url}/merchants/{merchant_id}"
                f"/returns/{return_id}",
            ),
        )
        change = TimelineChange(
            entry=TimelineEntry(
                event_id=entry_id,
                kind="customer_answered",
                at=now,
                detail=written,
                about=question_id,
                media_ids=photo_ids,
            ),
            events=[event],
        )
        await self.store.change_timeline(merchant_id, return_id, change)
        self.on_events()
        updated = await self.store.get_return(merchant_id, return_id)
        recorded = None if updated is None else follow_up.question(updated.timeline, question_id)
        mine = Answer(now, written, photo_ids)
        if recorded is None or recorded.answer != mine:
            # Another answer to the same question was written first (two tabs at once).
            raise CustomerLinkRefused("used", locale)
        return Answered(page, self.status_url(merchant_id, return_id))

    async def _upload(
        self, merchant_id: str, question_id: str, files: Sequence[PhotoFile]
    ) -> tuple[str, ...]:
        if not files:
            return ()
        draft_id = f"answer-{question_id}"
        token = issue_draft_token(
            self.portal_token_secret, merchant_id, draft_id, self.clock() + UPLOAD_TOKEN_TTL
        )
        uploaded: list[str] = []
        for file in files:
            try:
                photo = await self.uploader.upload(
                    merchant_id,
                    draft_id,
                    token,
                    ANSWER_LINE_ID,
                    file.filename,
                    file.content,
                    file.content_type,
                )
            except (PhotoRefused, PhotoCatalogUnavailable) as problem:
                # The photos taken before it are not kept by any answer: media deletes them
                # with the abandoned drafts.
                raise AnswerPhotoRefused(problem) from problem
            uploaded.append(photo.photo_id)
        return tuple(uploaded)

    async def _linked_return(
        self, merchant_id: str, return_id: str
    ) -> tuple[Merchant, ReturnRecord]:
        merchant = await self.store.get_merchant(merchant_id)
        if merchant is None:
            raise CustomerLinkRefused("invalid", "fr")
        record = await self.store.get_return(merchant_id, return_id)
        if record is None:
            raise CustomerLinkRefused("invalid", merchant.locale)
        return merchant, record
