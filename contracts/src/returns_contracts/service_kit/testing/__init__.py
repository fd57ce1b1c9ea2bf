"""Test doubles and fixtures' building blocks shared by the four services' tests.

- `error_of`: a refusal's error, checked to be in the one error shape with its status and code.
- `FakeClock`: the injected clock, set or advanced by the test.
- `RecordingPublisher`: the `EventPublisher` port, keeping what was published.
- `scratch_database`: a MongoDB database of its own for one test, dropped afterwards, for the
  store suites that run the same tests against an in-memory fake and the real adapter.
- `CommandLog`: the store commands a client sent, to count round trips (the `counted` fixture
  in `fixtures` gives a scratch database with its log).
"""

from returns_contracts.service_kit.testing.answers import error_of
from returns_contracts.service_kit.testing.clock import FakeClock
from returns_contracts.service_kit.testing.publisher import RecordingPublisher
from returns_contracts.service_kit.testing.stores import CommandLog, Database, scratch_database

__all__ = [
    "CommandLog",
    "Database",
    "FakeClock",
    "RecordingPublisher",
    "error_of",
    "scratch_database",
]
