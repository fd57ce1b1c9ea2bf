"""Merchants (R1): their settings and reasons, the back-office API keys, and the orders the
shops send. Every change of a merchant is written with its MerchantUpdated in one document (the
outbox), and `on_events` wakes the relay."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

from returns_contracts.service_kit.clock import Clock, utc_now_millis
from returns_declaration.domain import rules
from returns_declaration.domain.model import Merchant, MerchantSettings, Order, Reason
from returns_declaration.service.errors import NotFound, RevisionConflict, UnknownMerchant
from returns_declaration.service.events import merchant_updated
from returns_declaration.service.ports import ApiKey, DeclarationStore, MerchantStore

PRODUCER = "declaration"
API_KEY_PREFIX = "rbk_"
_MERCHANT_WRITE_ATTEMPTS = 5


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def known_merchant(store: MerchantStore, merchant_id: str) -> Merchant:
    """The merchant, or UnknownMerchant: every use case that names a merchant starts here."""
    merchant = await store.get_merchant(merchant_id)
    if merchant is None:
        raise UnknownMerchant(merchant_id)
    return merchant


class Merchants:
    def __init__(
        self,
        store: DeclarationStore,
        on_events: Callable[[], None],
        *,
        back_office_base_url: str,
        clock: Clock = utc_now_millis,
    ) -> None:
        self.store = store
        self.on_events = on_events
        self.back_office_base_url = back_office_base_url.rstrip("/")
        self.clock = clock

    async def merchant(self, merchant_id: str) -> Merchant:
        return await known_merchant(self.store, merchant_id)

    async def configure_merchant(
        self, merchant_id: str, settings: MerchantSettings, correlation_id: str
    ) -> Merchant:
        """Create the merchant or replace its settings; its reasons stay as they are."""

        def change(current: Merchant | None) -> Merchant:
            reasons = () if current is None else current.reasons
            return Merchant(id=merchant_id, reasons=reasons, **settings.model_dump())

        return await self._change_merchant(merchant_id, change, correlation_id, create=True)

    async def put_reason(self, merchant_id: str, reason: Reason, correlation_id: str) -> Merchant:
        def change(current: Merchant | None) -> Merchant:
            assert current is not None
            return rules.put_reason(current, reason)

        return await self._change_merchant(merchant_id, change, correlation_id)

    async def retire_reason(self, merchant_id: str, code: str, correlation_id: str) -> Merchant:
        def change(current: Merchant | None) -> Merchant:
            assert current is not None
            return rules.retire_reason(current, code)

        return await self._change_merchant(merchant_id, change, correlation_id)

    async def _change_merchant(
        self,
        merchant_id: str,
        change: Callable[[Merchant | None], Merchant],
        correlation_id: str,
        create: bool = False,
    ) -> Merchant:
        # Optimistic concurrency: two changes at once must not lose one another's edit, and the
        # revisions in MerchantUpdated must increase one by one.
        for _ in range(_MERCHANT_WRITE_ATTEMPTS):
            current = await self.store.get_merchant(merchant_id)
            if current is None and not create:
                raise UnknownMerchant(merchant_id)
            changed = change(current)
            revision = 1 if current is None else current.revision + 1
            changed = changed.model_copy(update={"revision": revision})
            event = merchant_updated(changed, self.back_office_base_url, correlation_id, PRODUCER)
            try:
                await self.store.save_merchant(
                    changed, [event], None if current is None else current.revision
                )
            except RevisionConflict:
                continue
            self.on_events()
            return changed
        raise RevisionConflict(merchant_id)

    async def issue_api_key(self, merchant_id: str) -> tuple[ApiKey, str]:
        """A new back-office key; the secret is returned once and only its hash is kept."""
        await self.merchant(merchant_id)
        secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(key_id=secrets.token_hex(8), merchant_id=merchant_id, created_at=self.clock())
        await self.store.add_api_key(key, hash_api_key(secret))
        return key, secret

    async def revoke_api_key(self, merchant_id: str, key_id: str) -> None:
        if not await self.store.revoke_api_key(merchant_id, key_id):
            raise NotFound("api_key")

    async def authenticate_api_key(self, secret: str) -> ApiKey | None:
        key = await self.store.find_api_key(hash_api_key(secret))
        return None if key is None or key.revoked else key

    async def save_order(self, order: Order) -> None:
        await self.merchant(order.merchant_id)
        await self.store.save_order(order)
