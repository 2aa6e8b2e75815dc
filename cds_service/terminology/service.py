"""The institution's terminology in a running service: stored codes, refresh, look-ups.

`Terminology` is built once per worker by the app factory:

- `start()` loads the codes kept in storage (RF2 import, server expansions, earlier look-ups)
  into `ValueSets.cond_terminology`, the one dict normalise consults for codes the shipped value
  sets do not know (so the hot path stays dict look-ups). With a server configured it starts a
  background thread that expands every concept's SNOMED CT roots when the stored expansion is
  missing or older than `refresh_hours`, stores the result with the server's version and
  reloads; start-up waits for that first expansion at most `startup_wait_s` (only when nothing
  is stored yet). Workers and replicas sharing a database refresh one at a time (a lease row)
  and the others read the stored result.
- `resolve(codes, deadline)` is the pipeline's one I/O step between two normalise passes: each
  SNOMED CT code of the request that is in neither the shipped nor the stored codes is checked
  with `$subsumes` against the concept roots, concurrently, until `deadline`. A code answered
  for every root is cached (memory at once, storage in the background) with its concepts, or as
  "under no concept". A code the server does not know, or that could not be checked in time,
  stays unclassified for this request (rules then say it was not assessed). After a timeout or
  connection failure look-ups pause for `BACKOFF_S`, so a server that is down costs requests
  nothing.

Logs carry counts and error kinds, never codes (they come from patient records).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from functools import lru_cache

from cds_service import metrics
from cds_service.config import TerminologyConfig
from cds_service.knowledge.index import ValueSets
from cds_service.knowledge.loader import EXPANSIONS_REVIEW
from cds_service.knowledge.loader import HERE as KNOWLEDGE_DIR
from cds_service.storage import StorageError
from cds_service.terminology.client import TerminologyClient, TerminologyError
from cds_service.terminology.store import (
    NO_CONCEPT,
    RF2_SOURCE,
    CodeRow,
    TerminologyStore,
    lookup_source,
    server_source,
)

log = logging.getLogger(__name__)

FAMILY = "snomed"
SCTID = re.compile(r"[1-9][0-9]{5,17}")  # a SNOMED CT identifier (6-18 digits)
BACKOFF_S = 30.0  # no look-ups for this long after the server failed to answer
RETRY_S = 60.0  # a failed refresh is tried again after this long
CHECK_S = 300.0  # how often a worker looks whether another one refreshed the expansion
MIN_LOOKUP_S = 0.05  # a look-up is not started with less time than this
MAX_CODES_PER_REQUEST = 20
MATCH = frozenset({"subsumes", "equivalent"})


@lru_cache(maxsize=1)
def reviewed_exclusions() -> frozenset[tuple[str, str]]:
    """(concept, code) pairs the reviewed expansion excluded (look-alikes: family history of X,
    malignant hypertension...), from valuesets/expansions/conditions-review.json. A server's
    or a release's hierarchy never puts such a code back into that concept."""
    try:
        data = json.loads((KNOWLEDGE_DIR / EXPANSIONS_REVIEW).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(
        (str(row[0]), str(row[1]))
        for row in data.get("review", [])
        if isinstance(row, list) and len(row) >= 4 and str(row[3]).startswith("excluded")
    )


def learnt_concepts(
    codes: Mapping[str, set[str]],
    vs: ValueSets,
    excluded: frozenset[tuple[str, str]] = frozenset(),
) -> dict[tuple[str, str], frozenset[str]]:
    """`cond_terminology` entries from stored rows (code -> concept ids): concepts with their
    implied broader ones, without the reviewed exclusions (a code left with none is known to be
    no concept); concepts the knowledge no longer has are dropped."""
    known = set(vs.cond_exact.values()) | set(vs.cond_prefix.values()) | set(vs.cond_roots)
    interned: dict[frozenset[str], frozenset[str]] = {}
    out: dict[tuple[str, str], frozenset[str]] = {}
    for code, concepts in codes.items():
        named = [c for c in concepts if c != NO_CONCEPT and c in known]
        if not named and NO_CONCEPT not in concepts:
            continue  # only concepts this knowledge does not have: not known either way
        kept = [c for c in named if (c, code) not in excluded]
        full = frozenset().union(*(vs.concepts_with_implied(c) for c in kept))
        out[(FAMILY, code)] = interned.setdefault(full, full)
    return out


class Terminology:
    """Stored terminology codes of one worker, and its terminology server if one is set."""

    def __init__(
        self,
        config: TerminologyConfig,
        store: TerminologyStore,
        vs: ValueSets,
        client: TerminologyClient | None = None,
        roots: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.vs = vs
        self.client = client or (TerminologyClient(config) if config.enabled else None)
        # root code -> the concepts it defines (with its descendants)
        self.roots: dict[str, set[str]] = {}
        for concept, codes in (roots if roots is not None else vs.snomed_roots()).items():
            for code in codes:
                self.roots.setdefault(code, set()).add(concept)
        self.missing_roots: frozenset[str] = frozenset()  # roots the server does not know
        self.sources = [RF2_SOURCE]
        if config.enabled:
            self.sources += [server_source(config.url), lookup_source(config.url)]
        self.server_version = ""
        self._server_stamp: datetime | None = None
        self._lookup_stamp: datetime | None = None
        self._down_until = 0.0
        self._unknown: set[str] = set()  # codes the server does not know (until next refresh)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._first_pass = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._writer: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Load stored codes; with a server, start refreshing (bounded wait for the first)."""
        try:
            self.load()
        except StorageError as exc:
            log.warning("terminology codes not loaded: %s", exc)
        if self.client is None:
            return
        self._pool = ThreadPoolExecutor(
            max_workers=self.config.concurrency, thread_name_prefix="terminology-lookup"
        )
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="terminology-store")
        self._thread = threading.Thread(target=self._run, name="terminology-refresh", daemon=True)
        self._thread.start()
        if self._server_stamp is None and self.config.startup_wait_s > 0:
            self._first_pass.wait(self.config.startup_wait_s)

    def stop(self) -> None:
        self._stop.set()
        for pool in (self._pool, self._writer):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        if self._thread is not None:
            self._thread.join(timeout=1)

    def load(self) -> int:
        """Replace the in-memory codes by the stored ones; returns how many codes."""
        codes = self.store.codes(self.sources)
        learnt = learnt_concepts(codes, self.vs, reviewed_exclusions())
        if self.client is not None:
            state = self.store.state(server_source(self.config.url))
            if state is not None:
                self._server_stamp = state.updated_at
                self.server_version = state.version
            lookups = self.store.state(lookup_source(self.config.url))
            self._lookup_stamp = lookups.updated_at if lookups is not None else None
        self.vs.cond_terminology = learnt
        log.info("terminology codes loaded", extra={"fields": {"codes": len(learnt)}})
        return len(learnt)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait_s = self._tick()
            except StorageError as exc:
                log.warning("terminology refresh: storage unavailable (%s)", exc)
                wait_s = RETRY_S
            except Exception as exc:  # noqa: BLE001 - the thread must live on
                log.error("terminology refresh failed: %s", type(exc).__name__)
                wait_s = RETRY_S
            self._first_pass.set()
            self._stop.wait(wait_s)

    def _tick(self) -> float:
        """One pass of the refresh loop; returns seconds until the next."""
        source = server_source(self.config.url)
        interval = self.config.refresh_hours * 3600
        state = self.store.state(source)
        now = datetime.now(UTC)
        if state is not None and state.updated_at is not None:
            age = (now - state.updated_at).total_seconds()
            if age < interval:
                lookups = self.store.state(lookup_source(self.config.url))
                if (
                    self._server_stamp is None
                    or state.updated_at > self._server_stamp
                    or (lookups is not None and _newer(lookups.updated_at, self._lookup_stamp))
                ):
                    self.load()  # another worker or replica refreshed it or looked codes up
                return min(CHECK_S, interval - age + 1)
        lease = max(self.config.timeout_s * 2, 60.0) * 10
        if not self.store.try_lease(source, lease):
            return min(CHECK_S, 30.0)  # another process is refreshing: read its result later
        try:
            self.refresh()
        except (TerminologyError, StorageError) as exc:
            self.store.release(source)
            log.warning(
                "terminology expansion failed, stored codes kept",
                extra={"fields": {"error": str(exc)}},
            )
            return min(RETRY_S, interval)
        return min(CHECK_S, interval)

    # ------------------------------------------------------------------ expansion

    def refresh(self) -> int:
        """Expand every concept root on the server, store the codes with the server's version,
        reload. Raises TerminologyError or StorageError (the stored codes are then kept)."""
        assert self.client is not None
        rows: list[CodeRow] = []
        version = ""
        missing: set[str] = set()
        started = time.monotonic()
        for root, concepts in sorted(self.roots.items()):
            try:
                expansion = self.client.expand_isa(root, time.monotonic() + self.config.timeout_s)
            except TerminologyError as exc:
                if exc.kind == "http" and exc.status in (400, 404, 422):
                    missing.add(root)  # the server does not know this root
                    continue
                raise
            version = version or expansion.version
            rows.extend(
                CodeRow(concept, code, display)
                for concept in sorted(concepts)
                for code, display in expansion.codes
            )
        if len(missing) == len(self.roots) and self.roots:
            raise TerminologyError("http", 404)  # knows none of the roots: keep what we have
        stored = self.store.replace(server_source(self.config.url), version, rows)
        self.missing_roots = frozenset(missing)
        with self._lock:
            self._unknown.clear()
        self.load()
        log.info(
            "terminology expansion stored",
            extra={
                "fields": {
                    "codes": stored,
                    "roots": len(self.roots) - len(missing),
                    "roots_unknown_to_server": len(missing),
                    "seconds": round(time.monotonic() - started, 1),
                }
            },
        )
        return stored

    # ------------------------------------------------------------------ look-ups

    def resolve(self, codes: Sequence[tuple[str, str]], deadline: float) -> int:
        """Look up the request's unclassified (family, code) pairs that no stored source knows,
        until `deadline` (`time.monotonic()`); returns how many codes became known."""
        client, pool = self.client, self._pool
        if client is None or pool is None or not self.config.lookup:
            return 0
        now = time.monotonic()
        if now < self._down_until:
            return 0
        learnt = self.vs.cond_terminology
        pending = list(
            dict.fromkeys(
                code
                for family, code in codes
                if family == FAMILY
                and SCTID.fullmatch(code)
                and (FAMILY, code) not in learnt
                and code not in self._unknown
            )
        )[:MAX_CODES_PER_REQUEST]
        end = min(deadline, now + self.config.lookup_timeout_ms / 1000)
        if not pending or end - now < MIN_LOOKUP_S:
            return 0
        roots = [r for r in self.roots if r not in self.missing_roots]
        futures: dict[Future[str], tuple[str, str]] = {}
        try:
            for code in pending:
                for root in roots:
                    futures[pool.submit(client.subsumes, root, code, end)] = (code, root)
        except RuntimeError:  # pool shut down
            return 0
        done, not_done = wait(futures, timeout=max(0.0, end - time.monotonic()))
        for future in not_done:
            future.cancel()
        answers: dict[str, dict[str, str | None]] = {code: {} for code in pending}
        failed: set[str] = set()
        for future, (code, root) in futures.items():
            if future not in done:
                failed.add(code)
                continue
            exc = future.exception()
            if exc is None:
                answers[code][root] = future.result()
            elif isinstance(exc, TerminologyError) and exc.kind == "http" and not exc.unavailable:
                answers[code][root] = None  # 4xx: the server does not know this root or code
            else:
                failed.add(code)
                if isinstance(exc, TerminologyError) and exc.unavailable:
                    self._down_until = time.monotonic() + BACKOFF_S
        if not_done:
            self._down_until = time.monotonic() + BACKOFF_S
        metrics.observe_terminology_lookup("unavailable", len(failed))
        found: dict[str, set[str]] = {}
        for code in pending:
            if code in failed:
                continue
            outcomes = answers[code]
            if roots and all(v is None for v in outcomes.values()):
                with self._lock:
                    self._unknown.add(code)  # unknown to the server: stays unclassified
                metrics.observe_terminology_lookup("unknown")
                continue
            found[code] = {c for r, v in outcomes.items() if v in MATCH for c in self.roots[r]}
        metrics.observe_terminology_lookup("resolved", len(found))
        if not found:
            return 0
        update = learnt_concepts(
            {code: concepts or {NO_CONCEPT} for code, concepts in found.items()},
            self.vs,
            reviewed_exclusions(),
        )
        self.vs.cond_terminology.update(update)
        if self._writer is not None:
            try:
                self._writer.submit(self._persist, found)
            except RuntimeError:
                pass
        return len(update)

    def _persist(self, found: Mapping[str, set[str]]) -> None:
        rows = [
            CodeRow(concept, code)
            for code, concepts in found.items()
            for concept in sorted(concepts or {NO_CONCEPT})
        ]
        try:
            self.store.add(lookup_source(self.config.url), self.server_version, rows)
        except StorageError as exc:
            log.warning("terminology look-ups not stored: %s", exc)

    # ------------------------------------------------------------------ status

    def status(self) -> dict[str, object]:
        """For /healthz-style reporting: counts and versions only."""
        return {
            "server": self.client is not None,
            "codes": len(self.vs.cond_terminology),
            "server_version": self.server_version,
            "expanded_at": self._server_stamp.isoformat() if self._server_stamp else None,
            "lookups_paused": time.monotonic() < self._down_until,
        }


def _newer(stamp: datetime | None, seen: datetime | None) -> bool:
    return stamp is not None and (seen is None or stamp > seen)
