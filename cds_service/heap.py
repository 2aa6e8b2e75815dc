"""The worker's garbage collector, set once the app is loaded.

A hook call builds ~100 000 short-lived, acyclic containers (the parsed body, the record, the
facts) that reference counting frees. Two settings keep the cyclic collector from rescanning
them and the app's long-lived objects dozens of times per call:

- `gc.freeze()` moves everything alive after start-up (knowledge, value sets, expansions,
  templates, models) out of the collector's reach;
- a first-generation threshold of 50 000 net allocations instead of CPython's 700, so a call
  triggers a few young collections instead of ~150. Cyclic garbage still gets collected; it
  waits for at most that many allocations.

Measured with `python -m bench` (docs/performance.md): 600-resource order-sign CPU per call
about 10 % lower, 3 000-resource about 6 %.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)


def settle() -> None:
    """Collect once, freeze what is alive, raise the young-generation threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
