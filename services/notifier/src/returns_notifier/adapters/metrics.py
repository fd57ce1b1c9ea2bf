"""The notifier's delivery figures in Prometheus form (served by /metrics)."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram

# From a second (the relay, Kafka and SMTP on one machine) to ten minutes (a retried send).
END_TO_END_BUCKETS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class PrometheusDeliveryMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._sent = Counter(
            "emails_sent_total",
            "E-mails accepted by the SMTP server",
            ["template"],
            registry=registry,
        )
        self._failed = Counter(
            "emails_failed_total",
            "Attempts to send an e-mail that the SMTP server refused or did not answer",
            ["template"],
            registry=registry,
        )
        self._end_to_end = Histogram(
            "return_submitted_to_email_seconds",
            "From the return's submission (its submitted_at) to its e-mail accepted by SMTP",
            ["template"],
            buckets=END_TO_END_BUCKETS,
            registry=registry,
        )

    def sent(self, template: str, since_submitted: timedelta | None) -> None:
        self._sent.labels(template).inc()
        if since_submitted is not None:
            self._end_to_end.labels(template).observe(max(since_submitted.total_seconds(), 0.0))

    def failed(self, template: str) -> None:
        self._failed.labels(template).inc()
