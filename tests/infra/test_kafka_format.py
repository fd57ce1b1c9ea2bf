"""How the embedded Kafka's storage is formatted: ids the storage tool accepts."""

from __future__ import annotations

import uuid

import pytest

from returns_infra.components import kafka


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xF8 as the first byte encodes to "-" first: the storage tool took it for an option and
    # refused to start, one `make test` in 64.
    drawn = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x01" * 16)])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))

    cluster_id = kafka._new_cluster_id()

    assert cluster_id == "AQEBAQEBAQEBAQEBAQEBAQ"
    assert len(cluster_id) == 22
