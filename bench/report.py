"""Markdown tables from a benchmark result (the figures in docs/performance.md)."""

from __future__ import annotations

from typing import Any


def _row(name: str, s: dict[str, Any], floor: float | None = None) -> str:
    ratio = f"{s['p50_ms'] / floor:.1f}×" if floor else ""
    return f"| {name} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['p99_ms']:.2f} | {ratio} |"


def markdown(r: dict[str, Any]) -> str:
    f = r["floors"]
    disc = f["discovery"]["p50_ms"]
    load = r["machine"].get("load_average")
    lines = [
        f"Run {r['date']} on commit `{r['commit']}`, {r['machine']['cpus']} CPUs, Python "
        f"{r['machine']['python']}{' (quick profile)' if r.get('quick') else ''}"
        + (f", load average at start {load[0]:.1f}." if load else "."),
        "",
        *summary(r),
        "| measurement | p50 ms | p95 ms | p99 ms | p50 / discovery p50 |",
        "|---|---|---|---|---|",
        _row("floor: GET /cds-services", f["discovery"], disc),
        _row(
            f"floor: json.loads, 600-resource body ({r['body_bytes_600'] // 1024} KB)",
            f["json.loads_600"],
        ),
        _row("floor: orjson.loads, same body", f["orjson.loads_600"]),
        *(
            [
                _row(
                    "floor: orjson.loads, 3 000-resource body (collector paused)",
                    f["orjson.loads_3000"],
                )
            ]
            if "orjson.loads_3000" in f
            else []
        ),
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
    lines += [
        "",
        "| throughput, 1 worker (default class), 4 clients | requests/s | errors |",
        "|---|---|---|",
    ]
    for case in r["order_sign"].values():
        t = case["throughput_1_worker"]
        lines.append(f"| order-sign, {case['resources']} resources | {t['rps']} | {t['errors']} |")
    lines += comparison_table(r.get("comparison", {}))
    mem = r.get("memory", {})
    lines += [""]
    if "rss_mb_end" in mem:
        who = (
            "one worker, every call its own chart and patient"
            if mem["kind"] == "memory"
            else f"{mem['workers']} workers together, feedback on cards"
        )
        lines.append(
            f"Resident memory over {mem['hook_calls']:,} requests of "
            f"{mem['resources_per_request']} resources ({mem['source']}, {mem['date']}, "
            f"commit `{mem.get('commit') or '?'}`; {who}): {mem['rss_mb_after_warmup']} MB "
            f"after warm-up, {mem['rss_mb_end']} MB at the end; trend over the second half: "
            f"{mem.get('trend_second_half_mb_per_10k_requests')} MB per 10 000 requests "
            f"({'flat' if mem['flat'] else 'NOT flat'})."
        )
    else:
        lines.append(f"Resident memory: {mem.get('error', 'not measured')}.")
    ab = r.get("engine_ab")
    if ab:
        from bench.engine_ab import markdown as ab_markdown

        lines += ["", ab_markdown(ab).rstrip()]
    lines += ["", "| ratio | value |", "|---|---|"]
    for key, value in r["ratios"].items():
        if key == "vs_healthchain_by_server":
            for server, rel in value.items():
                lines.append(f"| vs HealthChain, {server} | {rel} |")
        elif key != "targets":
            lines.append(f"| {key} | {value} |")
    lines += ["", "| target | met |", "|---|---|"]
    for key, ok in r["ratios"]["targets"].items():
        lines.append(f"| {key} | {'yes' if ok else '**no**'} |")
    return "\n".join(lines) + "\n"


def comparison_table(comp: dict[str, Any]) -> list[str]:
    """The interleaved server / HealthChain comparison (bench.run.comparison) as a table."""
    if not comp.get("latency"):
        return []
    hc = comp["latency"].get("healthchain")
    hc_rps = comp["throughput_4_clients"].get("healthchain", {}).get("rps")
    cpu = comp.get("server_cpu_ms_per_request", {})
    hc_cpu = cpu.get("healthchain")
    lines = [
        "",
        "One interleaved run, same 600-resource order-sign body, one process each "
        "(HealthChain 0.16 one-card handler under uvicorn; the service in one worker):",
        "",
        "| server | p50 ms | p95 ms | p99 ms | req/s, 4 clients | server CPU ms/req "
        "| p50 / HC | p99 / HC | req/s / HC | CPU / HC |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in comp["targets"]:
        lat = comp["latency"][name]
        rps = comp["throughput_4_clients"][name]["rps"]
        rel = ["", "", "", ""]
        if hc and name != "healthchain":
            rel = [
                f"{lat['p50_ms'] / hc['p50_ms']:.2f}×",
                f"{lat['p99_ms'] / hc['p99_ms']:.2f}×",
                f"{rps / hc_rps:.2f}×" if hc_rps else "",
                f"{cpu[name] / hc_cpu:.2f}×" if hc_cpu and name in cpu else "",
            ]
        label = f"**{name}** (default)" if name == comp.get("default") else name
        lines.append(
            f"| {label} | {lat['p50_ms']:.2f} | {lat['p95_ms']:.2f} | {lat['p99_ms']:.2f} "
            f"| {rps} | {cpu.get(name, '')} | {' | '.join(rel)} |"
        )
    lat3000 = comp.get("latency_3000", {})
    if lat3000:
        hc3 = lat3000.get("healthchain")
        lines += [
            "",
            "The same servers, the 3 000-resource body, one client calling each in turn:",
            "",
            "| server | p50 ms | p95 ms | p99 ms | p50 / HC |",
            "|---|---|---|---|---|",
        ]
        for name in comp["targets"]:
            lat = lat3000.get(name)
            if lat is None:
                continue
            rel = f"{lat['p50_ms'] / hc3['p50_ms']:.2f}×" if hc3 and name != "healthchain" else ""
            label = f"**{name}** (default)" if name == comp.get("default") else name
            lines.append(
                f"| {label} | {lat['p50_ms']:.2f} | {lat['p95_ms']:.2f} | {lat['p99_ms']:.2f} "
                f"| {rel} |"
            )
    return lines


def _parse_floor_3000(r: dict[str, Any]) -> str:
    """The 3 000-resource body parsed by orjson and nothing else, in the same run: the host's
    speed that day, which moves the 3 000-resource p50 with it."""
    parse = r["floors"].get("orjson.loads_3000")
    ratio = r.get("ratios", {}).get("order_sign_3000_p50_over_orjson_parse")
    if not parse or ratio is None:
        return ""
    return (
        f"; orjson.loads of the same body alone, in the client, in this run: "
        f"{parse['p50_ms']:.2f} ms (the order-sign p50 is {ratio}× that)"
    )


def summary(r: dict[str, Any]) -> list[str]:
    """Issue 16's figures first: the three HealthChain ratios of the default server, the
    3 000-resource p50, memory over the soak, and the engine A/B of issue 11."""
    ratios = r.get("ratios", {})
    out = []
    if ratios.get("vs_healthchain_p50") is not None:
        out.append(
            f"- against HealthChain 0.16.1 (one interleaved run, 600 resources, one process "
            f"each): p50 {ratios['vs_healthchain_p50']}×, p99 {ratios['vs_healthchain_p99']}×, "
            f"throughput with 4 clients {ratios['vs_healthchain_throughput_4_clients']}×"
        )
    if "order_sign_3000_p50_ms" in ratios:
        back = ratios.get("order_sign_3000_back_to_back_p50_ms")
        out.append(
            f"- order-sign with 3 000 resources: p50 {ratios['order_sign_3000_p50_ms']} ms"
            + (
                f" (one client calling each server in turn; back to back, the next call sent "
                f"as an answer arrives: {back} ms)"
                if back is not None and back != ratios["order_sign_3000_p50_ms"]
                else ""
            )
            + _parse_floor_3000(r)
        )
    mem = r.get("memory", {})
    if "rss_mb_end" in mem:
        out.append(
            f"- resident memory over {mem['hook_calls']:,} requests: "
            f"{mem['rss_mb_after_warmup']} → {mem['rss_mb_end']} MB, trend "
            f"{mem.get('trend_second_half_mb_per_10k_requests')} MB per 10 000 requests "
            f"({mem['source']}, commit `{mem.get('commit') or '?'}`)"
        )
    ab = r.get("engine_ab")
    if ab:
        out.append(
            f"- engine against `{ab['base_commit']}`: p50 CPU "
            f"{ab['ratio_current_over_base'].get('p50_ms')}×, RSS {ab['rss_growth_mb']:+} MB"
        )
    return [*out, ""] if out else []
