"""One policy for media's routes: who may call (a customer with the draft token of the draft
in the path, or another service with the internal token), how large an upload may be."""

from __future__ import annotations

from fastapi import Depends

from returns_contracts.service_kit.access import internal_caller
from returns_media.bootstrap import Container
from returns_media.domain.model import DraftRef


class Deps:
    """The policy of the routes, on the container's use cases."""

    def __init__(self, container: Container) -> None:
        settings = container.settings
        self.service = container.service
        # The dependency of internal routes: `X-Internal-Token` must be the internal token.
        self.internal = Depends(internal_caller(settings.internal_api_token))
        self.max_upload_bytes = settings.media_max_upload_bytes

    def draft(self, authorization: str | None, merchant_id: str, draft_id: str) -> DraftRef:
        """The draft the customer's bearer token proves, if it is the one in the path."""
        return self.service.authorize(authorization, merchant_id, draft_id)
