"""`returns-admin`: the support command line of the returns backend.

Exit codes: 0 done; 2 wrong usage; 3 refused (label rejected, unknown return, no such message);
4 no answer in time; 5 Kafka or the labels service unreachable.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
import httpx

from returns_admin.errors import EXIT_REFUSED, AdminError, Refused, Unreachable
from returns_admin.kafka_ops import DeadLetter, Kafka, parse_coordinates
from returns_admin.options import kafka_options
from returns_contracts import LabelGenerated
from returns_contracts.service_kit.access import INTERNAL_TOKEN_HEADER
from returns_contracts.topics import Topics

T = TypeVar("T")


# The demo value of the platform's internal token (as in ServiceSettings): set a real one.
DEMO_INTERNAL_TOKEN = "demo-internal-token-change-me"


class Context:
    def __init__(
        self, bootstrap_servers: str, topic_prefix: str, labels_url: str, internal_token: str
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.labels_url = labels_url.rstrip("/")
        self.internal_token = internal_token
        try:
            topics = Topics(prefix=topic_prefix)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--topic-prefix") from error
        self.kafka = Kafka(bootstrap_servers, topics)


def _run(work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except AdminError as error:
        click.echo(f"Error: {error.message}", err=True)
        raise SystemExit(error.exit_code) from None


def _default_operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "support"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@kafka_options
@click.option(
    "--labels-url",
    envvar="LABELS_BASE_URL",
    default="http://127.0.0.1:8004",
    show_default=True,
    help="Base URL of the labels service (env LABELS_BASE_URL).",
)
@click.option(
    "--internal-token",
    envvar="INTERNAL_API_TOKEN",
    default=DEMO_INTERNAL_TOKEN,
    show_default="the demo value",
    help="The platform's internal service token, for `label status` (env INTERNAL_API_TOKEN).",
)
@click.pass_context
def main(
    ctx: click.Context,
    bootstrap_servers: str,
    topic_prefix: str,
    labels_url: str,
    internal_token: str,
) -> None:
    """Support tooling of the returns backend: labels, dead-letter topics, consumer lag.

    Exit codes: 0 done, 2 wrong usage, 3 refused (rejected, unknown, not found),
    4 no answer in time, 5 Kafka or the labels service unreachable.
    """
    ctx.obj = Context(bootstrap_servers, topic_prefix, labels_url, internal_token)


# --- labels -----------------------------------------------------------------------------------


@main.group()
def label() -> None:
    """Ask for a return's label, or see where it stands."""


@label.command("request")
@click.argument("merchant_id")
@click.argument("return_id")
@click.option(
    "--regenerate",
    is_flag=True,
    help="Void the current label and make a new one (otherwise an existing label is kept).",
)
@click.option(
    "--operator",
    default=_default_operator,
    show_default="your user name",
    help="Who asks; recorded as an Actor of kind 'cli' on the request and the label.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.0),
    default=45.0,
    show_default=True,
    help="Seconds to wait for the labels service's answer; 0 publishes without waiting.",
)
@click.pass_obj
def label_request(
    ctx: Context,
    merchant_id: str,
    return_id: str,
    regenerate: bool,
    operator: str,
    timeout: float,
) -> None:
    """Request (or --regenerate) the label of RETURN_ID, a return of MERCHANT_ID.

    Publishes the same LabelRequested command as the back-office, then waits for
    LabelGenerated (prints the label and its download link) or LabelRejected (prints the
    reason, exit code 3).
    """
    if not merchant_id.strip() or not return_id.strip():
        raise click.UsageError("MERCHANT_ID and RETURN_ID must not be blank")
    if not operator.strip():
        raise click.BadParameter("must not be blank", param_hint="--operator")
    command, answer = _run(
        ctx.kafka.request_label(
            merchant_id=merchant_id,
            return_id=return_id,
            operator=operator,
            regenerate=regenerate,
            wait_seconds=timeout or None,
        )
    )
    click.echo(f"Requested the label of {return_id} (event {command.event_id}).")
    if answer is None:
        return
    if isinstance(answer, LabelGenerated):
        payload = answer.payload
        what = "New label" if payload.regenerated and regenerate else "Label"
        click.echo(
            f"{what} {payload.label_id}, tracking {payload.tracking_number} ({payload.carrier})"
        )
        click.echo(f"Download: {payload.download_url}")
        return
    click.echo(f"Error: rejected ({answer.payload.reason}): {answer.payload.detail}", err=True)
    raise SystemExit(EXIT_REFUSED)


@label.command("status")
@click.argument("merchant_id")
@click.argument("return_id")
@click.option("--json", "as_json", is_flag=True, help="Print the labels service's JSON answer.")
@click.pass_obj
def label_status(ctx: Context, merchant_id: str, return_id: str, as_json: bool) -> None:
    """Show where the label of RETURN_ID (a return of MERCHANT_ID) stands."""
    url = f"{ctx.labels_url}/internal/v1/merchants/{merchant_id}/returns/{return_id}/label"
    try:
        response = httpx.get(url, headers={INTERNAL_TOKEN_HEADER: ctx.internal_token}, timeout=10)
    except httpx.HTTPError as error:
        _fail(Unreachable(f"cannot reach the labels service at {ctx.labels_url} ({error})"))
    if response.status_code == 401:
        _fail(Refused("the labels service refused the internal token (set INTERNAL_API_TOKEN)"))
    if response.status_code == 404:
        _fail(Refused(f"merchant {merchant_id} has no return {return_id} in the labels service"))
    if response.status_code != 200:
        _fail(Unreachable(f"the labels service answered {response.status_code}: {response.text}"))
    answer = response.json()
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    kind = "defective" if answer.get("defective") else "classic"
    click.echo(f"Return {return_id} ({kind}): {answer['status']}")
    current = answer.get("label")
    if current:
        click.echo(
            f"Label {current['label_id']}, tracking {current['tracking_number']} "
            f"({current['carrier']}), made {current['created_at']}"
        )
        click.echo(f"Download: {current['download_url']}")
    voided = answer.get("voided_label_ids") or []
    if voided:
        click.echo(f"Voided labels: {', '.join(voided)}")


def _fail(error: AdminError) -> Any:
    click.echo(f"Error: {error.message}", err=True)
    raise SystemExit(error.exit_code)


# --- dead-letter topics -----------------------------------------------------------------------


@main.group()
def dlq() -> None:
    """List the dead-letter topics' messages and replay them."""


@dlq.command("list")
@click.option("--topic", help="One topic (e.g. returns.submitted or returns.submitted.dlq).")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many messages.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@click.pass_obj
def dlq_list(ctx: Context, topic: str | None, limit: int | None, as_json: bool) -> None:
    """List the messages in the dead-letter topics, with the error that sent them there."""
    topics = _or_fail(lambda: ctx.kafka.dlq_topics(topic))
    letters = _run(ctx.kafka.read_dlq(topics, limit))
    if as_json:
        for letter in letters:
            click.echo(json.dumps(_letter_json(letter)))
        return
    if not letters:
        click.echo(f"No messages in {', '.join(topics)}.")
        return
    for letter in letters:
        headers = letter.headers
        when = datetime.fromtimestamp(letter.timestamp_ms / 1000, UTC).isoformat(timespec="seconds")
        click.echo(
            f"{letter.coordinates}  {when}  {headers.get('x-message-type', '?')}  "
            f"event {headers.get('x-event-id', '?')}  from {letter.source_topic or '?'}  "
            f"consumer {headers.get('x-dlq-consumer', '?')}  "
            f"attempts {headers.get('x-dlq-attempts', '?')}"
        )
        # The error header is the exception as Python prints it: type, then message.
        click.echo(f"    error: {headers.get('x-dlq-error', '(no error header)')}")
    click.echo(f"{len(letters)} message(s).")


def _letter_json(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.coordinates,
        "topic": letter.topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "timestamp_ms": letter.timestamp_ms,
        "key": None if letter.key is None else letter.key.decode(errors="replace"),
        "headers": letter.headers,
        "value": letter.value.decode(errors="replace"),
    }


@dlq.command("replay")
@click.argument("message_ids", nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Replay every message listed.")
@click.option("--topic", help="With --all: only this dead-letter topic.")
@click.option("--consumer", help="With --all: only messages this consumer dead-lettered.")
@click.pass_obj
def dlq_replay(
    ctx: Context,
    message_ids: tuple[str, ...],
    replay_all: bool,
    topic: str | None,
    consumer: str | None,
) -> None:
    """Send dead-lettered messages back to the topic they failed on.

    Name messages as `dlq list` shows them (topic:partition:offset), or use --all. Messages
    stay in the dead-letter topic; consumers are idempotent, so replaying one twice is harmless.
    """
    if replay_all == bool(message_ids):
        raise click.UsageError("name messages (topic:partition:offset) or use --all, not both")
    if not replay_all and (topic or consumer):
        raise click.UsageError("--topic and --consumer go with --all")
    if replay_all:
        topics = _or_fail(lambda: ctx.kafka.dlq_topics(topic))
        letters = _run(ctx.kafka.read_dlq(topics))
        if consumer:
            letters = [one for one in letters if one.headers.get("x-dlq-consumer") == consumer]
    else:
        wanted = []
        for text in message_ids:
            try:
                wanted.append(parse_coordinates(text))
            except ValueError as error:
                raise click.BadParameter(str(error), param_hint="MESSAGE_IDS") from error
        dlq_names = set(_or_fail(ctx.kafka.dlq_topics))
        for name, _, _ in wanted:
            if name not in dlq_names:
                raise click.BadParameter(
                    f"{name} is not a dead-letter topic of this deployment",
                    param_hint="MESSAGE_IDS",
                )
        letters = [_run(ctx.kafka.read_one(*where)) for where in wanted]
    if not letters:
        click.echo("Nothing to replay.")
        return
    for letter, target in _run(ctx.kafka.replay(letters)):
        click.echo(f"Replayed {letter.coordinates} -> {target}")
    click.echo(f"{len(letters)} message(s) replayed.")


def _or_fail(produce: Any) -> Any:
    try:
        return produce()
    except AdminError as error:
        _fail(error)


# --- consumer lag -----------------------------------------------------------------------------


@main.command()
@click.option("--group", "groups", multiple=True, help="Only this consumer group (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per group and topic.")
@click.pass_obj
def lag(ctx: Context, groups: tuple[str, ...], as_json: bool) -> None:
    """Show how far each consumer group is behind, per topic (end offset - committed offset)."""
    rows = _run(ctx.kafka.lag(list(groups) or None))
    if as_json:
        for row in rows:
            click.echo(json.dumps(vars(row)))
        return
    if not rows:
        click.echo("No consumer group has committed offsets yet.")
        return
    width = max(len(row.topic) for row in rows)
    group_width = max(len(row.group) for row in rows)
    click.echo(f"{'GROUP':<{group_width}}  {'TOPIC':<{width}}  {'COMMITTED':>9}  {'END':>9}  LAG")
    for row in rows:
        click.echo(
            f"{row.group:<{group_width}}  {row.topic:<{width}}  {row.committed:>9}  "
            f"{row.end:>9}  {row.lag}"
        )


if __name__ == "__main__":
    main()
