"""Both ways of running workers (the container's gunicorn config and `rheum-cds serve`) settle
the garbage collector the same way once the app is loaded (cds_service/heap.py)."""

from __future__ import annotations

import ctypes
import gc
import mmap
import os
import runpy
import sys
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


def _present_pages(start: int, length: int) -> int:
    with open("/proc/self/pagemap", "rb", buffering=0) as pagemap:
        pagemap.seek(start // heap.PAGE * 8)
        entries = pagemap.read(length // heap.PAGE * 8)
    return sum(b >> 7 for b in entries[7::8])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux page tables")
def test_huge_pages_keep_the_heap_and_make_no_unused_memory_resident() -> None:
    """Backing the heap by huge pages changes no object, and memory mapped but never used
    (a reserved arena, a thread stack) stays out of RAM."""
    used = bytearray(os.urandom(1024)) * 8192  # 8 MB in use: its pages are in memory
    unused = mmap.mmap(-1, 8 * heap.HUGE)  # 16 MB mapped, never touched
    start = ctypes.addressof(ctypes.c_char.from_buffer(unused))
    before = bytes(used)
    collapsed = heap.huge_pages()
    assert collapsed >= 0 and collapsed % heap.HUGE == 0
    assert bytes(used) == before
    assert _present_pages(start, len(unused)) == 0
    unused.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux page tables")
def test_settle_backs_a_loaded_heap_by_huge_pages_where_linux_can(restored_gc: None) -> None:
    """Where the kernel can collapse memory into huge pages (Linux 6.1+, THP not `never`),
    the settled worker's heap is backed by some."""
    enabled = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not enabled.exists() or "[never]" in enabled.read_text():
        pytest.skip("transparent huge pages are off on this system")
    loaded = [bytearray(64) for _ in range(200_000)]  # ~20 MB of small objects, like knowledge
    gc.unfreeze()
    heap.settle()
    rollup = Path("/proc/self/smaps_rollup").read_text()
    huge_kb = int(next(line.split()[1] for line in rollup.splitlines() if "AnonHuge" in line))
    if huge_kb == 0 and heap.huge_pages() == 0:
        pytest.skip("this kernel does not collapse memory on request (before Linux 6.1)")
    assert huge_kb > 0
    assert all(len(b) == 64 for b in loaded)
