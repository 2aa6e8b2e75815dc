"""The benchmark's 3 000-resource p50 is measured as its 600-resource p50 against HealthChain is.

Issue 16 asks for the 3 000-resource order-sign p50. `bench run` measured it back to back (the
next call sent the moment an answer arrived, so it also waited for the worker to free the
previous call's objects), while the HealthChain comparison calls each server in turn. The
report now takes the 3 000-resource p50 from the interleaved run and shows the back-to-back
figure beside it, so a reader sees both and which one the target reads.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from bench.report import markdown
from bench.run import ROOT, ratios


def _result(gevent_3000: float | None, back_to_back: float) -> dict[str, Any]:
    r = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    r = copy.deepcopy(r)
    r["order_sign"]["3000"]["latency"]["p50_ms"] = back_to_back
    comp = r["comparison"]
    comp.pop("latency_3000", None)
    if gevent_3000 is not None:
        stats = {"p50_ms": gevent_3000, "p95_ms": gevent_3000 + 2, "p99_ms": gevent_3000 + 3}
        comp["latency_3000"] = {
            comp["default"]: stats,
            "healthchain": {"p50_ms": 20.0, "p95_ms": 30.0, "p99_ms": 40.0},
        }
    r["ratios"] = ratios(r)
    return r


def test_the_target_reads_the_interleaved_run_and_the_back_to_back_figure_is_shown() -> None:
    r = _result(gevent_3000=9.5, back_to_back=12.5)
    assert r["ratios"]["order_sign_3000_p50_ms"] == 9.5
    assert r["ratios"]["order_sign_3000_back_to_back_p50_ms"] == 12.5
    assert r["ratios"]["vs_healthchain_3000_p50"] == 0.47
    assert r["ratios"]["targets"]["order-sign 3 000 resources p50 <= 10 ms"] is True
    text = markdown(r)
    assert "order-sign with 3 000 resources: p50 9.5 ms" in text
    assert "back to back, the next call sent as an answer arrives: 12.5 ms" in text
    assert "The same servers, the 3 000-resource body" in text
    assert "| 9.50 | 11.50 | 12.50 | 0.47× |" in text


def test_a_slow_interleaved_run_is_not_met() -> None:
    r = _result(gevent_3000=10.4, back_to_back=9.0)
    assert r["ratios"]["targets"]["order-sign 3 000 resources p50 <= 10 ms"] is False
    assert "| order-sign 3 000 resources p50 <= 10 ms | **no** |" in markdown(r)


def test_without_the_interleaved_run_the_back_to_back_figure_is_the_one() -> None:
    r = _result(gevent_3000=None, back_to_back=12.5)
    assert r["ratios"]["order_sign_3000_p50_ms"] == 12.5
    assert "vs_healthchain_3000_p50" not in r["ratios"]
    assert "back to back, the next call" not in markdown(r)


def test_the_3000_resource_body_parsed_alone_is_shown_beside_its_p50() -> None:
    """A reader of one run sees how fast the host read JSON that day: the same body parsed by
    orjson and nothing else, and the order-sign p50 as a multiple of it."""
    r = _result(gevent_3000=12.0, back_to_back=11.0)
    r["floors"]["orjson.loads_3000"] = {"p50_ms": 4.0, "p95_ms": 5.0, "p99_ms": 6.0}
    r["ratios"] = ratios(r)
    assert r["ratios"]["order_sign_3000_p50_over_orjson_parse"] == 3.0
    text = markdown(r)
    assert "orjson.loads of the same body alone, in the client, in this run: 4.00 ms" in text
    assert "(the order-sign p50 is 3.0× that)" in text
    assert (
        "| floor: orjson.loads, 3 000-resource body (collector paused) | 4.00 | 5.00 | 6.00 |  |"
        in text
    )


def test_a_run_without_the_3000_resource_parse_floor_still_reports() -> None:
    r = _result(gevent_3000=12.0, back_to_back=11.0)
    r["floors"].pop("orjson.loads_3000", None)
    r["ratios"] = ratios(r)
    assert "order_sign_3000_p50_over_orjson_parse" not in r["ratios"]
    assert "orjson.loads of the same body alone" not in markdown(r)
