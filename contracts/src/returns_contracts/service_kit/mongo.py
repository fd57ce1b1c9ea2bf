"""MongoDB writes that more than one service makes the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, WriteError

# What a driver sends to keep its connections (handshakes, monitoring, session ends), not work
# the code asked for: left out wherever store commands are counted.
CONNECTION_UPKEEP_COMMANDS = frozenset(
    {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo"}
)
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


class GroupedInserts:
    """Single-document inserts into one collection, sent together while an earlier one is out.

    Each `insert_one` behaves as the collection's would: it returns once its document is stored
    and raises `DuplicateKeyError` when its `_id` is taken, whatever happened to the others.
    Alone, a document goes at once in its own command; those that arrive while a command is out
    wait for it and then go in one unordered `insert` (at most `most` documents). Under a burst
    of submits every write of a submit is an insert in one of a few collections: one command and,
    on the embedded store, one SQLite transaction per group instead of one per document, for the
    driver's and the store's CPU alike. Each document is still inserted atomically on its own;
    nothing waits on a timer, so a lone write is not delayed.
    """

    def __init__(self, collection: AsyncCollection[dict[str, Any]], most: int = 256) -> None:
        self.collection = collection
        self._most = most
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._out = False
        # Held so that the loop does not drop the task sending a group while it runs.
        self._sender: asyncio.Task[None] | None = None

    async def insert_one(self, document: dict[str, Any]) -> None:
        if not self._out:
            # Nothing out: this one goes now, as a plain insert would, and holds the turn.
            self._out = True
            try:
                await self.collection.insert_one(document)
            finally:
                self._pass_turn()
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((document, done))
        await done

    def _pass_turn(self) -> None:
        self._out = bool(self._waiting)
        self._sender = asyncio.create_task(self._send_waiting()) if self._out else None

    async def _send_waiting(self) -> None:
        group, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
        try:
            await self._send(group)
        finally:
            self._pass_turn()

    async def _send(self, group: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        refused: dict[int, Mapping[str, Any]] = {}
        failure: BaseException | None = None
        try:
            await self.collection.insert_many([document for document, _ in group], ordered=False)
        except BulkWriteError as error:
            refused = {int(item["index"]): item for item in error.details.get("writeErrors", [])}
            if error.details.get("writeConcernErrors"):
                failure = error
        except BaseException as error:  # every caller sees what its own insert would have
            failure = error
        for index, (_, done) in enumerate(group):
            if done.done():  # its caller was cancelled
                continue
            if failure is not None:
                done.set_exception(failure)
            elif index in refused:
                done.set_exception(_write_error(refused[index]))
            else:
                done.set_result(None)


def _write_error(item: Mapping[str, Any]) -> OperationFailure:
    message, code = str(item.get("errmsg", "write refused")), int(item.get("code", 0))
    if code in _DUPLICATE_KEY_CODES:
        return DuplicateKeyError(message, code, dict(item))
    return WriteError(message, code, dict(item))
