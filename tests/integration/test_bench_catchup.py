"""`cos bench catchup` in miniature: both ways of keeping a read model answer what was written, and
the JSON line keeps its shape (figures are not judged)."""

from __future__ import annotations

import json

import pytest

from bench.catchup import main

pytestmark = pytest.mark.slow


def test_the_catchup_bench_reads_the_same_totals_lazily_and_following(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--burst", "40", "--bursts", "2", "--pause", "0.3", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1  # --json: only the result line
    result = json.loads(out[0])
    assert result["lazy"]["totals"] == [40, 80]
    assert result["following"]["totals"] == [120, 160]  # it starts from the whole stream
    assert len(result["lazy"]["first_read_ms"]) == len(result["following"]["first_read_ms"]) == 2
    assert result["lazy_vs_following"] > 0
