"""Settings every service shares; each service subclasses this once with its own fields."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from returns_contracts.service_kit.kafka import Retry
from returns_contracts.service_kit.kafka_topics import min_insync_for
from returns_contracts.topics import Topics

# What one process of a service runs. "all": its API, its loops and its Kafka consumers (a
# service in one process, as in production). "api": the API and the loops, no consumers.
# "consumers": the consumers, with the operations endpoints only. An API answers people and
# its consumers can wait: on one machine `returns-infra` runs declaration and media (which do
# both) as two processes each, and gives the consumers only the CPU left over (README:
# Priorities on one machine).
ProcessRole = Literal["all", "api", "consumers"]


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    process_role: ProcessRole = "all"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Replicas of every topic the service creates (and its DLQ): 1 on the single embedded
    # broker, 3 on a cluster. min.insync.replicas defaults to one less (2 of 3): with acks=all,
    # a write is acknowledged only once two brokers hold it, and one broker may die.
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_min_insync_replicas: int | None = Field(default=None, ge=1)
    topic_prefix: str = ""
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Bounded retries before a message goes to its dead-letter topic. About a minute in the
    # worst case: long enough for a merchant snapshot racing its first return on another topic.
    consumer_max_attempts: int = 8
    consumer_retry_base_seconds: float = 0.5
    # How long one message may wait for a server its handler needs (SMTP, another service)
    # before it goes to the DLQ (from which `returns-admin dlq replay` sends it again): an
    # outage of minutes delays work and loses none, while a message that can never succeed
    # does not hold up everything behind it forever. None waits without limit.
    consumer_outage_budget_seconds: float | None = 1800.0
    consumer_outage_cap_seconds: float = 30.0
    # How long a message may wait for what it refers to (a label for its return, a return for
    # its merchant: another topic that lags behind) before it goes to the DLQ, trying again
    # every few seconds at most (the cap). Minutes: longer than any stall of the other
    # consumer (a restart, a send lease to expire, a broker back). Kept under the poll
    # interval (300 s): a wait past it would hand the partition over and start it again.
    consumer_wait_budget_seconds: float = Field(default=240.0, gt=0)
    consumer_wait_cap_seconds: float = Field(default=5.0, gt=0)
    # Kafka's max.poll.interval.ms: a handler busy longer than this (waiting out an outage)
    # makes the consumer leave its group; it rejoins and is given the message again, which the
    # idempotent handlers make harmless. Tests set it small to prove that.
    consumer_max_poll_interval_ms: int = 300_000
    # Kafka static membership (group.instance.id): a name that stays the same when this
    # instance restarts and differs from every other instance's (returns-infra gives
    # `<service>-<port>`; a StatefulSet would give the pod name). Set, a process restarted after
    # kill -9 takes back its partitions at once instead of waiting for the dead member's session
    # to expire (10 s). Its cost: a member stopped for good, or one whose handler outlasts the
    # poll interval, keeps its partitions until that session expires. Empty: dynamic members.
    consumer_instance_id: str = ""
    # Records each subscriber takes at a time: the different returns among them are handled
    # side by side (one return's in order), and their offsets committed once, after all of
    # them. 1 handles one message at a time. Bigger batches overlap more waiting (SMTP, the
    # store, another service) and a redelivery after a crash repeats more (idempotent) work.
    # A batch lasts as long as its slowest return: two messages of one return that both wait
    # out the whole wait budget outlast the poll interval, and the batch comes again (harmless).
    consumer_batch_size: int = Field(default=32, ge=1, le=1000)
    readiness_timeout_seconds: float = 2.0
    # Every MongoDB operation ends within this time, waiting for a server, for a pooled
    # connection and for the reply included (the driver's `timeoutMS`): a store that restarts
    # or stops answering costs a request an error, never a wait without end.
    mongodb_timeout_seconds: float = 10.0
    # Pooled connections idle this long are closed rather than reused (`maxIdleTimeMS`).
    mongodb_max_idle_seconds: float = 60.0
    # Shared between services (declaration issues draft tokens, media checks them; internal
    # endpoints check the internal token). The defaults are demo values: set real ones in
    # production, the same in every service.
    portal_token_secret: str = "demo-portal-token-secret-change-me"
    internal_api_token: str = "demo-internal-token-change-me"

    @model_validator(mode="after")
    def _replication_is_possible(self) -> ServiceSettings:
        min_insync_for(self.kafka_replication_factor, self.kafka_min_insync_replicas)
        return self

    def consumer_retry(self) -> Retry:
        """The retry policy of this service's consumers, from the settings above."""
        return Retry(
            self.consumer_max_attempts,
            self.consumer_retry_base_seconds,
            unavailable_cap_seconds=self.consumer_outage_cap_seconds,
            unavailable_budget_seconds=self.consumer_outage_budget_seconds,
            waiting_cap_seconds=self.consumer_wait_cap_seconds,
            waiting_budget_seconds=self.consumer_wait_budget_seconds,
        )

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.topic_prefix)
