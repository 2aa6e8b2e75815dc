"""The worker's heap, set once the app is loaded: its garbage collector and its page size.

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

Then, on Linux, the parts of the heap that are already fully in memory are backed by 2 MB
pages instead of 4 KB ones (`huge_pages`). A call reads objects spread over thousands of
pages (code, knowledge tables, the memory its own objects reuse); when it runs after other
processes have used the core, each page costs a TLB miss, and in a virtual machine a miss is
a two-level page walk. Measured on the benchmark's 2-core VM, one gevent worker, 600-resource
order-sign, a client calling it, HealthChain, the sync and gthread servers in turn, three
paired runs: worker CPU per call 6.83 / 6.43 / 6.18 -> 5.87 / 5.99 / 5.20 ms, every stage
lower (docs/performance.md).
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from typing import BinaryIO

THRESHOLDS = (50_000, 20, 20)

HUGE = 2 << 20  # an x86-64 / arm64 (4 KB base pages) transparent huge page
PAGE = 4096
MADV_COLLAPSE = 25  # Linux 6.1+: back a range by huge pages now, in the calling thread
FULL = 0.9  # a 2 MB range is collapsed only when this share of its pages is in memory


def settle() -> None:
    """Collect once, freeze what is alive, raise the young-generation threshold, and back the
    heap's populated ranges by huge pages (where the system allows it)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    huge_pages()


def huge_pages() -> int:
    """Ask Linux to back each 2 MB range of the process's private anonymous memory (the heap
    and the allocator's arenas) that is at least 90 % in memory already by one huge page;
    returns the bytes collapsed (0 where unsupported: another OS, Linux before 6.1, THP set to
    `never`, no memory free for it; nothing fails). Ranges mostly unused (thread stacks,
    reserved arenas) are left alone, so the resident memory grows by at most 10 % of what is
    collapsed. The pages keep their contents; only the mapping changes."""
    if not sys.platform.startswith("linux") or os.sysconf("SC_PAGE_SIZE") != PAGE:
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        madvise.restype = ctypes.c_int
        with open("/proc/self/maps") as maps:
            regions = [_anonymous(line) for line in maps]
        collapsed = 0
        with open("/proc/self/pagemap", "rb", buffering=0) as pagemap:
            for region in regions:
                if region is None:
                    continue
                start, end = region
                for base in range(start, end, HUGE):
                    if not _mostly_present(pagemap, base):
                        continue
                    if madvise(base, HUGE, MADV_COLLAPSE) == 0:
                        collapsed += HUGE
                    elif ctypes.get_errno() == 22:  # EINVAL: this kernel cannot
                        return collapsed
        return collapsed
    except (OSError, AttributeError, ValueError):
        return 0


def _anonymous(line: str) -> tuple[int, int] | None:
    """The whole 2 MB ranges of a private, writable, anonymous mapping of /proc/self/maps."""
    fields = line.split()
    if len(fields) < 5 or fields[1] != "rw-p" or fields[4] != "0":
        return None
    if len(fields) > 5 and fields[5] != "[heap]":
        return None  # [stack], [vvar]... and file mappings
    low, high = (int(x, 16) for x in fields[0].split("-"))
    start = (low + HUGE - 1) // HUGE * HUGE
    end = high // HUGE * HUGE
    return (start, end) if end > start else None


def _mostly_present(pagemap: BinaryIO, base: int) -> bool:
    """Whether at least FULL of the 512 pages of [base, base + 2 MB) are in memory
    (/proc/self/pagemap: bit 63 of each page's 64-bit entry)."""
    pagemap.seek(base // PAGE * 8)
    entries = pagemap.read(HUGE // PAGE * 8)
    if len(entries) != HUGE // PAGE * 8:
        return False
    present = sum(b >> 7 for b in entries[7::8])
    return present >= FULL * (HUGE // PAGE)
