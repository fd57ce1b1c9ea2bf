"""The landing page: where a newcomer finds the demo portal, the back-office and the docs.

No `from __future__ import annotations`: FastAPI must see the route parameter types.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from returns_contracts.service_kit.access import PUBLIC
from returns_declaration.entrypoints.web.forms import Pages


@dataclass(frozen=True)
class LandingLinks:
    demo_merchant_id: str
    demo_order: str
    demo_email: str
    demo_user: str
    mailpit_url: str | None


def landing_page(pages: Pages, links: LandingLinks, docs_url: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", openapi_extra=PUBLIC)
    async def landing(request: Request) -> Response:
        portal = f"/portal/{links.demo_merchant_id}?" + urlencode(
            {"order": links.demo_order, "email": links.demo_email}
        )
        return pages.render(
            request,
            "landing.html",
            "en",
            portal_url=portal,
            links=links,
            docs_url=docs_url,
        )

    return router
