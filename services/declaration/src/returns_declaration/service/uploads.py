"""The customer's photos of a defective line (R6), sent to media with the draft's token.

A browser with JavaScript sends each photo to media itself; the portal's plain form posts them
here, and this use case sends them on, keeps the photos the customer did not take back and
describes the defect with them, saying what went wrong where the page must show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from returns_declaration.domain.rules import DeclarationRejected, FieldError
from returns_declaration.service.errors import PhotoCatalogUnavailable, PhotoRefused
from returns_declaration.service.portal import DraftView, Portal
from returns_declaration.service.ports import PhotoUploader, UploadedPhoto
from returns_declaration.service.sessions import PortalSession


@dataclass(frozen=True)
class PhotoFile:
    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class DefectDescribed:
    """What became of a defect sent with its photos."""

    # The line's photos after this step: kept ones and new uploads (a page shows them again
    # when the defect was not saved).
    photo_ids: tuple[str, ...]
    saved: bool
    # The first upload media refused or could not take, if any.
    upload_problem: PhotoRefused | PhotoCatalogUnavailable | None = None
    rejected: tuple[FieldError, ...] = ()
    # Media could not confirm the photos when the defect was described.
    catalog_unavailable: bool = False


class DraftPhotos:
    def __init__(self, portal: Portal, uploader: PhotoUploader) -> None:
        self.portal = portal
        self.uploader = uploader

    async def describe_with_uploads(
        self,
        session: PortalSession,
        view: DraftView,
        line_id: str,
        comment: str,
        kept: Sequence[str],
        files: Sequence[PhotoFile],
    ) -> DefectDescribed:
        """Sends each new photo to media, then describes the line's defect with the kept and
        the new photos; a refused photo does not stop the others. `view` is the draft as the
        page read it (`Portal.summary`)."""
        photo_ids = list(kept)
        problem: PhotoRefused | PhotoCatalogUnavailable | None = None
        for file in files:
            try:
                uploaded = await self.uploader.upload(
                    session.merchant_id,
                    view.draft.id,
                    view.draft_token,
                    line_id,
                    file.filename,
                    file.content,
                    file.content_type,
                )
            except (PhotoRefused, PhotoCatalogUnavailable) as error:
                problem = problem or error
            else:
                photo_ids.append(uploaded.photo_id)
        kept_now = tuple(photo_ids)
        try:
            await self.portal.describe_defect(session, view.draft.id, line_id, comment, photo_ids)
        except DeclarationRejected as rejected:
            return DefectDescribed(kept_now, False, problem, tuple(rejected.errors))
        except PhotoCatalogUnavailable:
            return DefectDescribed(kept_now, False, problem, catalog_unavailable=True)
        return DefectDescribed(kept_now, True, problem)

    async def upload(
        self, session: PortalSession, view: DraftView, line_id: str, file: PhotoFile
    ) -> UploadedPhoto:
        """One photo, for the page's script (thumbnails with progress)."""
        return await self.uploader.upload(
            session.merchant_id,
            view.draft.id,
            view.draft_token,
            line_id,
            file.filename,
            file.content,
            file.content_type,
        )

    async def remove(self, session: PortalSession, view: DraftView, photo_id: str) -> None:
        """The customer takes back a photo before submitting."""
        await self.uploader.remove(session.merchant_id, view.draft.id, view.draft_token, photo_id)
