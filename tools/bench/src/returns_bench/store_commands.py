"""How many store commands the whole system sends per submission, from the server's counters.

Every process (declaration and its relay, notifier, labels) talks to the same store, so the
server's own per-command totals (`serverStatus.metrics.commands`, kept by MongoDB and by
FerretDB alike) count what a submission costs end to end, which a client-side listener in one
service cannot see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from returns_contracts.service_kit.mongo import CONNECTION_UPKEEP_COMMANDS

# Connection upkeep of the clients (and this count's own reads), not work a submission asks for.
_UPKEEP = CONNECTION_UPKEEP_COMMANDS | {"serverStatus"}


def command_totals(mongodb_url: str) -> dict[str, int] | None:
    """The server's count of each command so far, or None when it does not tell."""
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(
            mongodb_url, serverSelectionTimeoutMS=3000
        )
        with client:
            status: Mapping[str, Any] = client.admin.command("serverStatus")
    except PyMongoError:  # the figure is optional: a server without it leaves the report whole
        return None
    commands = status.get("metrics", {}).get("commands", {})
    totals: dict[str, int] = {}
    for name, counts in commands.items():
        if name not in _UPKEEP and isinstance(counts, Mapping):
            totals[name] = int(counts.get("total", 0))
    return totals


def per_submission(
    before: Mapping[str, int] | None, after: Mapping[str, int] | None, submissions: int
) -> dict[str, float]:
    """Commands per submission between two snapshots, by command and in all (`all`)."""
    if before is None or after is None or submissions <= 0:
        return {}
    used = {name: total - before.get(name, 0) for name, total in after.items()}
    per = {name: round(count / submissions, 2) for name, count in used.items() if count > 0}
    per["all"] = round(sum(count for count in used.values() if count > 0) / submissions, 2)
    return dict(sorted(per.items(), key=lambda item: -item[1]))
