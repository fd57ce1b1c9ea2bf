"""The labels service's use cases, one object per concern, built on the same ports:

- `making.LabelMaker`: print, store, make live and announce a label (at most one live label per
  return, whatever the redeliveries), or reject a request;
- `automatic.AutomaticLabels`: the copies of returns and merchants, and a classic return's
  label at once on ReturnSubmitted or on the MerchantUpdated that brings its address (R10);
- `requests.LabelRequests`: a merchant's LabelRequested (R11), and the requests that wait for
  their return or merchant (served on arrival or by the sweep, rejected at their deadline);
- `queries.LabelQueries`: what the HTTP API reads.

`bootstrap.build_container` builds these for the entrypoints; the use-case tests build them here
on fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from returns_contracts.service_kit.clock import Clock, utc_now
from returns_contracts.service_kit.publisher import EventPublisher
from returns_labels.service.automatic import AutomaticLabels
from returns_labels.service.links import LabelLinks
from returns_labels.service.making import LabelMaker
from returns_labels.service.ports import (
    Carrier,
    LabelFiles,
    MerchantStore,
    ReturnStore,
    WaitingStore,
)
from returns_labels.service.queries import LabelQueries
from returns_labels.service.requests import LabelRequests


@dataclass(frozen=True)
class UseCases:
    maker: LabelMaker
    automatic: AutomaticLabels
    requests: LabelRequests
    queries: LabelQueries


def build_use_cases(
    *,
    returns: ReturnStore,
    merchants: MerchantStore,
    waiting: WaitingStore,
    carrier: Carrier,
    files: LabelFiles,
    publisher: EventPublisher,
    links: LabelLinks,
    request_wait: timedelta = timedelta(seconds=30),
    clock: Clock = utc_now,
) -> UseCases:
    maker = LabelMaker(
        returns=returns,
        carrier=carrier,
        files=files,
        publisher=publisher,
        links=links,
        clock=clock,
    )
    requests = LabelRequests(
        maker=maker,
        returns=returns,
        merchants=merchants,
        waiting=waiting,
        request_wait=request_wait,
        clock=clock,
    )
    return UseCases(
        maker=maker,
        automatic=AutomaticLabels(
            maker=maker,
            requests=requests,
            returns=returns,
            merchants=merchants,
            waiting=waiting,
            clock=clock,
        ),
        requests=requests,
        queries=LabelQueries(returns=returns, files=files),
    )
