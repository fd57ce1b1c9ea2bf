"""Why handling a message can fail, and whether retrying it can help."""

from __future__ import annotations

from returns_contracts.service_kit.kafka import NotYet, PermanentError, Unavailable


class MerchantNotKnownYet(NotYet):
    """The return arrived before its merchant's snapshot (another topic): wait for it."""

    def __init__(self, merchant_id: str) -> None:
        super().__init__(f"merchant {merchant_id!r} is not known to the notifier yet")
        self.merchant_id = merchant_id


class ReturnNotKnownYet(NotYet):
    """A label arrived before its return's ReturnSubmitted (another topic, read by another
    consumer group that may lag: restarting, or waiting for a send lease): wait for it, for
    minutes if need be, rather than dead-letter the customer's label e-mail."""

    def __init__(self, return_id: str) -> None:
        super().__init__(f"return {return_id!r} is not known to the notifier yet")
        self.return_id = return_id


class ReturnOfAnotherMerchant(PermanentError):
    """The label names a return the notifier knows under another merchant: no wait will
    change that."""


class InvalidRecipient(PermanentError):
    """The address to write to is not one we can send to: no retry will change that."""


class UnsafeHeaders(PermanentError):
    """The e-mail as written would carry headers that were not set: it is not sent."""


class RecipientRejected(PermanentError):
    """The mail server refused the recipient for good (a 5xx answer)."""


class MailServerUnavailable(Unavailable):
    """The SMTP server cannot be reached: wait for it, the e-mail is not at fault."""


class SendInProgress(Unavailable):
    """Another consumer holds this e-mail's send lease (a rebalance gave the message to two
    group members): wait for it to finish rather than send a second copy."""


class DependencyUnavailable(Unavailable):
    """Media or labels does not answer: wait for it, the message is not at fault."""


class NotALabel(PermanentError):
    """What the label link returned is not a PDF we can attach."""


class LabelLinkRefused(PermanentError):
    """The label link does not point at the labels service: it is not fetched (no SSRF)."""


class LabelGone(PermanentError):
    """The label link answers 404/410: the label was voided by a regeneration, or expired."""
