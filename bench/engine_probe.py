"""The in-process engine of one source tree, driven over stdin/stdout (`bench engine-ab`).

    PYTHONPATH=<tree> python bench/engine_probe.py BODY.json

imports `cds_service` and `cards` from <tree> (a commit checked out in a temporary `git
worktree`, or the current tree), builds the patient record of the order-sign body once, and
answers one JSON line per command read from stdin:

    N        -> {"cpu_ms": [...]}  CPU time (time.process_time) of N calls of normalise +
                assess + render, one figure per call
    rss      -> {"rss_kb": ...}    resident memory of this process now
    quit     -> exits

The first line it writes is {"ready": true, "tree": <where cds_service came from>, "rss_kb":
<after loading the knowledge and running the engine once>, "rss_start_kb": <before>, "cards"}.
Only APIs that both the old and the new trees have are used here.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def stages(body: dict[str, Any]) -> SimpleNamespace:
    """The record of `body` built once, and the three pure stages over it as callables:
    `normalise()` -> facts, `assess(facts)` -> assessment, `render(assessment)` -> cards (also
    used by `bench run`'s engine-alone figures)."""
    import orjson

    from cards.render import render_cards
    from cds_service.assess.engine import assess
    from cds_service.assess.registry import Settings
    from cds_service.config import Config
    from cds_service.discovery import build_services
    from cds_service.gather import gather
    from cds_service.knowledge import load_knowledge
    from cds_service.normalise import normalise
    from cds_service.normalise.orders import recognise_orders
    from cds_service.request import parse_hook_request

    knowledge = load_knowledge()
    config = Config(allow_unsigned=True)
    raw = orjson.dumps(body)
    hook_request = parse_hook_request("rheum-order-sign", raw, {}, config, None, hook="order-sign")
    plan = build_services(knowledge)["rheum-order-sign"].prefetch
    record = gather(hook_request, plan, config, time.monotonic() + 5)
    orders = recognise_orders(hook_request.draft_orders, knowledge)
    today = date.today()
    return SimpleNamespace(
        record=record,
        normalise=lambda: normalise(record, orders, knowledge, today),
        assess=lambda facts: assess(facts, knowledge, Settings()),
        render=lambda assessment: render_cards(
            assessment, "en", knowledge, "http://localhost:8080/docs", "order-sign"
        ),
    )


def prepare(body: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
    """One call of normalise + assess + render on the record of `body`."""
    run = stages(body)
    return lambda: run.render(run.assess(run.normalise()))


def main(body_path: str) -> int:
    rss_start = _rss_kb()
    body = json.loads(Path(body_path).read_text())
    once = prepare(body)
    cards = once()
    gc.collect()
    gc.freeze()  # as a serving worker does after loading the app
    import cds_service

    ready = {
        "ready": True,
        "tree": str(Path(cds_service.__file__).resolve().parent.parent),
        "rss_start_kb": rss_start,
        "rss_kb": _rss_kb(),
        "cards": len(cards),
    }
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command == "rss":
            print(json.dumps({"rss_kb": _rss_kb()}), flush=True)
            continue
        out = []
        for _ in range(int(command)):
            t0 = time.process_time()
            once()
            out.append(round((time.process_time() - t0) * 1000, 4))
        print(json.dumps({"cpu_ms": out}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
