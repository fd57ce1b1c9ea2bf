"""The start-up bench's figures: medians, extremes and the table it prints (no servers)."""

from __future__ import annotations

import pytest

from returns_bench.startup import HEADER, Start, Summary, main, table


def test_a_summary_gives_the_median_and_extremes_of_wall_time_and_the_median_cpu() -> None:
    starts = [Start(2.0, 1.5), Start(1.0, 1.0), Start(4.0, 2.0)]
    row = Summary("labels", starts, import_cpu=0.8).row()
    assert row == ("labels", "3", "2.00", "1.00", "4.00", "1.50", "0.80")


def test_the_table_has_a_header_a_rule_and_a_line_per_service_all_aligned() -> None:
    summaries = [Summary(name, [Start(1.25, 0.5)], 0.4) for name in ("declaration", "media")]
    lines = table(summaries).splitlines()
    assert lines[0].split("  ")[0].strip() == HEADER[0]
    assert set(lines[1]) == {"-", " "}
    assert [line.split()[0] for line in lines[2:]] == ["declaration", "media"]
    assert len({len(line) for line in lines}) == 1


def test_an_unknown_service_is_refused_before_anything_starts() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--profile", "test", "nosuch"])
    assert exit_.value.code == 2
