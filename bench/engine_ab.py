"""`python -m bench engine-ab --base REF`: the engine of REF against the current tree.

REF is checked out in a temporary `git worktree` (removed afterwards). One probe process per
tree (bench/engine_probe.py, the tree's own `cds_service` and `cards` first on the path) builds
the same 600-resource record; the two are then driven in alternation, `rounds` batches of
`calls` each, so that both see the same machine load, and each call's CPU time
(time.process_time) is kept. Reported: p10 / p50 / p90 per tree, the ratio current/base of each
(p10 is the least disturbed by other work on a shared machine), and resident memory of each
probe after loading the knowledge and running the engine (the worker's own growth).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import bodies
from bench.measure import percentile

ROOT = Path(__file__).resolve().parent.parent
PROBE = ROOT / "bench" / "engine_probe.py"


@contextlib.contextmanager
def _worktree(ref: str) -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="rheum-ab-")) / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(where), ref],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        yield where
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(where)],
            cwd=ROOT,
            check=False,
            capture_output=True,
        )


class _Probe:
    def __init__(self, tree: Path, body_file: Path) -> None:
        env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"}
        self.proc = subprocess.Popen(
            [sys.executable, str(PROBE), str(body_file)],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("engine probe exited (see its stderr above)")
        return json.loads(line)

    def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.ask_quit()
        self.proc.wait(10)

    def ask_quit(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p10_ms": round(percentile(values, 0.10), 3),
        "p50_ms": round(percentile(values, 0.50), 3),
        "p90_ms": round(percentile(values, 0.90), 3),
    }


def engine_ab(base: str, rounds: int = 8, calls: int = 50, size: int = 600) -> dict[str, Any]:
    body_file = Path(tempfile.mkdtemp(prefix="rheum-ab-body-")) / "body.json"
    body_file.write_text(json.dumps(bodies.order_sign_body(size)))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", base], cwd=ROOT, text=True, capture_output=True
    ).stdout.strip()
    with _worktree(base) as tree:
        probes = {"base": _Probe(tree, body_file), "current": _Probe(ROOT, body_file)}
        try:
            cpu: dict[str, list[float]] = {"base": [], "current": []}
            for r in range(rounds):
                order = ("base", "current") if r % 2 == 0 else ("current", "base")
                for name in order:
                    cpu[name].extend(probes[name].ask(str(calls))["cpu_ms"])
            after = {name: p.ask("rss")["rss_kb"] for name, p in probes.items()}
            ready = {name: p.ready for name, p in probes.items()}
        finally:
            for p in probes.values():
                p.close()
    stats = {name: _stats(values) for name, values in cpu.items()}
    ratio = {
        key: round(stats["current"][key] / stats["base"][key], 3)
        for key in ("p10_ms", "p50_ms", "p90_ms")
        if stats["base"][key]
    }
    rss_mb = {name: round(after[name] / 1024, 1) for name in after}
    return {
        "base": base,
        "base_commit": commit,
        "resources": size,
        "rounds": rounds,
        "calls_per_round": calls,
        "cpu_ms": stats,
        "ratio_current_over_base": ratio,
        "cards": {name: r["cards"] for name, r in ready.items()},
        "trees": {name: r["tree"] for name, r in ready.items()},
        "rss_mb_after_engine": rss_mb,
        "rss_growth_mb": round(rss_mb["current"] - rss_mb["base"], 1),
        "targets": {
            "engine at most 10 % slower than base (p50 CPU)": ratio.get("p50_ms", 99) <= 1.10,
            "worker RSS grows by at most 50 MB": rss_mb["current"] - rss_mb["base"] <= 50,
        },
    }


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"Engine A/B, {r['resources']}-resource record, CPU per call (normalise + assess + "
        f"render), {r['rounds']} interleaved rounds × {r['calls_per_round']} calls:",
        "",
        "| tree | p10 ms | p50 ms | p90 ms | cards | RSS after engine |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("base", "current"):
        s = r["cpu_ms"][name]
        label = f"base `{r['base_commit']}`" if name == "base" else "current"
        lines.append(
            f"| {label} | {s['p10_ms']:.2f} | {s['p50_ms']:.2f} | {s['p90_ms']:.2f} | "
            f"{r['cards'][name]} | {r['rss_mb_after_engine'][name]} MB |"
        )
    ratio = r["ratio_current_over_base"]
    lines += [
        "",
        f"current / base: p10 {ratio.get('p10_ms')}, p50 {ratio.get('p50_ms')}, "
        f"p90 {ratio.get('p90_ms')}; RSS {r['rss_growth_mb']:+} MB.",
        "",
    ]
    for key, ok in r["targets"].items():
        lines.append(f"- {key}: {'yes' if ok else '**no**'}")
    return "\n".join(lines) + "\n"
