"""The notifier's settings: who holds its send leases."""

from __future__ import annotations

import pytest

from returns_notifier.config import NotifierSettings


def test_the_lease_owner_is_the_stable_instance_id_so_a_restart_is_the_same_owner() -> None:
    before_kill = NotifierSettings(consumer_instance_id="notifier-8003")
    after_restart = NotifierSettings(consumer_instance_id="notifier-8003")
    other = NotifierSettings(consumer_instance_id="notifier-8013")

    assert before_kill.send_lease_owner == after_restart.send_lease_owner == "notifier-8003"
    assert other.send_lease_owner != before_kill.send_lease_owner


def test_without_an_instance_id_each_process_draws_its_own_owner_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CONSUMER_INSTANCE_ID", raising=False)
    one, another = NotifierSettings(), NotifierSettings()

    assert one.send_lease_owner != another.send_lease_owner
    assert one.send_lease_owner == one.send_lease_owner
    assert one.send_lease_owner.startswith("notifier-")
