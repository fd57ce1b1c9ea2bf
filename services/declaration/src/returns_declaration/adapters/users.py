"""MongoDB storage of the merchants' back-office accounts."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from returns_declaration.adapters.outbox import Document
from returns_declaration.service.ports import MerchantUser


class MongoUserStore:
    """Back-office accounts, one document per user under its e-mail as `_id`."""

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.collection = database["merchant_users"]

    async def save_user(self, user: MerchantUser) -> None:
        await self.collection.replace_one(
            {"_id": user.email},
            {
                "merchant_id": user.merchant_id,
                "display_name": user.display_name,
                "password_hash": user.password_hash,
                "salt": user.salt,
            },
            upsert=True,
        )

    async def get_user(self, email: str) -> MerchantUser | None:
        document = await self.collection.find_one({"_id": email})
        if document is None:
            return None
        return MerchantUser(
            email=str(document["_id"]),
            merchant_id=str(document["merchant_id"]),
            display_name=document.get("display_name"),
            password_hash=str(document["password_hash"]),
            salt=str(document["salt"]),
        )
