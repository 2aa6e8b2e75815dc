"""Both ways of running workers (the container's gunicorn config and `rheum-cds serve`) settle
the garbage collector the same way once the app is loaded (cds_service/heap.py)."""

from __future__ import annotations

import gc
import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest

from cds_service import heap

CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_settle_freezes_the_loaded_app_and_raises_the_young_threshold(restored_gc: None) -> None:
    survivor = {"knowledge": ["loaded", "once"]}
    gc.unfreeze()
    heap.settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == heap.THRESHOLDS
    assert gc.get_threshold()[0] >= 10 * 700  # far fewer young collections than CPython's
    assert survivor["knowledge"] == ["loaded", "once"]


def test_container_workers_settle_the_heap_like_serve(restored_gc: None) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    conf = runpy.run_path(str(CONF))
    conf["post_worker_init"](None)
    assert gc.get_threshold() == heap.THRESHOLDS
    assert gc.get_freeze_count() > 0
