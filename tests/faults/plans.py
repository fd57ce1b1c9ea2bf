"""How big a fault run is: the short form inside `make test`, the full one in `make test-faults`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    returns: int
    concurrency: int
    kill_store: bool
    scale_out_returns: int
    photo_size: tuple[int, int]
    journey_seconds: float
    """How long the portal keeps retrying one journey before it gives up."""
    phase_timeout: float
    flow_timeout: float
    settle_timeout: float


FULL_PLAN = Plan(
    returns=500,
    concurrency=8,
    kill_store=True,
    scale_out_returns=150,
    photo_size=(1600, 1200),
    journey_seconds=300.0,
    phase_timeout=420.0,
    flow_timeout=180.0,
    settle_timeout=300.0,
)
SHORT_PLAN = Plan(
    returns=60,
    concurrency=4,
    # Killing the store under load can leave declaration hanging on its MongoDB client (a
    # known defect being fixed, issue 13 item 5): only the full suite kills it for now.
    kill_store=False,
    scale_out_returns=30,
    photo_size=(800, 600),
    journey_seconds=180.0,
    phase_timeout=240.0,
    flow_timeout=120.0,
    settle_timeout=180.0,
)
