"""Turn domain facts into the contract messages other services consume."""

from __future__ import annotations

from returns_contracts import (
    Actor as ContractActor,
)
from returns_contracts import (
    Address as ContractAddress,
)
from returns_contracts import (
    Branding as ContractBranding,
)
from returns_contracts import (
    Customer as ContractCustomer,
)
from returns_contracts import (
    LabelRequested,
    LabelRequestedPayload,
    MerchantUpdated,
    MerchantUpdatedPayload,
    ReturnedItem,
    ReturnSubmitted,
    ReturnSubmittedPayload,
)
from returns_contracts import (
    Reason as ContractReason,
)
from returns_declaration.domain.model import Actor, Address, Merchant, Return


def _address(address: Address | None) -> ContractAddress | None:
    return None if address is None else ContractAddress.model_validate(address.model_dump())


def return_submitted(
    declared: Return,
    back_office_url: str,
    correlation_id: str,
    producer: str,
    status_url: str | None = None,
) -> ReturnSubmitted:
    customer = declared.customer
    return ReturnSubmitted(
        merchant_id=declared.merchant_id,
        correlation_id=correlation_id,
        producer=producer,
        occurred_at=declared.submitted_at,
        payload=ReturnSubmittedPayload(
            return_id=declared.id,
            order_number=declared.order_number,
            order_date=declared.ordered_on,
            submitted_at=declared.submitted_at,
            locale=declared.locale,
            defective=declared.defective,
            customer=ContractCustomer(
                name=customer.name,
                email=customer.email,
                phone=customer.phone,
                address=_address(customer.address),
            ),
            items=[
                ReturnedItem(
                    line_id=line.line_id,
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    reason_code=line.reason_code,
                    reason_label=line.reason_label,
                    defective=line.defective,
                    return_type=line.return_type,
                    comment=line.comment,
                    media_ids=list(line.media_ids),
                )
                for line in declared.lines
            ],
            back_office_url=back_office_url,
            split_mixed=declared.split_mixed,
            status_url=status_url,
        ),
    )


def merchant_updated(
    merchant: Merchant, back_office_base_url: str, correlation_id: str, producer: str
) -> MerchantUpdated:
    return MerchantUpdated(
        merchant_id=merchant.id,
        correlation_id=correlation_id,
        producer=producer,
        payload=MerchantUpdatedPayload(
            revision=merchant.revision,
            name=merchant.name,
            locale=merchant.locale,
            customer_service_email=merchant.customer_service_email,
            return_window_days=merchant.return_window_days,
            return_types=list(merchant.return_types),
            reasons=[
                ContractReason.model_validate(reason.model_dump()) for reason in merchant.reasons
            ],
            return_address=_address(merchant.return_address),
            branding=None
            if merchant.branding is None
            else ContractBranding.model_validate(merchant.branding.model_dump()),
            back_office_base_url=back_office_base_url,
        ),
    )


def label_requested(
    merchant_id: str,
    return_id: str,
    actor: Actor,
    regenerate: bool,
    correlation_id: str,
    producer: str,
) -> LabelRequested:
    return LabelRequested(
        merchant_id=merchant_id,
        correlation_id=correlation_id,
        producer=producer,
        payload=LabelRequestedPayload(
            return_id=return_id,
            requested_by=ContractActor.model_validate(actor.model_dump()),
            regenerate=regenerate,
        ),
    )
