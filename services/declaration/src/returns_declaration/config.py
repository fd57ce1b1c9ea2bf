from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from returns_contracts.service_kit.settings import ServiceSettings


class DeclarationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str = "declaration"
    http_port: int = 8001
    mongodb_database: str = "declaration"
    # Where the back-office pages live; customer-service e-mails link to the return record.
    back_office_base_url: str = "http://127.0.0.1:8001/back-office"
    # Where the customer's pages live; their e-mails link to a return's status page and to the
    # answer page of a question, by links signed with `customer_link_secret`.
    portal_base_url: str = "http://127.0.0.1:8001/portal"
    # Demo value: set a real one (env CUSTOMER_LINK_SECRET).
    customer_link_secret: str = "demo-customer-link-secret-change-me"
    status_link_ttl_days: int = Field(default=90, ge=1, le=3650)
    answer_link_ttl_days: int = Field(default=7, ge=1, le=90)
    media_base_url: str = "http://127.0.0.1:8002"
    media_timeout_seconds: float = 5.0
    # The operator creates merchants and issues their API keys. Demo value: set a real one.
    admin_api_token: str = "demo-admin-token-change-me"
    outbox_relay_enabled: bool = True
    outbox_poll_seconds: float = 2.0
    # Once woken by a write, the relay waits this long for more events before a pass.
    outbox_linger_seconds: float = 0.02
    # A merchant read by a portal or back-office call is kept this long by the process; its
    # own changes replace it at once, another declaration process's show after at most this.
    merchant_cache_seconds: float = 1.0
    # A submit that died between its reservation and its return (and was not retried) is
    # released after this grace period; a live submit takes seconds, a retry renews it.
    reservation_grace_seconds: float = 600.0
    reservation_reconcile_seconds: float = 30.0
    reservation_reconcile_batch: int = 100
    session_ttl_minutes: int = 120
    draft_ttl_hours: int = 24
    # Portal sign-in (order number + e-mail): every attempt counts per order, failed ones per
    # client address.
    portal_attempts_per_order: int = 10
    portal_failures_per_client: int = 100
    portal_attempts_window_seconds: int = 900
    # Trust X-Forwarded-For for the client address only behind a reverse proxy that sets or
    # appends it (its last address counts: the one the proxy wrote). API and pages alike.
    trust_forwarded_for: bool = False
    # Linked from the landing page when set (make run sets it).
    mailpit_url: str | None = None
