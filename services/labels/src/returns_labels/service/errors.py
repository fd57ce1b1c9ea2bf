"""The exceptions of the labels service's use cases, in one place (as in every service)."""

from __future__ import annotations


class LabelChangedMeanwhile(Exception):
    """Another worker changed the return's label between our read and our write; retrying
    starts again from what is stored now."""
