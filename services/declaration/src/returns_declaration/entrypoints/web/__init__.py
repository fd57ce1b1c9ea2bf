"""The HTML pages, server-rendered and working without JavaScript: the customer portal
(`portal`), the merchant back-office (`back_office`), the landing page (`landing`), and what they
share (`forms`: rendering, CSRF, where errors go). Their policy (callers, tenant guard, clock,
client address) is the API's too: entrypoints/deps.py.
"""

from __future__ import annotations

from fastapi import FastAPI

from returns_declaration.entrypoints.deps import Deps
from returns_declaration.entrypoints.web.back_office import back_office_pages
from returns_declaration.entrypoints.web.follow_up import follow_up_pages
from returns_declaration.entrypoints.web.forms import Pages
from returns_declaration.entrypoints.web.landing import LandingLinks, landing_page
from returns_declaration.entrypoints.web.portal import portal_pages
from returns_declaration.entrypoints.web.resolution import resolution_pages

__all__ = ["LandingLinks", "install_pages"]


def install_pages(app: FastAPI, deps: Deps, links: LandingLinks, docs_url: str) -> None:
    pages = Pages(deps)
    app.include_router(landing_page(pages, links, docs_url))
    app.include_router(portal_pages(pages))
    app.include_router(follow_up_pages(pages))
    app.include_router(back_office_pages(pages))
    app.include_router(resolution_pages(pages))
