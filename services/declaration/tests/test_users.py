"""Back-office logins: salted scrypt hashes, one answer for a wrong e-mail or password."""

from __future__ import annotations

import pytest

from returns_declaration.service.errors import WeakPassword
from returns_declaration.service.ports import MerchantUser
from returns_declaration.service.users import MerchantUsers


class InMemoryUsers:
    def __init__(self) -> None:
        self.users: dict[str, MerchantUser] = {}

    async def save_user(self, user: MerchantUser) -> None:
        self.users[user.email] = user

    async def get_user(self, email: str) -> MerchantUser | None:
        return self.users.get(email)


async def test_a_password_is_kept_as_a_salted_hash_and_checked() -> None:
    store = InMemoryUsers()
    users = MerchantUsers(store)
    await users.set_user("shop", "Julie@Shop.example", "correct horse battery", "Julie")
    await users.set_user("shop", "marc@shop.example", "correct horse battery", None)

    julie, marc = store.users["julie@shop.example"], store.users["marc@shop.example"]
    assert "correct horse" not in julie.password_hash
    assert julie.salt != marc.salt
    assert julie.password_hash != marc.password_hash

    signed_in = await users.authenticate(" JULIE@shop.example ", "correct horse battery")
    assert signed_in is not None and signed_in.merchant_id == "shop"
    assert await users.authenticate("julie@shop.example", "correct horse battery!") is None
    assert await users.authenticate("nobody@shop.example", "correct horse battery") is None


async def test_a_short_password_is_refused() -> None:
    with pytest.raises(WeakPassword):
        await MerchantUsers(InMemoryUsers()).set_user("shop", "a@shop.example", "short", None)


async def test_a_sign_in_longer_than_any_account_is_refused_without_a_store_lookup() -> None:
    store = InMemoryUsers()
    users = MerchantUsers(store)
    await users.set_user("shop", "julie@shop.example", "correct horse battery", None)
    looked_up: list[str] = []
    original = store.get_user

    async def spy(email: str) -> MerchantUser | None:
        looked_up.append(email)
        return await original(email)

    store.get_user = spy  # type: ignore[method-assign]
    assert await users.authenticate("julie@shop.example", "p" * 100_000) is None
    assert await users.authenticate("j" * 400 + "@shop.example", "correct horse battery") is None
    assert looked_up == []
    with pytest.raises(WeakPassword):
        await users.set_user("shop", "a@shop.example", "long " * 50, None)
