"""`python -m bench [run|soak]` — see docs/performance.md and docs/reliability.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="cmd")
    r = sub.add_parser("run", help="latency, throughput, floors, HealthChain (default)")
    r.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    r.add_argument("--no-healthchain", action="store_true")
    r.add_argument("--no-hapi", action="store_true")
    r.add_argument("--out", type=Path, default=RESULTS)
    s = sub.add_parser("soak", help="bounded load + feedback at a fixed rate; memory and rows")
    s.add_argument("--minutes", type=float, default=10.0)
    s.add_argument("--rate", type=float, default=0.0, help="requests/s (0: 70%% of measured)")
    s.add_argument("--requests", type=int, default=0, help="stop after this many hook calls")
    s.add_argument("--size", type=int, default=600, help="resources per request (600)")
    s.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.cmd == "soak":
        from bench.soak import soak

        result = soak(args.minutes, args.rate, args.requests, args.size)
        name = "soak.json" if not args.requests else f"soak-{args.requests}.json"
        (args.out / name).write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
        return 0 if result["ok"] else 1
    from bench.report import markdown
    from bench.run import run

    quick = getattr(args, "quick", False)
    result = run(
        quick=quick,
        healthchain=not getattr(args, "no_healthchain", False),
        hapi=not getattr(args, "no_hapi", False),
    )
    name = "latest-quick" if quick else "latest"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2))
    table = markdown(result)
    (args.out / f"{name}.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
