"""One policy for the labels routes: who may read a label's status (the other services, with
the internal token), the clock every signed link is checked and issued against, and the
use cases behind them."""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends

from returns_contracts.service_kit.access import internal_caller
from returns_labels.bootstrap import Container


class Deps:
    """The policy of the routes, on the container's use cases."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.queries = container.use_cases.queries
        self.links = container.links
        # The dependency of internal routes: `X-Internal-Token` must be the internal token.
        self.internal = Depends(internal_caller(container.settings.internal_api_token))

    def now(self) -> datetime:
        """The injected clock, the same as the use cases'."""
        return self.container.now()
