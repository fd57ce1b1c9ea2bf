"""Back-office user accounts: one e-mail and password per person, each tied to one merchant.

Passwords are kept as scrypt hashes with a random salt per account; a wrong e-mail and a wrong
password answer the same, after the same work.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from returns_contracts.service_kit.bounds import EMAIL_MAX
from returns_declaration.service.errors import WeakPassword
from returns_declaration.service.ports import MerchantUser, UserStore

# scrypt cost: about 16 MB and tens of milliseconds per check, enough to slow guessing.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_MIN_PASSWORD = 10
MAX_PASSWORD = 200


def _hash(password: str, salt: bytes) -> str:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    ).hex()


def normalise_email(email: str) -> str:
    return email.strip().lower()


# Checked when the e-mail is unknown, so both failures cost one scrypt.
_DUMMY_SALT = secrets.token_bytes(16)


class MerchantUsers:
    def __init__(self, store: UserStore) -> None:
        self.store = store

    async def set_user(
        self, merchant_id: str, email: str, password: str, display_name: str | None
    ) -> MerchantUser:
        """Create the account or replace its password (the operator does this)."""
        if not _MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise WeakPassword(f"The password needs {_MIN_PASSWORD} to {MAX_PASSWORD} characters.")
        salt = secrets.token_bytes(16)
        user = MerchantUser(
            email=normalise_email(email),
            merchant_id=merchant_id,
            display_name=display_name,
            password_hash=_hash(password, salt),
            salt=salt.hex(),
        )
        await self.store.save_user(user)
        return user

    async def authenticate(self, email: str, password: str) -> MerchantUser | None:
        # Longer than any account's: refused like a wrong pair, after the same work.
        if len(email) > EMAIL_MAX or len(password) > MAX_PASSWORD:
            _hash(password[:MAX_PASSWORD], _DUMMY_SALT)
            return None
        user = await self.store.get_user(normalise_email(email))
        if user is None:
            _hash(password, _DUMMY_SALT)
            return None
        given = _hash(password, bytes.fromhex(user.salt))
        return user if hmac.compare_digest(given, user.password_hash) else None

    async def user(self, email: str) -> MerchantUser | None:
        return await self.store.get_user(normalise_email(email))
