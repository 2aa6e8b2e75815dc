"""The benchmark report states resident memory from the newest 100 000-request run.

A stale soak file once stood in the report next to a fresh `bench memory` run; the report must
show the newer one, with its commit, and say whether it is flat.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.report import markdown
from bench.run import ROOT, memory_figures, ratios


def _memory(path: Path, at: str, start: float, end: float, trend: float) -> None:
    path.write_text(
        json.dumps(
            {
                "at": at,
                "commit": "abc1234",
                "requests": 100_000,
                "errors": 0,
                "resources_per_request": 50,
                "rss_mb_after_warmup": start,
                "rss_mb_end": end,
                "trend_mb_per_10k_requests": trend,
            }
        )
    )


def _soak(path: Path, date: str) -> None:
    samples = [{"rss_kb": 170_000 * 1024 // 1000 + i * 600} for i in range(8)]
    path.write_text(
        json.dumps(
            {
                "date": date,
                "commit": None,
                "hook_calls": 100_000,
                "errors": 0,
                "workers": 2,
                "resources_per_request": 600,
                "rss_samples": samples,
                "trend_mb_per_10k_requests": None,
            }
        )
    )


def test_the_newer_memory_run_is_reported_with_its_commit(tmp_path: Path) -> None:
    _soak(tmp_path / "soak-100000.json", "2026-11-23T20:05:39+00:00")
    _memory(tmp_path / "memory-100000.json", "2026-12-05T08:35:14+00:00", 111.1, 111.1, -0.0)
    mem = memory_figures(tmp_path)
    assert mem["kind"] == "memory"
    assert mem["commit"] == "abc1234"
    assert (mem["rss_mb_after_warmup"], mem["rss_mb_end"]) == (111.1, 111.1)
    assert mem["flat"] is True


def test_an_older_memory_run_gives_way_to_a_newer_soak(tmp_path: Path) -> None:
    _memory(tmp_path / "memory-100000.json", "2026-11-01T00:00:00+00:00", 100.0, 100.2, 0.1)
    _soak(tmp_path / "soak-100000.json", "2026-12-01T00:00:00+00:00")
    mem = memory_figures(tmp_path)
    assert mem["kind"] == "soak"
    assert mem["flat"] is False  # the soak recorded no trend: not shown as flat


def test_growth_is_not_called_flat(tmp_path: Path) -> None:
    _memory(tmp_path / "memory-100000.json", "2026-12-05T08:35:14+00:00", 111.0, 140.0, 3.2)
    mem = memory_figures(tmp_path)
    assert mem["flat"] is False


def test_no_run_says_how_to_measure(tmp_path: Path) -> None:
    assert "bench memory --requests 100000" in memory_figures(tmp_path)["error"]


def test_the_report_names_the_run_and_says_flat(tmp_path: Path) -> None:
    _memory(tmp_path / "memory-100000.json", "2026-12-05T08:35:14+00:00", 111.1, 111.2, 0.01)
    r = _minimal_result(memory_figures(tmp_path))
    text = markdown(r)
    assert "Resident memory over 100,000 requests of 50 resources" in text
    assert "commit `abc1234`" in text
    assert "(flat)" in text


def _minimal_result(mem: dict[str, Any]) -> dict[str, Any]:
    """The committed last run's figures with this memory run in place of its own."""
    r = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    r["memory"] = mem
    r["ratios"] = ratios(r)
    return r


def test_the_target_row_reads_the_memory_run(tmp_path: Path) -> None:
    _memory(tmp_path / "memory-100000.json", "2026-12-05T08:35:14+00:00", 111.0, 140.0, 3.2)
    r = _minimal_result(memory_figures(tmp_path))
    assert r["ratios"]["targets"]["resident memory flat over 100,000 requests"] is False
    assert "| resident memory flat over 100,000 requests | **no** |" in markdown(r)
