"""The HTTP API of media (docs/service-interfaces.md, "Media")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from returns_contracts.service_kit.access import Access, access
from returns_contracts.service_kit.bounds import ID_PATTERN, TOKEN_MAX, IdText, link_parts_fit
from returns_contracts.service_kit.errors import error_response
from returns_contracts.service_kit.photos import PHOTO_LOOKUP_BATCH
from returns_media.domain.errors import MediaError, NotFound, TooManyUploads
from returns_media.domain.model import VARIANTS, Variant
from returns_media.entrypoints.deps import Deps
from returns_media.entrypoints.upload import receive_file
from returns_media.service.links import LINK_GONE
from returns_media.service.use_cases import PhotoView, ReceivedFile

# Every path, query and header parameter has a bound (service_kit.bounds): out of it, a 422.
Id = Annotated[str, Path(pattern=ID_PATTERN)]
# The draft token; documented by the route's security scheme (draftToken), not as a parameter.
Bearer = Annotated[str | None, Header(max_length=TOKEN_MAX, include_in_schema=False)]


class PhotoAnswer(BaseModel):
    photo_id: str
    merchant_id: str
    draft_id: str
    line_id: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    sha256: str
    url: str
    thumbnail_url: str
    expires_at: datetime

    @classmethod
    def of(cls, view: PhotoView) -> PhotoAnswer:
        photo = view.photo
        return cls(
            photo_id=photo.photo_id,
            merchant_id=photo.merchant_id,
            draft_id=photo.draft_id,
            line_id=photo.line_id,
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            size_bytes=photo.size_bytes,
            sha256=photo.sha256,
            url=view.links.url,
            thumbnail_url=view.links.thumbnail_url,
            expires_at=view.links.expires_at,
        )


class LookupRequest(BaseModel):
    merchant_id: IdText
    photo_ids: list[IdText] = Field(max_length=PHOTO_LOOKUP_BATCH)


class LookupAnswer(BaseModel):
    photos: list[PhotoAnswer]


class ErasureAnswer(BaseModel):
    merchant_id: str
    photos_deleted: int


def install_error_handlers(app: FastAPI) -> None:
    """The use cases' refusals in the one error shape, with the headers their status wants."""

    @app.exception_handler(MediaError)
    async def media_error(request: Request, error: MediaError) -> JSONResponse:
        response = error_response(error.status_code, error.code, error.message)
        if isinstance(error, TooManyUploads):
            response.headers["Retry-After"] = str(error.retry_after_seconds)
        if error.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response


def media_router(deps: Deps) -> APIRouter:
    router = APIRouter()
    service = deps.service
    internal = deps.internal
    max_upload_bytes = deps.max_upload_bytes

    @router.post(
        "/v1/merchants/{merchant_id}/drafts/{draft_id}/photos",
        status_code=201,
        response_model=PhotoAnswer,
        tags=["photos"],
        summary="Upload one photo of a returned item (multipart field `file`)",
        openapi_extra={
            **access(Access.DRAFT_TOKEN),
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            },
        },
    )
    async def upload_photo(
        request: Request,
        merchant_id: Id,
        draft_id: Id,
        line_id: Annotated[str, Query(pattern=ID_PATTERN)],
        authorization: Bearer = None,
    ) -> PhotoAnswer:
        ref = deps.draft(authorization, merchant_id, draft_id)
        opened: list[ReceivedFile] = []

        async def receive() -> ReceivedFile:
            received = await receive_file(request, field="file", max_bytes=max_upload_bytes)
            opened.append(received)
            return received

        try:
            view = await service.upload(ref, line_id, receive)
        finally:
            for received in opened:
                received.file.close()
        return PhotoAnswer.of(view)

    @router.delete(
        "/v1/merchants/{merchant_id}/drafts/{draft_id}/photos/{photo_id}",
        status_code=204,
        tags=["photos"],
        summary="Remove a photo from a draft before it is submitted",
        openapi_extra=access(Access.DRAFT_TOKEN),
    )
    async def remove_photo(
        merchant_id: Id,
        draft_id: Id,
        photo_id: Id,
        authorization: Bearer = None,
    ) -> Response:
        ref = deps.draft(authorization, merchant_id, draft_id)
        await service.remove(ref, photo_id)
        return Response(status_code=204)

    @router.get(
        "/p/{photo_id}/{variant}",
        tags=["links"],
        summary="The image behind a signed link, until it expires",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}},
        openapi_extra=access(Access.SIGNED_LINK),
    )
    async def open_link(photo_id: str, variant: str, exp: str = "", sig: str = "") -> Response:
        # Whatever is wrong with a link (shape, length, signature, expiry, photo), the answer is
        # 404; only what this service signed gets past the signature to the store.
        if variant not in VARIANTS or not link_parts_fit(photo_id, exp, sig):
            raise NotFound(LINK_GONE)
        chosen: Variant = "full" if variant == "full" else "thumb"
        data, photo = await service.open(photo_id, chosen, exp, sig)
        return Response(
            content=data,
            media_type=photo.content_type,
            headers={
                "Cache-Control": "private, max-age=3600",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'inline; filename="{photo_id}-{variant}.jpg"',
            },
        )

    @router.post(
        "/internal/v1/photos/lookup",
        response_model=LookupAnswer,
        tags=["internal"],
        summary="The known photos of a merchant among the given ids, with fresh links",
        dependencies=[internal],
        openapi_extra=access(Access.INTERNAL_TOKEN),
    )
    async def lookup(body: LookupRequest) -> LookupAnswer:
        views = await service.lookup(body.merchant_id, body.photo_ids)
        return LookupAnswer(photos=[PhotoAnswer.of(view) for view in views])

    @router.delete(
        "/internal/v1/merchants/{merchant_id}/photos",
        response_model=ErasureAnswer,
        tags=["internal"],
        summary="Erase every photo of a merchant (GDPR)",
        dependencies=[internal],
        openapi_extra=access(Access.INTERNAL_TOKEN),
    )
    async def erase_merchant(merchant_id: Id) -> ErasureAnswer:
        deleted = await service.forget_merchant(merchant_id)
        return ErasureAnswer(merchant_id=merchant_id, photos_deleted=deleted)

    return router
