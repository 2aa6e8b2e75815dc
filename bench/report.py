"""Markdown tables from a benchmark result (the figures in docs/performance.md)."""

from __future__ import annotations

from typing import Any


def _row(name: str, s: dict[str, Any], floor: float | None = None) -> str:
    ratio = f"{s['p50_ms'] / floor:.1f}×" if floor else ""
    return f"| {name} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['p99_ms']:.2f} | {ratio} |"


def markdown(r: dict[str, Any]) -> str:
    f = r["floors"]
    disc = f["discovery"]["p50_ms"]
    lines = [
        f"Run {r['date']} on commit `{r['commit']}`, {r['machine']['cpus']} CPUs, Python "
        f"{r['machine']['python']}{' (quick profile)' if r.get('quick') else ''}.",
        "",
        "| measurement | p50 ms | p95 ms | p99 ms | p50 / discovery p50 |",
        "|---|---|---|---|---|",
        _row("floor: GET /cds-services", f["discovery"], disc),
        _row(
            f"floor: json.loads, 600-resource body ({r['body_bytes_600'] // 1024} KB)",
            f["json.loads_600"],
        ),
        _row("floor: orjson.loads, same body", f["orjson.loads_600"]),
        _row("engine alone (normalise + assess + render), 600 resources", r["engine_600"]["total"]),
        _row("  of which normalise", r["engine_600"]["normalise"]),
        _row("  of which assess", r["engine_600"]["assess"]),
        _row("  of which render", r["engine_600"]["render"]),
    ]
    for case in r["order_sign"].values():
        lines.append(
            _row(
                f"order-sign, full prefetch, {case['resources']} resources "
                f"({case['body_bytes'] // 1024} KB)",
                case["latency"],
                disc,
            )
        )
    for name, case in r.get("no_prefetch", {}).items():
        if "total" in case:
            lines.append(
                _row(
                    f"order-sign, no prefetch, FHIR server: {name} (slowest single "
                    f"query p50 {case['slowest_query_p50_ms']:.1f} ms)",
                    case["total"],
                    disc,
                )
            )
        else:
            lines.append(f"| order-sign, no prefetch, {name} | {case.get('error')} | | | |")
    hc = r.get("healthchain", {})
    if "latency" in hc:
        lines.append(
            _row("HealthChain 0.16 service, same 600-resource body, one card", hc["latency"], disc)
        )
    lines += ["", "| throughput, 1 sync worker, 2 clients | requests/s | errors |", "|---|---|---|"]
    for case in r["order_sign"].values():
        t = case["throughput_1_worker"]
        lines.append(f"| order-sign, {case['resources']} resources | {t['rps']} | {t['errors']} |")
    if "throughput_1_worker" in hc:
        t = hc["throughput_1_worker"]
        lines.append(
            f"| HealthChain, 600 resources (uvicorn, 1 process) | {t['rps']} | {t['errors']} |"
        )
    lines += ["", "| ratio | value |", "|---|---|"]
    for key, value in r["ratios"].items():
        if key != "targets":
            lines.append(f"| {key} | {value} |")
    lines += ["", "| target | met |", "|---|---|"]
    for key, ok in r["ratios"]["targets"].items():
        lines.append(f"| {key} | {'yes' if ok else '**no**'} |")
    return "\n".join(lines) + "\n"
