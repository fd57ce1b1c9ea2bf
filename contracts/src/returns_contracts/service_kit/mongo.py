"""MongoDB writes that more than one service makes the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, WriteError

# What a driver sends to keep its connections (handshakes, monitoring, session ends), not work
# the code asked for: left out wherever store commands are counted.
CONNECTION_UPKEEP_COMMANDS = frozenset(
    {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo"}
)
Ask = TypeVar("Ask")
Answer = TypeVar("Answer")
# The codes MongoDB (and FerretDB) give a write whose unique key is taken.
_DUPLICATE_KEY_CODES = frozenset({11000, 11001, 12582})


async def save_if_newer_revision(
    collection: AsyncCollection[dict[str, Any]],
    key: str,
    revision: int,
    fields: Mapping[str, Any],
) -> bool:
    """Keep only the newest revision of document `key`: write `fields` (and `revision`) unless
    the stored revision is the same or newer. True when written.

    One atomic write, no read before it: the filter matches only an older revision (or nothing,
    and then the upsert inserts); when a same-or-newer revision is stored the upsert collides on
    `_id`, which means "ignore". So a redelivered or late snapshot never undoes a newer one.
    """
    try:
        await collection.update_one(
            {"_id": key, "revision": {"$lt": revision}},
            {"$set": {**fields, "revision": revision}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False
    return True


class Inserts(Protocol):
    """Where single documents are inserted: a collection, or its `GroupedInserts`."""

    async def insert_one(self, document: dict[str, Any]) -> object: ...


class _Grouped(Generic[Ask, Answer]):
    """Asks of one kind to one collection: the first goes at once, in its own command, and holds
    the turn; those that arrive while a command is out wait for it and then go together, in one
    command (at most `most` asks). Nothing waits on a timer, so a lone ask is not delayed, and
    an ask is never sent before its caller made it: a read still sees the caller's own writes.

    Under a burst of submits every step of a submit meets the same steps of the others: one
    command per group instead of one per submit, for the driver's CPU and the store's alike.
    """

    def __init__(self, collection: AsyncCollection[dict[str, Any]], most: int = 256) -> None:
        self.collection = collection
        self._most = most
        self._waiting: list[tuple[Ask, asyncio.Future[Answer]]] = []
        self._out = False
        # Held so that the loop does not drop the task sending a group while it runs.
        self._sender: asyncio.Task[None] | None = None

    async def _ask(self, ask: Ask) -> Answer:
        if not self._out:
            self._out = True
            try:
                return await self._send_alone(ask)
            finally:
                self._pass_turn()
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((ask, answer))
        return await answer

    def _pass_turn(self) -> None:
        self._out = bool(self._waiting)
        self._sender = asyncio.create_task(self._send_waiting()) if self._out else None

    async def _send_waiting(self) -> None:
        group, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
        try:
            answers = await self._send_group([ask for ask, _ in group])
        except asyncio.CancelledError:
            for _, answer in group:
                answer.cancel()
            raise
        except Exception as error:  # every caller sees what its own command would have
            answers = [error] * len(group)
        finally:
            self._pass_turn()
        for (_, answer), outcome in zip(group, answers, strict=True):
            if answer.done():  # its caller was cancelled
                continue
            if isinstance(outcome, Exception):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)

    async def _send_alone(self, ask: Ask) -> Answer:
        raise NotImplementedError

    async def _send_group(self, asks: list[Ask]) -> Sequence[Answer | Exception]:
        raise NotImplementedError


class GroupedInserts(_Grouped[dict[str, Any], None]):
    """Single-document inserts into one collection, grouped as `_Grouped` says.

    Each `insert_one` behaves as the collection's would: it returns once its document is stored
    and raises `DuplicateKeyError` when its `_id` is taken, whatever happened to the others. A
    group is one unordered `insert` and, on the embedded store, one SQLite transaction; each
    document is still inserted atomically on its own.
    """

    async def insert_one(self, document: dict[str, Any]) -> None:
        await self._ask(document)

    async def _send_alone(self, ask: dict[str, Any]) -> None:
        await self.collection.insert_one(ask)

    async def _send_group(self, asks: list[dict[str, Any]]) -> Sequence[Exception | None]:
        try:
            await self.collection.insert_many(asks, ordered=False)
        except BulkWriteError as error:
            return _outcomes(error, len(asks))
        return [None] * len(asks)


class GroupedReads(_Grouped[tuple[str, ...], list[dict[str, Any]]]):
    """Reads by `_id` from one collection, grouped as `_Grouped` says: a group is one
    `_id $in` over every `_id` its callers asked for, and each caller gets the documents of its
    own `_id`s. The store pushes `_id` equality and `_id $in` down to its index alike."""

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        most: int = 64,
        projection: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(collection, most)
        self._projection = projection

    async def find_one(self, document_id: str) -> dict[str, Any] | None:
        found = await self._ask((document_id,))
        return found[0] if found else None

    async def find_many(self, document_ids: Sequence[str]) -> list[dict[str, Any]]:
        return await self._ask(tuple(document_ids))

    async def _find(self, document_ids: Sequence[str]) -> list[dict[str, Any]]:
        wanted: Any = document_ids[0] if len(document_ids) == 1 else {"$in": list(document_ids)}
        # One reply, closed by the limit (each `_id` matches once at most): a getMore under
        # load could meet a cursor FerretDB had already dropped.
        count = max(len(document_ids), 1)
        return await self.collection.find(
            {"_id": wanted}, self._projection, limit=count, batch_size=count
        ).to_list(None)

    async def _send_alone(self, ask: tuple[str, ...]) -> list[dict[str, Any]]:
        return await self._find(ask) if ask else []

    async def _send_group(
        self, asks: list[tuple[str, ...]]
    ) -> Sequence[list[dict[str, Any]] | Exception]:
        everyone = list(dict.fromkeys(document_id for ask in asks for document_id in ask))
        by_id = {document["_id"]: document for document in await self._find(everyone)}
        return [[by_id[key] for key in ask if key in by_id] for ask in asks]


class GroupedUpdates(_Grouped[tuple[dict[str, Any], dict[str, Any]], None]):
    """Single-document updates (filter, update) on one collection whose callers need no count,
    grouped as `_Grouped` says: a group is one unordered `update` command of one statement per
    caller, each still an atomic single-document update. A refused statement fails its own
    caller; FerretDB v1 also stops the command there and answers without a count (PyMongo
    raises KeyError), and then every caller of the group gets that error: a caller may be told
    of a failure of an update that landed, never of a success of one that did not."""

    async def update_one(self, where: dict[str, Any], update: dict[str, Any]) -> None:
        await self._ask((where, update))

    async def _send_alone(self, ask: tuple[dict[str, Any], dict[str, Any]]) -> None:
        await self.collection.update_one(*ask)

    async def _send_group(
        self, asks: list[tuple[dict[str, Any], dict[str, Any]]]
    ) -> Sequence[Exception | None]:
        try:
            await self.collection.bulk_write(
                [UpdateOne(where, update) for where, update in asks], ordered=False
            )
        except BulkWriteError as error:
            return _outcomes(error, len(asks))
        return [None] * len(asks)


class GroupedGuardedUpdates(_Grouped[tuple[dict[str, Any], dict[str, Any]], bool | None]):
    """Guarded single-document updates whose callers need to know whether theirs matched,
    grouped as `_Grouped` says. Alone, an update answers exactly (True: it matched). A group
    answers True to every caller when every statement matched, the usual case, where each guard
    holds; otherwise the store's one count cannot say whose did not, and each caller gets None:
    it must send its update again alone. So only for updates whose guard makes a second send
    harmless (one that landed the first time then matches nothing)."""

    async def update_one(self, where: dict[str, Any], update: dict[str, Any]) -> bool | None:
        return await self._ask((where, update))

    async def _send_alone(self, ask: tuple[dict[str, Any], dict[str, Any]]) -> bool | None:
        result = await self.collection.update_one(*ask)
        return result.matched_count == 1

    async def _send_group(
        self, asks: list[tuple[dict[str, Any], dict[str, Any]]]
    ) -> Sequence[bool | Exception | None]:
        try:
            result = await self.collection.bulk_write(
                [UpdateOne(where, update) for where, update in asks], ordered=False
            )
        except BulkWriteError as error:
            # Those not refused: matched or not, nobody can tell.
            return _outcomes(error, len(asks))
        return [True if result.matched_count == len(asks) else None] * len(asks)


class GroupedDeletes(_Grouped[str, None]):
    """Deletes by `_id` from one collection, grouped as `_Grouped` says: a group is one
    `delete` of `_id $in` its callers' `_id`s. For deletes whose caller needs no count."""

    async def delete_one(self, document_id: str) -> None:
        await self._ask(document_id)

    async def _send_alone(self, ask: str) -> None:
        await self.collection.delete_one({"_id": ask})

    async def _send_group(self, asks: list[str]) -> Sequence[Exception | None]:
        await self.collection.delete_many({"_id": {"$in": list(dict.fromkeys(asks))}})
        return [None] * len(asks)


def _outcomes(error: BulkWriteError, count: int) -> list[Exception | None]:
    """Per statement of an unordered bulk write: the error of each refused one, None for the
    others. A write concern error leaves every statement's fate unknown: it is everyone's."""
    if error.details.get("writeConcernErrors"):
        raise error
    refused = {int(item["index"]): item for item in error.details.get("writeErrors", [])}
    return [_write_error(refused[index]) if index in refused else None for index in range(count)]


def _write_error(item: Mapping[str, Any]) -> OperationFailure:
    message, code = str(item.get("errmsg", "write refused")), int(item.get("code", 0))
    if code in _DUPLICATE_KEY_CODES:
        return DuplicateKeyError(message, code, dict(item))
    return WriteError(message, code, dict(item))
