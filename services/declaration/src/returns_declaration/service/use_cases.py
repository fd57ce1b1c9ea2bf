"""The declaration service's use cases, one object per seam, built on the same ports:

- `merchants.Merchants`: settings, reasons (R1), back-office API keys, orders;
- `portal.Portal`: the customer's session, order, draft, steps and submit (R2-R8);
- `back_office.BackOffice`: list, record, label request (R11, R12, R14);
- `timeline.Timeline`: the record's timeline from the events other services publish (R14);
- `resolutions.Resolutions`: support's decision on a defective return (issue 15).

Every state change that other services must hear of is written with its events in one document
(the outbox) and `on_events` wakes the relay. `bootstrap.build_container` builds these for the
entrypoints; the use-case tests build them here on fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from returns_contracts.service_kit.clock import Clock, utc_now_millis
from returns_declaration.service.back_office import BackOffice
from returns_declaration.service.merchants import Merchants
from returns_declaration.service.portal import Portal, PortalLimits
from returns_declaration.service.ports import DeclarationStore, PhotoCatalog, RateLimiter
from returns_declaration.service.resolutions import Resolutions
from returns_declaration.service.timeline import Timeline


@dataclass(frozen=True)
class UseCases:
    merchants: Merchants
    portal: Portal
    back_office: BackOffice
    timeline: Timeline
    resolutions: Resolutions


def build_use_cases(
    store: DeclarationStore,
    photos: PhotoCatalog,
    limiter: RateLimiter,
    on_events: Callable[[], None],
    *,
    back_office_base_url: str,
    portal_token_secret: str,
    session_ttl: timedelta = timedelta(hours=2),
    draft_ttl: timedelta = timedelta(hours=24),
    limits: PortalLimits | None = None,
    clock: Clock = utc_now_millis,
    new_id: Callable[[], str] | None = None,
) -> UseCases:
    portal = Portal(
        store,
        photos,
        limiter,
        on_events,
        back_office_base_url=back_office_base_url,
        portal_token_secret=portal_token_secret,
        session_ttl=session_ttl,
        draft_ttl=draft_ttl,
        limits=limits or PortalLimits(),
        clock=clock,
    )
    if new_id is not None:
        portal.new_id = new_id
    return UseCases(
        merchants=Merchants(
            store, on_events, back_office_base_url=back_office_base_url, clock=clock
        ),
        portal=portal,
        back_office=BackOffice(store, photos, on_events),
        timeline=Timeline(store),
        resolutions=Resolutions(store, on_events, clock),
    )
