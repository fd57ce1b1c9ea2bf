"""What the HTTP API reads: where a return's label stands, and a live label's PDF."""

from __future__ import annotations

from returns_labels.domain.model import TrackedReturn
from returns_labels.service.ports import LabelFiles, ReturnStore


class LabelQueries:
    def __init__(self, *, returns: ReturnStore, files: LabelFiles) -> None:
        self.returns = returns
        self.files = files

    async def label_status(self, merchant_id: str, return_id: str) -> TrackedReturn | None:
        """The return, if it exists and belongs to `merchant_id`; None otherwise (R12)."""
        tracked = await self.returns.get(return_id)
        if tracked is None or not tracked.visible_to(merchant_id):
            return None
        return tracked

    async def live_label_pdf(self, label_id: str) -> bytes | None:
        """The PDF of a live label; None for an unknown or voided one."""
        return_id = await self.returns.return_of_label(label_id)
        if return_id is None:
            return None
        tracked = await self.returns.get(return_id)
        if tracked is None or tracked.label is None or tracked.label.label_id != label_id:
            return None
        return await self.files.get(tracked.label.object_key)
