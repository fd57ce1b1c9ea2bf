"""Plain-text tables for the fault suite's reports: first column left, the others right."""

from __future__ import annotations

from collections.abc import Sequence


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    every = [list(header), *[list(row) for row in rows]]
    widths = [max(len(row[column]) for row in every) for column in range(len(header))]
    lines = []
    for number, row in enumerate(every):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)
