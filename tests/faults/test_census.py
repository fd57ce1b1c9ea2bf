"""The census says what was lost or doubled: each kind of fault it must catch, on data alone.

The fault suite only proves something if its counting fails on a loss or a duplicate; the runs
on real servers rarely produce one, so each case is built here by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from .census import (
    ACKNOWLEDGEMENT_TEMPLATE,
    CONFIRMATION_TEMPLATE,
    CUSTOMER_SERVICE_TEMPLATE,
    LABEL_TEMPLATE,
    Census,
    Email,
)
from .portal import Journey

MERCHANT = "shop"


def _label(label_id: str, generation: int = 1, voided: int = 0) -> dict[str, Any]:
    return {
        "label": {"label_id": label_id},
        "label_generation": generation,
        "voided_labels": [{"label_id": f"old-{n}"} for n in range(voided)],
    }


def _mail(event_id: str, copy: int = 0, template: str = CUSTOMER_SERVICE_TEMPLATE) -> Email:
    return Email(f"m-{event_id}-{template}-{copy}", f"{event_id}.{template}@x.invalid", "")


def _customer_mails() -> list[Email]:
    """What the customer gets: r1's acknowledgement, r2's confirmation and its label (event
    g2), and an e-mail of another merchant's return (its event is not this merchant's)."""
    return [
        _mail("e1", template=ACKNOWLEDGEMENT_TEMPLATE),
        _mail("e2", template=CONFIRMATION_TEMPLATE),
        _mail("g2", template=LABEL_TEMPLATE),
        _mail("elsewhere", template=CONFIRMATION_TEMPLATE),
    ]


def _healthy() -> Census:
    """Two journeys, both kept: r1 defective (its e-mail), r2 classic (its label)."""
    journeys = [Journey(0, "O-1", True, return_id="r1"), Journey(1, "O-2", False, return_id="r2")]
    for journey in journeys:
        journey.done_at = 1.0
    return Census(
        MERCHANT,
        journeys,
        stored={"O-1": ["r1"], "O-2": ["r2"]},
        defective={"r1": True, "r2": False},
        events={"r1": ["e1"], "r2": ["e2"]},
        emails={"O-1": [_mail("e1")]},
        labels={"r1": {"label": None, "label_generation": 0}, "r2": _label("L2")},
        label_events={"r2": ["L2"]},
        label_event_ids={"r2": ["g2"]},
        customer_emails=_customer_mails(),
        listing={"r1": 1, "r2": 2},
        listed={1: "r1", 2: "r2"},
    )


def test_a_run_where_everything_arrived_once_is_complete_and_clean() -> None:
    census = _healthy()
    assert census.complete()
    assert census.failures() == []


def test_copies_of_the_same_event_e_mail_and_label_are_counted_and_allowed() -> None:
    census = _healthy()
    census.events["r1"].append("e1")
    census.emails["O-1"].append(_mail("e1", copy=1))
    census.label_events["r2"].append("L2")
    census.label_event_ids["r2"].append("g2")
    census.customer_emails.append(_mail("g2", copy=1, template=LABEL_TEMPLATE))
    census.customer_emails.append(_mail("e1", copy=1, template=ACKNOWLEDGEMENT_TEMPLATE))
    assert census.failures() == []
    copies = {row[0]: row[4] for row in census.rows()}
    assert copies["ReturnSubmitted published"] == 1
    assert copies["customer-service e-mails (Mailpit)"] == 1
    assert copies["labels of classic returns"] == 1
    assert copies[ACKS] == 1
    assert copies[LABEL_MAILS] == 1


ACKS = "customer acknowledgements and confirmations (Mailpit)"
LABEL_MAILS = "customer label e-mails (Mailpit)"


def _drop_customer_mail(census: Census, event_id: str) -> None:
    census.customer_emails = [m for m in census.customer_emails if m.cause[0] != event_id]


@pytest.mark.parametrize(
    ("damage", "failure"),
    [
        # The label e-mail dead-lettered while the notifier's ReturnSubmitted side lagged.
        (lambda c: _drop_customer_mail(c, "g2"), f"{LABEL_MAILS}: 1 missing"),
        (lambda c: _drop_customer_mail(c, "e1"), f"{ACKS}: 1 missing"),
        (lambda c: _drop_customer_mail(c, "e2"), f"{ACKS}: 1 missing"),
        # A label e-mail for the wrong event (another LabelGenerated of the return).
        (
            lambda c: (
                c.customer_emails.append(_mail("g9", template=LABEL_TEMPLATE))
                or c.label_event_ids["r2"].append("g9")
            ),
            f"{LABEL_MAILS}: 1 duplicate(s)",
        ),
        (
            lambda c: c.customer_emails.append(_mail("e1", template=CONFIRMATION_TEMPLATE)),
            f"{ACKS}: 1 duplicate(s)",
        ),
        (
            lambda c: (
                c.customer_emails.append(_mail("g1", template=LABEL_TEMPLATE))
                or c.label_event_ids.update({"r1": ["g1"]})
            ),
            f"{LABEL_MAILS}: 1 duplicate(s)",
        ),
    ],
)
def test_each_lost_or_doubled_customer_email_fails_the_census(damage: Any, failure: str) -> None:
    census = _healthy()
    damage(census)
    assert failure in census.failures(), census.failures()


def test_a_lost_label_email_keeps_the_census_waiting() -> None:
    census = _healthy()
    _drop_customer_mail(census, "g2")
    assert not census.complete()
    assert census.missing_customer_emails() == ["r2"]


def test_the_customer_emails_of_another_merchant_are_not_counted() -> None:
    census = _healthy()
    census.customer_emails.append(_mail("elsewhere", copy=1, template=LABEL_TEMPLATE))
    assert census.failures() == []
    found = {row[0]: row[2] for row in census.rows()}
    assert (found[ACKS], found[LABEL_MAILS]) == (2, 1)


@pytest.mark.parametrize(
    ("damage", "failure"),
    [
        (lambda c: c.events.pop("r2"), "ReturnSubmitted published: 1 missing"),
        (lambda c: c.emails.pop("O-1"), "customer-service e-mails (Mailpit): 1 missing"),
        (lambda c: c.label_events.pop("r2"), "labels of classic returns: 1 missing"),
        (lambda c: c.labels.pop("r2"), "labels of classic returns: 1 missing"),
        (lambda c: c.stored.pop("O-2"), "returns stored (declaration): 1 missing"),
        (lambda c: c.stored["O-1"].append("r9"), "returns stored (declaration): 1 duplicate(s)"),
        (lambda c: c.events["r1"].append("e9"), "ReturnSubmitted published: 1 duplicate(s)"),
        (lambda c: c.listing.update({"r2": 1}), "listing numbers (declaration): 1 duplicate(s)"),
        (lambda c: c.listing.update({"r2": None}), "listing numbers (declaration): 1 missing"),
        (lambda c: c.listed.pop(2), "listing numbers (declaration): 1 missing"),
        (lambda c: c.listed.update({2: "r1"}), "listing numbers (declaration): 1 missing"),
        (
            lambda c: c.emails["O-1"].append(_mail("e9")),
            "customer-service e-mails (Mailpit): 2 duplicate(s)",
        ),
        (
            lambda c: c.emails.update({"O-2": [_mail("e2")]}),
            "customer-service e-mails (Mailpit): 1 duplicate(s)",
        ),
        (
            lambda c: c.emails.update({"O-1": [Email("m", "other@x.invalid", "")]}),
            "customer-service e-mails (Mailpit): 1 duplicate(s)",
        ),
        (
            lambda c: c.unmatched_emails.append(_mail("e1")),
            "customer-service e-mails (Mailpit): 1 duplicate(s)",
        ),
        (
            lambda c: c.label_events["r2"].append("L9"),
            "labels of classic returns: 1 duplicate(s)",
        ),
        (
            lambda c: c.labels.update({"r2": _label("L2", generation=2, voided=1)}),
            "labels of classic returns: 2 duplicate(s)",
        ),
        (
            lambda c: c.label_events.update({"r1": ["L1"]}),
            "labels of defective returns: 1 duplicate(s)",
        ),
        (
            lambda c: c.labels.update({"r1": _label("L1")}),
            "labels of defective returns: 1 duplicate(s)",
        ),
    ],
)
def test_each_loss_and_each_duplicate_that_is_not_a_copy_fails_the_census(
    damage: Any, failure: str
) -> None:
    census = _healthy()
    damage(census)
    assert failure in census.failures()


def test_a_journey_whose_return_is_not_stored_fails_the_census() -> None:
    census = _healthy()
    census.journeys[1].return_id = "r7"
    assert "journey 1: return r7 not stored" in census.failures()


def test_a_failed_journey_counts_as_not_submitted() -> None:
    census = _healthy()
    census.journeys[1].error = "submit: still failing at the journey's deadline (HTTP 503)"
    census.stored.pop("O-2")
    assert "journeys submitted (portal API): 1 missing" in census.failures()


def test_the_table_has_a_line_per_row_with_its_counts_aligned() -> None:
    census = _healthy()
    census.events.pop("r2")
    lines = census.table().splitlines()
    assert lines[0].split()[-2:] == ["copies", "duplicates"]
    assert set(lines[1]) == {"-", " "}
    assert len(lines) == 2 + len(census.rows())
    [published] = [line for line in lines if line.startswith("ReturnSubmitted published")]
    assert published.split()[-5:] == ["2", "1", "1", "0", "0"]
    assert len({len(line) for line in lines}) == 1
