"""`cos bench projection` in miniature: worker processes on the shared consumer load every commit
exactly once between them, and the JSON line keeps its shape (figures are not judged)."""

from __future__ import annotations

import json

import pytest

from bench.projection import BenchError, Written, _runs, check_exactly_once, main

pytestmark = pytest.mark.slow


def test_the_projection_bench_divides_the_stream_between_worker_processes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--commits", "400", "--aggregates", "40", "--workers", "2,1", "--batch", "20", "--json"]
    assert main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1  # --json: only the result line
    result = json.loads(out[-1])
    assert result["commits"] == 400
    assert result["baseline_per_s"] > 0
    assert set(result["workers"]) == {"1", "2"}
    for k, figures in result["workers"].items():
        assert set(figures) >= {"per_s", "vs_baseline", "shares"}
        assert figures["per_s"] > 0
        assert len(figures["shares"]) == int(k)
        assert sum(figures["shares"]) == 400  # every commit loaded once
        assert all(share > 0 for share in figures["shares"])
    assert result["scaling"] > 0
    assert result["cpus"] >= 1
    assert len(result["load_avg"]) == 3


def test_the_exactly_once_check_refuses_a_lost_a_doubled_or_an_idle_share() -> None:
    written = Written(stream="BENCHPROJ", commits=6, last_seq=6, commit_bytes=1000, per_s=1.0)

    def report(pid: int, sequences: list[int]) -> dict[str, object]:
        n = len(sequences)
        return {"pid": pid, "commits": n, "events": n, "rows": n, "redelivered": 0, "runs": _runs(sequences)}

    assert _runs([1, 2, 3, 5, 6, 9]) == [[1, 3], [5, 6], [9, 9]]
    check_exactly_once([report(1, [1, 2, 3]), report(2, [4, 5, 6])], written, 2)
    with pytest.raises(BenchError, match="not 6"):
        check_exactly_once([report(1, [1, 2, 3]), report(2, [4, 5])], written, 2)
    with pytest.raises(BenchError, match="in more than one"):
        check_exactly_once([report(1, [1, 2, 3, 4]), report(2, [4, 5])], written, 2)
    with pytest.raises(BenchError, match="did nothing"):
        check_exactly_once([report(1, [1, 2, 3, 4, 5, 6]), report(2, [])], written, 2)
