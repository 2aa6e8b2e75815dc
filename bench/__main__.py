"""`python -m bench [run|soak|engine-ab]` — see docs/performance.md and docs/reliability.md.

python -m bench run                 everything below, written to bench/results/latest.{json,md}
python -m bench run --quick         a smoke run (fewer samples), latest-quick.{json,md}
python -m bench engine-ab --base 2884477   the engine of a commit against this tree
python -m bench soak --requests 100000 --size 50 --rate 150 --minutes 55
python -m bench memory --requests 100000 --size 50   one worker's memory, as fast as it serves
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
AB_BASE = "2884477"  # issue 11: the engine at most 10 % slower than this commit
COMPARED = ("gevent", "sync", "gthread")


def _stop_on_sigterm() -> None:
    """A SIGTERM (timeout, kill) unwinds like Ctrl-C, so every server the benchmark started
    is stopped by its context manager instead of being left behind."""
    import signal

    def _raise(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def main(argv: list[str] | None = None) -> int:
    _stop_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="cmd")
    r = sub.add_parser("run", help="latency, throughput, floors, HealthChain (default)")
    r.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    r.add_argument("--no-healthchain", action="store_true")
    r.add_argument("--no-hapi", action="store_true")
    r.add_argument("--out", type=Path, default=RESULTS)
    r.add_argument("--base", default=AB_BASE, help=f"engine A/B against this ref ({AB_BASE})")
    r.add_argument("--no-ab", action="store_true", help="skip the engine A/B")
    r.add_argument(
        "--servers",
        default=",".join(COMPARED),
        help=f"gunicorn worker classes compared ({','.join(COMPARED)}; granian if installed)",
    )
    c = sub.add_parser("compare", help="only the interleaved server / HealthChain comparison")
    c.add_argument("--requests", type=int, default=400, help="latency samples per server")
    c.add_argument("--seconds", type=float, default=10.0, help="throughput seconds per server")
    c.add_argument("--servers", default=",".join(COMPARED))
    c.add_argument("--out", type=Path, default=RESULTS)
    ab = sub.add_parser("engine-ab", help="engine CPU of a git ref against this tree")
    ab.add_argument("--base", default=AB_BASE)
    ab.add_argument("--rounds", type=int, default=8)
    ab.add_argument("--calls", type=int, default=50)
    ab.add_argument("--out", type=Path, default=RESULTS)
    s = sub.add_parser("soak", help="bounded load + feedback at a fixed rate; memory and rows")
    s.add_argument("--minutes", type=float, default=10.0)
    s.add_argument("--rate", type=float, default=0.0, help="requests/s (0: 70%% of measured)")
    s.add_argument("--requests", type=int, default=0, help="stop after this many hook calls")
    s.add_argument("--size", type=int, default=600, help="resources per request (600)")
    s.add_argument("--out", type=Path, default=RESULTS)
    m = sub.add_parser("memory", help="one worker's resident memory over N calls, no pause")
    m.add_argument("--requests", type=int, default=100_000)
    m.add_argument("--size", type=int, default=50, help="resources per request (50)")
    m.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.cmd == "memory":
        from bench.memory import memory

        mem = memory(args.requests, args.size)
        (args.out / f"memory-{args.requests}.json").write_text(json.dumps(mem, indent=2))
        print(json.dumps({k: v for k, v in mem.items() if k != "samples"}, indent=2))
        return 0 if mem["flat"] and not mem["errors"] else 1
    if args.cmd == "soak":
        from bench.soak import soak

        result = soak(args.minutes, args.rate, args.requests, args.size)
        name = "soak.json" if not args.requests else f"soak-{args.requests}.json"
        (args.out / name).write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
        return 0 if result["ok"] else 1
    if args.cmd == "compare":
        import orjson

        from bench import bodies
        from bench.report import comparison_table
        from bench.run import comparison

        raw = orjson.dumps(bodies.order_sign_body(600))
        classes = tuple(c for c in args.servers.split(",") if c)
        raw3000 = orjson.dumps(bodies.order_sign_body(3000))
        comp = comparison(raw, args.requests, args.seconds, classes, raw3000=raw3000)
        (args.out / "comparison.json").write_text(json.dumps(comp, indent=2))
        print("\n".join(comparison_table(comp)))
        return 0
    if args.cmd == "engine-ab":
        from bench.engine_ab import engine_ab
        from bench.engine_ab import markdown as ab_markdown

        ab_result = engine_ab(args.base, args.rounds, args.calls)
        (args.out / "engine-ab.json").write_text(json.dumps(ab_result, indent=2))
        print(ab_markdown(ab_result))
        return 0
    from bench.report import markdown
    from bench.run import run

    quick = getattr(args, "quick", False)
    classes = tuple(c for c in getattr(args, "servers", ",".join(COMPARED)).split(",") if c)
    result = run(
        quick=quick,
        healthchain=not getattr(args, "no_healthchain", False),
        hapi=not getattr(args, "no_hapi", False),
        servers_compared=classes,
    )
    if not getattr(args, "no_ab", False):
        from bench.engine_ab import engine_ab

        base = getattr(args, "base", AB_BASE)
        result["engine_ab"] = engine_ab(base, 4, 25) if quick else engine_ab(base)
    name = "latest-quick" if quick else "latest"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2))
    table = markdown(result)
    (args.out / f"{name}.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
