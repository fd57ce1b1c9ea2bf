"""Cross-cutting runtime pieces every service uses the same way.

They live beside the message models because they are part of the wire contract (how a message
is keyed, which headers it carries, where a failing one goes) or of the operational contract
SREs rely on (JSON log lines with a correlation id, /healthz, /readyz, /metrics). Installed with
the `service` extra so that a consumer of the models alone does not pull FastAPI or Kafka in.
"""
