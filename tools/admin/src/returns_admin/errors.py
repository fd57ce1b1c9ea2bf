"""Failures the command line explains to a person, each with its own exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 2
"""Click's own code for a wrong option or argument."""
EXIT_REFUSED = 3
"""The system answered no: label rejected, return unknown, no such message."""
EXIT_TIMEOUT = 4
"""No answer within --timeout."""
EXIT_UNREACHABLE = 5
"""Kafka or the labels service could not be reached."""


class AdminError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class Refused(AdminError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_REFUSED)


class TimedOut(AdminError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_TIMEOUT)


class Unreachable(AdminError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_UNREACHABLE)
