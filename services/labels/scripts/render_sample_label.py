"""Write the sample label shown in the README: `python render_sample_label.py docs/labels`.

The same code path as the service (local carrier), with the contracts' example return and
merchant, rendered to PDF and to a 200 dpi PNG.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2

from returns_contracts.examples import merchant_updated, return_submitted
from returns_labels.adapters.local_carrier import LocalCarrier
from returns_labels.domain.model import Contact, LabelContent, label_id_for


def main(target: Path) -> None:
    event = return_submitted()
    merchant = merchant_updated().payload
    assert merchant.return_address is not None
    customer = event.payload.customer
    content = LabelContent(
        label_id=label_id_for(event.payload.return_id, 1),
        return_id=event.payload.return_id,
        order_number=event.payload.order_number,
        merchant_name=merchant.name,
        sender=Contact(name=customer.name, email=customer.email, address=customer.address),
        recipient=merchant.return_address,
        issued_at=datetime(2026, 3, 2, 9, 31, tzinfo=UTC),
    )
    printed = asyncio.run(LocalCarrier().create_label(content))
    target.mkdir(parents=True, exist_ok=True)
    (target / "sample-label.pdf").write_bytes(printed.pdf)
    document = pypdfium2.PdfDocument(printed.pdf)
    try:
        image = document[0].render(scale=200 / 72).to_pil().convert("L")
    finally:
        document.close()
    image.save(target / "sample-label.png", optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/labels"))
