"""Storage: feedback, the audit trail, issued cards and the JWT replay cache (SQLAlchemy 2.0).

SQLite file by default (WAL mode, busy timeout, zero set-up); PostgreSQL by URL
(`postgresql://...` is driven by psycopg 3). Tables are created on first use
(`metadata.create_all`); if the database is down at start-up the service still starts and
`/readyz` answers 503 until it is reachable.

Interface used by the request stages (see also cds_service/auth.py):

- `Storage(url, patient_hash_key="", write_delay_ms=0)`
- `ping() -> bool`                      reachable and schema present
- `remember_jti(issuer, jti, exp) -> bool`  False when already seen (replay). The unique
  constraint makes this atomic across gunicorn workers and replicas sharing the database.
  Rows are purged once their `exp` (plus leeway) has passed.
- `record_audit(row: AuditRow) -> bool` one row per hook call, plus one `issued_card` row per
  card carrying a `uuid`. Never raises: a failure is logged and counted
  (`rheum_cds_audit_write_failures_total`) and the hook still answers.
- `submit_audit(row)` the same, after the answer and off the request path: the process's
  `AuditWriter` commits the rows of several calls in one transaction within `write_delay_ms`
  (0: written at once by the caller). A batch the database cannot take for a while (locked,
  connection lost) is held and retried with backoff, in order; a row it refuses is dropped
  alone (see AuditWriter). `flush()` / `close()` commit what is queued; every read below
  flushes first, so this process reads its own writes (and counts the cards its writer still
  holds as issued).
- `record_cards(service_id, hook_instance, cards, client_id)` / `issued_card(uuid) -> str | None`
  / `issued_owners(service_id, cards, wait_s)` / `cards_of_other_clients(service_id, cards,
  client_id, wait_s)`: with `wait_s`, cards not yet found are looked up again until they are
  or `wait_s` has passed (another worker's writer may still hold them).
- `store_feedback(service_id, items, client_id) -> FeedbackResult` idempotent; raises
  `StorageError` when the database cannot commit (the route answers 503, never a false 200).

The statements of the request path (`remember_jti`, `store_feedback`, a call's own audit row
when the writer's queue is full) wait at most REQUEST_LOCK_WAIT_MS (500 ms) for a lock another
connection holds, in pauses that let a gevent worker serve other calls, then fail safe (see
REQUEST_LOCK_WAIT_MS); the writer's attempts wait WRITE_BUSY_MS (250 ms) the same way; the
other statements wait up to SQLite's busy timeout (10 s).

Patient ids never reach the database: `AuditRow.patient_id` is replaced by an HMAC-SHA256
of it under `patient_hash_key`. When that key is empty a random key is drawn per process, so
hashes are then not comparable across restarts or workers (audit rows of one patient cannot
be linked to each other); set `service.patient_hash_key` / RHEUM_CDS_PATIENT_HASH_KEY to keep
them linkable.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
from flask import current_app
from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cds_service import metrics

log = logging.getLogger(__name__)

JTI_PURGE_LEEWAY = timedelta(minutes=5)  # rows kept this long after exp (clock skew)
JTI_PURGE_EVERY_S = 30.0  # at most one purge per process per this many seconds


class StorageError(RuntimeError):
    """The database could not be reached or could not commit. Message is PHI-free."""


# --------------------------------------------------------------------------- tables


class Base(DeclarativeBase):
    pass


class SeenJti(Base):
    __tablename__ = "seen_jti"
    __table_args__ = (UniqueConstraint("issuer", "jti", name="uq_seen_jti"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(512))
    jti: Mapped[str] = mapped_column(String(255))
    exp: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditRecord(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    service_id: Mapped[str] = mapped_column(String(64))
    hook: Mapped[str] = mapped_column(String(64))
    hook_instance: Mapped[str] = mapped_column(String(255))
    status: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    patient_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    rule_ids: Mapped[str] = mapped_column(Text)  # JSON array
    card_count: Mapped[int] = mapped_column(Integer)
    fhir_calls: Mapped[int] = mapped_column(Integer)
    unavailable: Mapped[str] = mapped_column(Text)  # JSON array of data keys
    timings_ms: Mapped[str] = mapped_column(Text)  # JSON object stage -> ms
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # unique without coordination (`_call_id`: time, then random bits), drawn when the call's
    # row is made: a batch committed although its writer never read the answer (the
    # connection lost during COMMIT) is not stored twice when tried again. NULL: rows written
    # before the column existed.
    call_id: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True, index=True)


class IssuedCard(Base):
    __tablename__ = "issued_card"
    uuid: Mapped[str] = mapped_column(String(255), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64))
    hook_instance: Mapped[str] = mapped_column(String(255))
    indicator: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rule_ids: Mapped[str] = mapped_column(Text)  # JSON array
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # the client (JWT issuer) the card was answered to; "" unsigned; NULL: issued before the
    # column existed (then any client's feedback is taken)
    client_id: Mapped[str | None] = mapped_column(String(512), nullable=True)


class FeedbackRecord(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    natural_key: Mapped[str] = mapped_column(String(64), unique=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    card: Mapped[str] = mapped_column(String(255), index=True)
    known_card: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(16))
    outcome_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_suggestions: Mapped[str] = mapped_column(Text)  # JSON array of ids
    override_system: Mapped[str | None] = mapped_column(String(512), nullable=True)
    override_code: Mapped[str | None] = mapped_column(String(255), nullable=True)
    override_display: Mapped[str | None] = mapped_column(Text, nullable=True)
    user_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# statements built once (the replay cache runs it on every signed call)
_INSERT_JTI = insert(SeenJti)

# the writer's rows, as tuples in this column order (_DriverInserts, Storage._insert_rows)
AUDIT_COLUMNS = (
    "at",
    "service_id",
    "hook",
    "hook_instance",
    "status",
    "client_id",
    "patient_hash",
    "rule_ids",
    "card_count",
    "fhir_calls",
    "unavailable",
    "timings_ms",
    "language",
    "call_id",
)
CARD_COLUMNS = (
    "uuid",
    "service_id",
    "hook_instance",
    "indicator",
    "rule_ids",
    "issued_at",
    "client_id",
)
_AT, _ISSUED_AT = AUDIT_COLUMNS.index("at"), CARD_COLUMNS.index("issued_at")
# (table, column, its SQL type) added to databases made before the column existed
_ADDED_COLUMNS = (
    ("issued_card", "client_id", "VARCHAR(512)"),
    ("audit", "call_id", "VARCHAR(32)"),
)
# (table, name, kind, columns): indexes of added columns, as create_all makes them on a new
# table (`unique=True, index=True`), made when missing at each start (a process stopped
# between adding a column and its index leaves no column without it)
_ENSURED_INDEXES = (("audit", "ix_audit_call_id", "UNIQUE INDEX", "call_id"),)
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
# SQLite result codes (primary) of a write that may succeed later: BUSY, LOCKED, NOMEM, IOERR,
# FULL, CANTOPEN, PROTOCOL
_SQLITE_TRANSIENT = frozenset({5, 6, 7, 10, 13, 14, 15})
_SQLITE_BUSY = frozenset({5, 6})  # BUSY, LOCKED: another connection holds the lock
_T = TypeVar("_T")


def _sqlite_busy(exc: BaseException) -> bool:
    """Whether a SQLite statement failed because another connection held the lock."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_BUSY
    return "locked" in str(orig) or "busy" in str(orig)


class _DriverInserts:
    """The audit and issued-card INSERTs as the database driver's own SQL (SQLite and
    PostgreSQL), run by its cursor's executemany on rows of plain tuples.

    The writer commits after every answer batch, and it runs cache-cold between hook calls:
    SQLAlchemy's per-statement work (execution context, compiled parameters, a bind processor
    per value) was most of a batch's CPU. The timestamps are converted by SQLAlchemy's own
    bind processor of the column type, so the stored values are those SQLAlchemy writes (and
    reads back). A card uuid or an audit row's call id already stored keeps its first row
    (ON CONFLICT DO NOTHING): a batch tried again after its commit's answer was lost."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        mark = _PLACEHOLDERS.get(dialect.paramstyle)
        self.supported = dialect.name in ("sqlite", "postgresql") and mark is not None
        self.audit_sql = (
            _insert_sql(AuditRecord.__tablename__, AUDIT_COLUMNS, mark or "?")
            + " ON CONFLICT (call_id) DO NOTHING"
        )
        self.cards_sql = (
            _insert_sql(IssuedCard.__tablename__, CARD_COLUMNS, mark or "?")
            + " ON CONFLICT (uuid) DO NOTHING"
        )
        stamp = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
        self.stamp: Any = stamp if stamp is not None and self.supported else _same
        dbapi = dialect.dbapi
        # the driver's errors that mean the database cannot be reached (all rows lost)
        self.unreachable: tuple[type[BaseException], ...] = (
            (dbapi.OperationalError, dbapi.InterfaceError) if dbapi is not None else ()
        )


def _same(value: Any) -> Any:
    return value


def _insert_sql(table: str, columns: tuple[str, ...], mark: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class AuditRow:
    """One hook call, as the hook route reports it. `patient_id` is hashed before storage."""

    service_id: str
    hook: str
    hook_instance: str
    status: int  # HTTP status answered
    patient_id: str | None = None  # raw id; only its keyed hash is stored
    client_id: str | None = None  # JWT issuer, None when unsigned
    rule_ids: Sequence[str] = ()  # ids of findings/rules that fired
    cards: Sequence[dict[str, Any]] = ()  # the cards answered (uuid, indicator, extension)
    fhir_calls: int = 0
    unavailable: Sequence[str] = ()  # PatientRecord.unavailable keys
    timings_ms: dict[str, float] = field(default_factory=dict)  # stage -> milliseconds
    language: str | None = None
    at: datetime | None = None  # default: now (UTC)


@dataclass(frozen=True)
class FeedbackItem:
    """One validated CDS Hooks 2.0 feedback item (see routes/feedback.py for validation)."""

    card: str
    outcome: str  # "accepted" | "overridden"
    outcome_at: datetime  # timezone-aware
    accepted_suggestions: tuple[str, ...] = ()
    override_system: str | None = None
    override_code: str | None = None
    override_display: str | None = None
    user_comment: str | None = None

    def natural_key(self, service_id: str) -> str:
        """Identity of a feedback item: service, card, outcome and the instant (UTC, ms).

        The same item sent twice (EHR retry) maps to one row; a later, different outcome
        for the same card (another instant) is a new row.
        """
        instant = self.outcome_at.astimezone(UTC).isoformat(timespec="milliseconds")
        raw = "\x1f".join((service_id, self.card, self.outcome, instant))
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class FeedbackResult:
    received: int  # items in the request
    stored: int  # new rows committed
    duplicates: int  # items already stored (or repeated in the request)
    unknown_cards: int  # new rows about a card uuid this service never issued
    # one (outcome, known_card, duplicate) per item received, in order (for metrics)
    items: tuple[tuple[str, bool, bool], ...] = ()


# --------------------------------------------------------------------------- storage


def _call_id() -> str:
    """An audit row's call id: the time in nanoseconds, then 64 random bits, in hex (32
    characters). Unique without coordination between processes; ordered by time, so that
    its unique index grows at one end (as the table does) rather than at random pages."""
    return f"{time.time_ns():016x}{os.urandom(8).hex()}"


def _json_text(value: Any) -> str:
    """A JSON column's text (orjson: the writer's batch serialises several per call)."""
    return orjson.dumps(value).decode()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes (stored as UTC); make them aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def normalise_url(url: str) -> str:
    """`postgresql://` / `postgres://` mean psycopg 3 here (psycopg2 is not a dependency)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _make_engine(url: str) -> Engine:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            directory = os.path.dirname(os.path.abspath(parsed.database))
            os.makedirs(directory, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # first: the WAL switch may wait for a lock
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = 3
    return create_engine(
        parsed, pool_pre_ping=True, pool_timeout=5, pool_size=5, connect_args=connect_args
    )


# --------------------------------------------------------------------------- writer


class _Flush:
    """A marker in the writer's queue: everything before it is committed when it is set."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()
# a hook call's audit row and issued-card rows, as inserted (Storage._audit_values): what the
# writer's queue holds, ~2 KB a call, not the call's cards (~52 KB of objects a call, measured
# with tracemalloc on the 600-resource body)
PreparedAudit = tuple[tuple[Any, ...], list[tuple[Any, ...]]]
IDLE_CHECK_S = 30.0  # an idle writer checks this often whether its Storage still exists
# A batch the database could not take for a transient reason (SQLite locked or busy, a lost
# connection, a timeout) is kept and tried again after RETRY_FIRST_S, doubling to RETRY_MAX_S.
RETRY_FIRST_S = 0.1
RETRY_MAX_S = 5.0
# How long one of the writer's SQLite commits waits for the write lock before it gives the
# batch back to be retried. The wait is spent in pauses between attempts that do not wait
# (Storage._commit_patiently), in which a gevent worker serves other calls; before, it was
# SQLite's own busy wait, which holds the whole worker still.
WRITE_BUSY_MS = 250
# How long a statement on the request path waits for a lock before the call fails safe: the
# replay check of a signed call (then 503), feedback (503, never a 200 for feedback not kept),
# a hook call's own audit row when the writer's queue is full (dropped, counted). Those who
# normally hold SQLite's write lock (the writers' batches, other calls' one-row commits) hold
# it for milliseconds: 500 ms is a hundred times that and still leaves an EHR most of its
# budget for a hook call to get the 503. A lock held longer is a backup, an export or a
# migration, which takes seconds or more: waiting longer would not outlast it. Twice the
# writer's wait, because the writer tries again later and a call cannot. On SQLite the wait is
# spent in short sleeps between attempts that do not wait (busy_timeout 0): `time.sleep`, a
# gevent sleep in the served worker, so the worker serves other calls meanwhile (SQLite's
# own busy wait sleeps inside the C library and holds the worker still). On PostgreSQL it is
# the transaction's `lock_timeout` (psycopg waits cooperatively under gevent).
REQUEST_LOCK_WAIT_MS = 500
# How long feedback waits for this process's writer to commit what it has queued (so that a
# card answered here is found in the database); the rows not committed by then are looked up
# among those the writer holds (`AuditWriter.queued_cards`). The writer commits within its
# write delay (50 ms) when the database takes the rows.
REQUEST_FLUSH_S = REQUEST_LOCK_WAIT_MS / 1000
LOCK_POLL_FIRST_S = 0.002  # the pauses between attempts: doubling up to LOCK_POLL_MAX_S
LOCK_POLL_MAX_S = 0.05
# A 503 because the database could not be used (locked, unreachable) says when to try again
RETRY_AFTER_S = 1
# While the writer's commits fail, a flush (a read of this process) waits only this long for
# the attempt it asks for; the rows still held are then found by `queued_cards`.
FLUSH_WHILE_FAILING_S = 1.0
SQLITE_BUSY_TIMEOUT_MS = 10_000
# gunicorn's worker_exit gives the writer this long to write what it holds (SIGTERM): well
# inside the graceful timeout (10 s for `rheum-cds serve`, 20 s in deploy/), so that what it
# cannot write is still logged and counted before the worker is killed
WORKER_EXIT_FLUSH_S = 5.0
CLOSE_GRACE_S = 4.0  # close() waits this much longer for an attempt under way


class AuditWriter:
    """Commits the audit and issued-card rows of hook calls after their answers, in batches.

    One per process (a daemon thread; a greenlet under gevent, whose monkey-patching makes
    `threading` cooperative). A hook call appends its row to the writer's queue and answers at
    once (the row as it will be inserted, built by the call after its answer: a queued row does
    not keep the call's cards alive, so a writer that falls behind holds little memory); the
    first row wakes the writer, which lets `delay_s` pass, takes every row then queued (at most
    `max_batch`) and commits them in one transaction. The rows in between only join the queue:
    the writer is woken once per batch, not once per row.

    A batch the database cannot take for a transient reason (SQLite locked or busy, a lost
    connection, a timeout: `Storage._transient`) is held and tried again, first after
    `retry_first_s`, doubling to `retry_max_s`; a flush or a stop tries it at once. Batches
    are committed in the order their rows were submitted: the held batch goes first, so a card
    uuid answered twice keeps its first owner. A row the database refuses (a constraint, a
    value, the schema) is a permanent error: the batch is written row by row and only that row
    is dropped (counted in `rheum_cds_audit_write_failures_total`, logged without PHI).

    Rows wait in memory up to `max_queue` (queued and held together); beyond that the caller
    writes its own row at once (back-pressure), as when the writer is closed. `flush()` commits
    what is queued now (reads of this process call it first, so a card answered here is found
    by feedback handled here; `queued_cards` finds the rows still held when a flush cannot
    finish); `close()` flushes and stops, and is called at graceful shutdown (gunicorn
    worker_exit, atexit): the held rows are retried until its time limit, then dropped and
    counted. What a `kill -9` can lose is the rows not yet committed: those of the last
    `delay_s`, or every held row while the database is unavailable (feedback itself is
    committed before it is acknowledged).
    """

    def __init__(
        self,
        storage: Storage,
        delay_s: float,
        max_batch: int = 500,
        max_queue: int = 10_000,
        busy_ms: int = WRITE_BUSY_MS,
    ) -> None:
        self._storage = weakref.ref(storage)
        self.delay_s = delay_s
        self.max_batch = max_batch
        self._max_queue = max_queue
        self.busy_ms = busy_ms
        self.retry_first_s = RETRY_FIRST_S
        self.retry_max_s = RETRY_MAX_S
        self._lock = threading.Lock()
        self._queue: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()  # rows (or a marker) are queued
        self._now = threading.Event()  # commit without waiting out the delay
        self._urgent = threading.Event()  # a flush or a stop: retry without the backoff
        self._thread: threading.Thread | None = None
        self._running = False  # the writer of this process is in its loop
        self._pid = 0
        self._closed = False
        self._deadline: float | None = None  # close(): held rows are given up after this
        self._failing = False  # the last commit failed for a transient reason
        self._unfinished = 0  # rows queued or held and not yet committed (or given up)
        # the batch taken from the queue and not yet committed (a transient failure), its
        # flush markers and whether a stop came with it
        self._held: list[PreparedAudit] = []
        self._held_markers: list[_Flush] = []
        self._held_stop = False
        self.idle_check_s = IDLE_CHECK_S

    def _ensure_thread(self) -> None:
        # started on first use, in the process that uses it (workers are forked)
        if self._running and self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = collections.deque()  # a forked copy is not ours
                self._wake, self._now = threading.Event(), threading.Event()
                self._urgent = threading.Event()
                self._unfinished = 0
                self._held, self._held_markers, self._held_stop = [], [], False
                self._deadline = None
                self._running = False
            if not self._running:
                self._pid = os.getpid()
                self._closed = False
                self._running = True
                self._thread = threading.Thread(
                    target=self._run, name="rheum-cds-audit-writer", daemon=True
                )
                self._thread.start()

    def _put(self, item: Any, now: bool) -> None:
        self._queue.append(item)
        if now:
            self._urgent.set()
        if now or len(self._queue) >= self.max_batch:
            self._now.set()
        if not self._wake.is_set():
            self._wake.set()

    def submit(self, row: PreparedAudit) -> bool:
        """Queue a row; False when it could not be queued (full, closed): write it yourself."""
        if self._closed and self._pid == os.getpid():
            return False
        self._ensure_thread()
        if self._unfinished >= self._max_queue:
            metrics.observe_error("audit_queue_full")
            return False
        with self._lock:
            self._unfinished += 1
        self._put(row, now=False)
        return True

    def pending(self) -> int:
        """Rows submitted by this process and not yet committed."""
        return self._unfinished if self._pid == os.getpid() else 0

    def queued_cards(self, uuids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """Those of `uuids` whose issued-card rows this process holds uncommitted, with the
        service id and the client of each (the first queued row of a uuid wins, as in the
        database)."""
        wanted = set(uuids)
        found: dict[str, tuple[str, str | None]] = {}
        if not wanted or not self.pending():
            return found
        with self._lock:
            items = [*self._held, *self._queue.copy()]
        for item in items:
            if not isinstance(item, tuple):
                continue  # a flush marker or the stop
            for card in item[1]:
                uid = card[0]
                if uid in wanted and uid not in found:
                    found[uid] = (card[1], card[6])
        return found

    def flush(self, timeout_s: float = 10.0) -> bool:
        if not self.pending():
            return True  # nothing queued in this process, or all of it committed
        if not self._running:
            self._drain(time.monotonic() + timeout_s)
            return not self.pending()
        marker = _Flush()
        self._put(marker, now=True)
        if self._failing:  # the database is not taking rows: try once, do not wait it out
            timeout_s = min(timeout_s, FLUSH_WHILE_FAILING_S)
        return marker.done.wait(timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        """Commit what is queued and stop; rows still held after `timeout_s` (the database
        unavailable all along) are dropped and counted."""
        if self._pid != os.getpid() or self._thread is None:
            return
        self._closed = True
        deadline = time.monotonic() + timeout_s
        if self._running:
            self._deadline = deadline
            self._put(_STOP, now=True)
            # the writer gives up at the deadline; an attempt under way may need a moment
            # (a PostgreSQL connect times out after 3 s)
            self._thread.join(timeout_s + CLOSE_GRACE_S)
        if self._running and self._thread.is_alive():
            left = self.pending()
            if left:  # stuck in the database: never write beside it (order, duplicates)
                metrics.AUDIT_WRITE_FAILURES.inc(left)
                log.error(
                    "audit writer did not finish at shutdown", extra={"fields": {"rows": left}}
                )
            return
        self._drain(deadline)  # anything the writer did not reach (it had stopped)

    def _take(self) -> tuple[list[PreparedAudit], list[_Flush], bool]:
        """The queued rows (at most max_batch), the flush markers among them, and whether a
        stop was asked."""
        rows: list[PreparedAudit] = []
        markers: list[_Flush] = []
        stop = False
        queued = self._queue
        while queued and len(rows) < self.max_batch:
            item = queued.popleft()
            if item is _STOP:
                stop = True
            elif isinstance(item, _Flush):
                markers.append(item)
            else:
                rows.append(item)
        return rows, markers, stop

    def _hold_next(self) -> None:
        with self._lock:  # queued_cards reads the held rows and the queue together
            self._held, self._held_markers, self._held_stop = self._take()

    def _write_held(self) -> BaseException | None:
        """Commit the held batch; None when done (committed, or a refused row dropped), else
        the transient error (the rows not committed stay held, in order)."""
        storage = self._storage()
        rows = self._held
        left: list[PreparedAudit] = []
        error: BaseException | None = None
        if storage is None:
            # its Storage is gone (an app built and dropped): nothing can write these
            if rows:
                metrics.AUDIT_WRITE_FAILURES.inc(len(rows))
        elif rows:
            try:
                left, error, _dropped = storage._commit_patiently(rows, self.busy_ms)
            except Exception as exc:  # never let the writer die silently  # noqa: BLE001
                metrics.AUDIT_WRITE_FAILURES.inc(len(rows))
                log.error("audit writer failed: %s", type(exc).__name__)
        with self._lock:
            self._unfinished -= len(rows) - len(left)
            self._held = left
        if left:
            return error
        for marker in self._held_markers:
            marker.done.set()
        self._held_markers = []
        return None

    def _give_up(self, error: BaseException | None) -> bool:
        """Drop the held rows and everything queued (close's time is up and the database is
        still unavailable): counted and logged, flush markers released. True when the stop
        was among them."""
        dropped = len(self._held)
        stop = self._held_stop
        markers = list(self._held_markers)
        with self._lock:
            self._held, self._held_markers, self._held_stop = [], [], False
        while self._queue:
            rows, more, asked = self._take()
            dropped += len(rows)
            markers.extend(more)
            stop = stop or asked
        with self._lock:
            self._unfinished -= dropped
        if dropped:
            metrics.AUDIT_WRITE_FAILURES.inc(dropped)
            log.error(
                "audit rows not written at shutdown",
                extra={"fields": {"rows": dropped, "error": type(error).__name__}},
            )
        for marker in markers:
            marker.done.set()
        return stop

    def _drain(self, deadline: float) -> None:
        """Commit what is queued in the caller's thread (the writer is not running), retrying
        transient failures until `deadline`."""
        pause = self.retry_first_s
        while self._held or self._held_markers or self._queue:
            if not self._held and not self._held_markers:
                self._hold_next()
            error = self._write_held()
            self._failing = error is not None
            if error is None:
                self._held_stop = False
                continue
            metrics.AUDIT_WRITE_RETRIES.inc()
            left = deadline - time.monotonic()
            if left <= 0:
                self._give_up(error)
                return
            time.sleep(min(pause, left))
            pause = min(pause * 2, self.retry_max_s)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._running = False

    def _loop(self) -> None:
        pause = self.retry_first_s
        failing: str | None = None  # the transient error being retried (logged once)
        while True:
            if not self._held and not self._held_markers:
                if not self._wake.wait(self.idle_check_s):
                    if self._storage() is None:
                        return  # its Storage is gone (an app built and dropped, as in tests)
                    continue
                # the first row of a batch: the rows of the next delay_s join it, unless a
                # flush, a stop or a full batch asks for the commit now
                self._now.wait(self.delay_s)
                self._wake.clear()
                self._now.clear()
                self._hold_next()
                if self._queue:  # more than one batch waits, or arrived meanwhile: go on
                    self._wake.set()
                    if len(self._queue) >= self.max_batch or self._held_stop or self._held_markers:
                        self._now.set()
            held = len(self._held)
            self._urgent.clear()  # a flush from now on cuts the pause after a failure short
            error = self._write_held()
            self._failing = error is not None
            if error is None:
                if failing is not None:
                    log.warning(
                        "audit writer: database available again",
                        extra={"fields": {"rows": held, "error": failing}},
                    )
                    failing = None
                pause = self.retry_first_s
                if self._held_stop:
                    return
                continue
            # a transient failure: the rows stay held and are tried again
            metrics.AUDIT_WRITE_RETRIES.inc()
            if failing is None:
                failing = type(error).__name__
                log.warning(
                    "audit writer: database unavailable, rows held for retry",
                    extra={"fields": {"rows": self.pending(), "error": failing}},
                )
            deadline = self._deadline
            wait = pause
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    if self._give_up(error):
                        return
                    continue
            self._urgent.wait(wait)
            pause = min(pause * 2, self.retry_max_s)


class Storage:
    """Feedback, audit, issued cards and the JWT replay cache in one SQL database."""

    def __init__(
        self,
        url: str,
        patient_hash_key: str = "",
        write_delay_ms: int = 0,
        write_queue: int = 10_000,
        write_busy_ms: int = WRITE_BUSY_MS,
    ) -> None:
        self.url = url
        # submit_audit: rows of several calls committed together by a writer thread
        self._writer = (
            AuditWriter(self, write_delay_ms / 1000, max_queue=write_queue, busy_ms=write_busy_ms)
            if write_delay_ms > 0
            else None
        )
        self.engine = _make_engine(url)
        self.backend = self.engine.dialect.name
        self._inserts = _DriverInserts(self.engine)
        if patient_hash_key:
            self._hash_key = patient_hash_key.encode()
            self.patient_hash_key_random = False
        else:
            self._hash_key = secrets.token_bytes(32)
            self.patient_hash_key_random = True
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._last_purge = 0.0
        # gunicorn forks workers after the app may have been built: never share pooled
        # connections across processes.
        ref = weakref.ref(self)

        def _in_child() -> None:
            storage = ref()
            if storage is not None:
                storage.engine.dispose(close=False)

        os.register_at_fork(after_in_child=_in_child)

        def _at_exit() -> None:
            storage = ref()
            if storage is not None:
                storage.close(timeout_s=5.0)

        if self._writer is not None:
            atexit.register(_at_exit)
        try:
            self._ensure_schema()
        except StorageError as exc:
            log.warning("storage not reachable at start-up: %s", exc)

    # ------------------------------------------------------------------ plumbing

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            try:
                Base.metadata.create_all(self.engine)
                self._add_missing_columns()
            except SQLAlchemyError as exc:
                raise StorageError(f"{self.backend}: {type(exc).__name__}") from exc
            self._schema_ready = True

    def _add_missing_columns(self) -> None:
        """Columns added after a table was first created (create_all adds tables only), then
        their indexes."""
        for table, column, sql_type in _ADDED_COLUMNS:
            self._ddl_once(
                f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}",
                functools.partial(self._has_column, table, column),
            )
        for table, name, kind, columns in _ENSURED_INDEXES:
            self._ddl_once(
                f"CREATE {kind} IF NOT EXISTS {name} ON {table} ({columns})",
                functools.partial(self._has_index, table, name),
            )

    def _ddl_once(self, statement: str, done: Callable[[], bool]) -> None:
        """Run `statement` unless `done()`. When another process ran it meanwhile, it fails
        and `done()` is then true: looked at again rather than raised."""
        if done():
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(text(statement))
        except SQLAlchemyError:
            if not done():
                raise

    def _has_column(self, table: str, name: str) -> bool:
        return name in {c["name"] for c in inspect(self.engine).get_columns(table)}

    def _has_index(self, table: str, name: str) -> bool:
        return name in {i["name"] for i in inspect(self.engine).get_indexes(table)}

    def dispose(self) -> None:
        self.close()
        self.engine.dispose()

    @contextlib.contextmanager
    def _short_lock(self, wait_ms: int = REQUEST_LOCK_WAIT_MS) -> Iterator[Connection]:
        """A transaction of the request path, committed on leaving: its statements do not
        wait for a lock (SQLite: busy_timeout 0 for its duration, see `_patiently`) or wait
        at most `wait_ms` (PostgreSQL: `SET LOCAL lock_timeout`)."""
        with self.engine.connect() as conn:
            if self.backend != "sqlite":
                with conn.begin():
                    if self.backend == "postgresql":
                        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(wait_ms)}")
                    yield conn
                return
            raw = conn.connection.driver_connection
            raw.execute("PRAGMA busy_timeout=0")  # a PRAGMA begins no transaction
            try:
                with conn.begin():
                    yield conn
            finally:
                with contextlib.suppress(Exception):
                    raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    def _patiently(self, attempt: Callable[[], _T], wait_ms: int = REQUEST_LOCK_WAIT_MS) -> _T:
        """`attempt()` (one transaction in `_short_lock`), tried again while SQLite's lock is
        held by another connection, after pauses of LOCK_POLL_FIRST_S doubling to
        LOCK_POLL_MAX_S, until `wait_ms` has passed; then its error is raised. The pauses are
        `time.sleep`: under gevent the worker serves other calls meanwhile."""
        deadline = time.monotonic() + wait_ms / 1000
        pause = LOCK_POLL_FIRST_S
        while True:
            try:
                return attempt()
            except SQLAlchemyError as exc:
                left = deadline - time.monotonic()
                if self.backend != "sqlite" or left <= 0 or not _sqlite_busy(exc):
                    raise
            time.sleep(min(pause, left))
            pause = min(pause * 2, LOCK_POLL_MAX_S)

    def hash_patient_id(self, patient_id: str) -> str:
        """Keyed HMAC-SHA256 (hex) of a patient id; the raw id is never stored."""
        return hmac.new(self._hash_key, patient_id.encode(), hashlib.sha256).hexdigest()

    # ------------------------------------------------------------------ health

    def ping(self) -> bool:
        """True when the database answers and the tables exist."""
        try:
            self._ensure_schema()
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except (StorageError, SQLAlchemyError):
            return False

    # ------------------------------------------------------------------ replay cache

    def remember_jti(self, issuer: str, jti: str, exp: datetime) -> bool:
        """Record a token id; False when this issuer's `jti` was seen before (a replay).

        Raises StorageError when the database is unavailable, or locked by another
        connection for longer than REQUEST_LOCK_WAIT_MS (the caller refuses the call: a
        replay cannot be ruled out).
        """
        self._ensure_schema()
        # one statement compiled once (parameters, not .values(): the cache key is fixed)
        values = {"issuer": issuer, "jti": jti, "exp": _aware(exp)}

        def insert_jti() -> None:
            with self._short_lock() as conn:
                conn.execute(_INSERT_JTI, values)

        try:
            if time.monotonic() - self._last_purge > JTI_PURGE_EVERY_S:
                self._purge_jti_now()
            self._patiently(insert_jti)
            return True
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise StorageError(f"{self.backend}: {type(exc).__name__}") from exc

    def _purge_jti_now(self) -> None:
        """The purge of a signed call when due: its own transaction (a replay's failed insert
        must not undo it; the other calls pay for one transaction, not two). It does not wait
        for a lock: when the database is locked it is left to the next period."""
        try:
            with self._short_lock(0) as conn:
                conn.execute(delete(SeenJti).where(SeenJti.exp < _now() - JTI_PURGE_LEEWAY))
        except SQLAlchemyError as exc:
            if not (_sqlite_busy(exc) or self._lock_timeout(exc)):
                raise
        self._last_purge = time.monotonic()

    def _lock_timeout(self, exc: BaseException) -> bool:
        """PostgreSQL's lock_timeout ended a statement (SQLSTATE 55P03)."""
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        return getattr(orig, "sqlstate", None) == "55P03"

    def purge_expired_jti(self) -> int:
        """Delete replay-cache rows whose exp (plus leeway) has passed; returns the count."""
        self._ensure_schema()
        with self.engine.begin() as conn:
            result = conn.execute(delete(SeenJti).where(SeenJti.exp < _now() - JTI_PURGE_LEEWAY))
        self._last_purge = time.monotonic()
        return int(result.rowcount or 0)

    # ------------------------------------------------------------------ audit and cards

    def _card_rows(
        self,
        service_id: str,
        hook_instance: str,
        cards: Iterable[dict[str, Any]],
        stamp: Any,
        client_id: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """The issued-card rows of `cards` (tuples in CARD_COLUMNS order; `stamp`: the
        issue time as the driver takes it, see _DriverInserts)."""
        rows: dict[str, tuple[Any, ...]] = {}
        hook_instance = hook_instance[:255]
        owner = (client_id or "")[:512]
        for card in cards:
            uid = card.get("uuid") if isinstance(card, dict) else None
            if not isinstance(uid, str) or not uid:
                continue
            ext = (card.get("extension") or {}).get("org.rheum-cds") or {}
            findings = ext.get("findings") if isinstance(ext, dict) else None
            rule_ids = [
                f["id"]
                for f in findings or []
                if isinstance(f, dict) and isinstance(f.get("id"), str)
            ]
            indicator = card.get("indicator")
            rows[uid] = (
                uid[:255],
                service_id,
                hook_instance,
                indicator if isinstance(indicator, str) else None,
                _json_text(rule_ids),
                stamp,
                owner,
            )
        return list(rows.values())

    def record_cards(
        self,
        service_id: str,
        hook_instance: str,
        cards: Iterable[dict[str, Any]],
        client_id: str | None = None,
    ) -> None:
        """Remember the uuids of cards answered (and to which client), so feedback can be
        matched to them."""
        self._ensure_schema()
        stamp = self._inserts.stamp(_now())
        rows = self._card_rows(service_id, hook_instance, cards, stamp, client_id)
        if not rows:
            return
        try:
            self._insert_rows([], rows)
        except SQLAlchemyError as exc:
            raise StorageError(f"{self.backend}: {type(exc).__name__}") from exc
        except self._inserts.unreachable as exc:
            raise StorageError(f"{self.backend}: {type(exc).__name__}") from exc

    def _insert_rows(
        self,
        audits: list[tuple[Any, ...]],
        cards: list[tuple[Any, ...]],
        busy_ms: int | None = None,
        lock_timeout_ms: int | None = None,
    ) -> None:
        """Insert audit and issued-card rows in one transaction (tuples in AUDIT_COLUMNS /
        CARD_COLUMNS order); raises the driver's or SQLAlchemy's error. `busy_ms`: on SQLite,
        how long to wait for the write lock (default SQLITE_BUSY_TIMEOUT_MS).
        `lock_timeout_ms`: on PostgreSQL, the transaction's lock_timeout (default: none)."""
        inserts = self._inserts
        if not inserts.supported:
            self._insert_rows_core(audits, cards)
            return
        sqlite = self.backend == "sqlite"
        busy = sqlite and busy_ms is not None and busy_ms != SQLITE_BUSY_TIMEOUT_MS
        connection = self.engine.raw_connection()  # a pooled connection, as engine.begin()
        invalidated = False
        try:
            cursor = connection.cursor()
            try:
                if busy:
                    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms or 0)}")
                elif lock_timeout_ms is not None and self.backend == "postgresql":
                    cursor.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
                if audits:
                    cursor.executemany(inserts.audit_sql, audits)
                if cards:
                    cursor.executemany(inserts.cards_sql, cards)
                connection.commit()
            except BaseException as exc:
                # a lost connection is never handed out again; a locked SQLite file is no
                # fault of the connection
                if isinstance(exc, inserts.unreachable) and not sqlite:
                    connection.invalidate(exc)
                    invalidated = True
                else:
                    with contextlib.suppress(Exception):
                        connection.rollback()
                raise
            finally:
                if busy and not invalidated:
                    with contextlib.suppress(Exception):
                        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                with contextlib.suppress(Exception):
                    cursor.close()
        finally:
            connection.close()  # back to the pool

    def _insert_rows_core(
        self, audits: list[tuple[Any, ...]], cards: list[tuple[Any, ...]]
    ) -> None:
        """_insert_rows for other databases, through SQLAlchemy Core."""
        with self.engine.begin() as conn:
            calls = [dict(zip(AUDIT_COLUMNS, r, strict=True)) for r in audits]
            if calls:
                stored = set(
                    conn.execute(
                        select(AuditRecord.call_id).where(
                            AuditRecord.call_id.in_([r["call_id"] for r in calls])
                        )
                    ).scalars()
                )
                calls = [r for r in calls if r["call_id"] not in stored]
            if calls:
                conn.execute(insert(AuditRecord), calls)
            if not cards:
                return
            wanted = [dict(zip(CARD_COLUMNS, r, strict=True)) for r in cards]
            existing = set(
                conn.execute(
                    select(IssuedCard.uuid).where(IssuedCard.uuid.in_([r["uuid"] for r in wanted]))
                ).scalars()
            )
            new = [r for r in wanted if r["uuid"] not in existing]
            if new:
                conn.execute(insert(IssuedCard), new)

    def issued_card(self, uuid: str) -> str | None:
        """The service id a card uuid was issued by, or None if this service never issued it."""
        self.flush()
        self._ensure_schema()
        try:
            with self.engine.connect() as conn:
                return conn.execute(
                    select(IssuedCard.service_id).where(IssuedCard.uuid == uuid)
                ).scalar_one_or_none()
        except SQLAlchemyError as exc:
            raise StorageError(f"{self.backend}: {type(exc).__name__}") from exc

    def issued_owners(
        self, service_id: str, cards: Iterable[str], wait_s: float = 0.0
    ) -> dict[str, str | None]:
        """The client (JWT issuer; "" unsigned; None: issued before clients were recorded)
        each of `cards` was answered to by this service, for those it issued.

        Rows this process submitted are committed first, waiting at most REQUEST_FLUSH_S
        (rows its writer still holds because the database did not take them in time count as
        issued). Cards answered by another
        worker or replica may still sit in its writer's queue (up to its write_delay_ms, or
        longer while its database is locked or unreachable): with `wait_s`
        the look-up is repeated until every card is found or `wait_s` has passed, so feedback
        sent a moment after the answer finds its card wherever it lands. Raises StorageError.
        """
        wanted = sorted({c for c in cards if c})
        if not wanted:
            return {}
        # a call waits briefly for the writer: the rows it cannot commit now are found among
        # those it holds (before, a writer not yet failing was waited for up to 10 s)
        self.flush(REQUEST_FLUSH_S)
        self._ensure_schema()
        deadline = time.monotonic() + wait_s
        pause = 0.01
        found: dict[str, str | None] = {}
        while True:
            missing = [c for c in wanted if c not in found]
            # rows this process's writer still holds (the database did not take them in time)
            # are issued all the same; looked up before the database, so that a row committed
            # meanwhile is found there, and the database's row (the first owner) wins
            queued = self._writer.queued_cards(missing) if self._writer is not None else {}
            try:
                with self.engine.connect() as conn:
                    rows = conn.execute(
                        select(IssuedCard.uuid, IssuedCard.client_id).where(
                            IssuedCard.uuid.in_(missing), IssuedCard.service_id == service_id
                        )
                    ).all()
            except SQLAlchemyError as exc:
                raise StorageError(f"{self.backend}: {type(exc).__name__}") from exc
            found.update((u, owner) for u, (sid, owner) in queued.items() if sid == service_id)
            found.update((uuid, owner) for uuid, owner in rows)
            left = deadline - time.monotonic()
            if len(found) == len(wanted) or left <= 0:
                return found
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.1)

    def cards_of_other_clients(
        self, service_id: str, cards: Iterable[str], client_id: str | None, wait_s: float = 0.0
    ) -> set[str]:
        """Those of `cards` this service issued to a client other than `client_id` (None:
        unsigned). Feedback on them is refused: it would skew the issuing client's analytics.
        `wait_s`: see issued_owners."""
        me = client_id or ""
        owners = self.issued_owners(service_id, cards, wait_s)
        return {uuid for uuid, owner in owners.items() if owner is not None and owner != me}

    def _audit_values(self, row: AuditRow) -> PreparedAudit:
        """The audit row and the issued-card rows of one hook call, ready to insert (the
        time stamp: `row.at`, else now)."""
        stamp = self._inserts.stamp(row.at or _now())
        values = (
            stamp,
            row.service_id[:64],
            row.hook[:64],
            row.hook_instance[:255],
            int(row.status),
            row.client_id,
            self.hash_patient_id(row.patient_id) if row.patient_id else None,
            _json_text(list(row.rule_ids)),
            len(row.cards),
            int(row.fhir_calls),
            _json_text(list(row.unavailable)),
            _json_text({k: round(float(v), 2) for k, v in row.timings_ms.items()}),
            row.language,
            _call_id(),
        )
        cards = self._card_rows(row.service_id, row.hook_instance, row.cards, stamp, row.client_id)
        return values, cards

    def _prepare(self, row: AuditRow) -> PreparedAudit | None:
        """`_audit_values` of `row`; None, logged and counted, when a value cannot be used."""
        try:
            return self._audit_values(row)
        except Exception as exc:  # noqa: BLE001 — never let one row fail its call
            self._audit_failed(row.service_id, 1, exc)
            return None

    def _write_audit(self, rows: Sequence[AuditRow]) -> bool:
        """Commit the audit rows of `rows` and their issued cards in one transaction.

        Never raises: a failure is logged (without PHI) and counted once per row lost.
        """
        prepared = [self._prepare(row) for row in rows]
        ready = [p for p in prepared if p is not None]
        return self._write_prepared(ready) and len(ready) == len(prepared)

    def _write_prepared(self, rows: Sequence[PreparedAudit]) -> bool:
        """`_write_audit` of rows already built by `_audit_values`: written now, once (the
        rows the database cannot take are dropped, logged and counted)."""
        left, error, dropped = self._commit_batch(rows)
        if left:
            self._audit_failed(left[0][0][1], len(left), error or StorageError("?"))
        return not left and not dropped

    def _commit_batch(
        self,
        rows: Sequence[PreparedAudit],
        busy_ms: int | None = None,
        lock_timeout_ms: int | None = None,
    ) -> tuple[list[PreparedAudit], BaseException | None, int]:
        """Commit `rows` in one transaction. Returns the rows not committed because of a
        transient error (`_transient`), in order, with that error (the caller may try them
        again), and the count of rows dropped: when the database refuses the batch for
        another reason it is written row by row and only the rows refused are dropped
        (each logged without PHI and counted)."""
        if not rows:
            return [], None, 0
        audits: list[tuple[Any, ...]] = []
        cards: dict[str, tuple[Any, ...]] = {}
        try:
            for values, card_rows in rows:
                audits.append(values)
                for card in card_rows:
                    cards.setdefault(card[0], card)
            self._ensure_schema()
            self._insert_rows(audits, list(cards.values()), busy_ms, lock_timeout_ms)
            return [], None, 0
        except Exception as exc:  # noqa: BLE001 — sorted below; never raised to a hook call
            if self._transient(exc):
                return list(rows), exc, 0
            if len(rows) == 1:
                self._audit_failed(rows[0][0][1], 1, exc)
                return [], None, 1
        # one row the database refuses must not cost the others
        dropped = 0
        for i, row in enumerate(rows):
            left, error, lost = self._commit_batch([row], busy_ms, lock_timeout_ms)
            if left:
                return list(rows[i:]), error, dropped
            dropped += lost
        return [], None, dropped

    def _transient(self, exc: BaseException | None) -> bool:
        """Whether a write failed for a reason that passes (the rows are kept and retried):
        SQLite locked, busy, out of disk or I/O; a connection lost or refused, a pool or lock
        timeout. Anything else (a constraint, a value, the schema) is permanent."""
        for _ in range(4):  # SQLAlchemy's and StorageError's wrappers
            if isinstance(exc, SATimeoutError):
                return True
            if isinstance(exc, DBAPIError):
                if exc.connection_invalidated:
                    return True
                exc = exc.orig
            elif isinstance(exc, StorageError):
                exc = exc.__cause__
            else:
                break
        if exc is None:
            return False
        if isinstance(exc, sqlite3.Error):
            code = getattr(exc, "sqlite_errorcode", None)
            if isinstance(code, int):
                return code & 0xFF in _SQLITE_TRANSIENT
            return isinstance(exc, sqlite3.OperationalError)
        if isinstance(exc, self._inserts.unreachable):
            return True  # the driver's OperationalError / InterfaceError (PostgreSQL)
        return isinstance(exc, (ConnectionError, TimeoutError))

    @staticmethod
    def _audit_failed(service_id: str, count: int, exc: Exception) -> bool:
        metrics.AUDIT_WRITE_FAILURES.inc(count)
        log.error(
            "audit write failed",
            extra={
                "fields": {
                    "service": service_id,
                    "rows": count,
                    "error": type(exc).__name__,
                }
            },
        )
        return False

    def record_audit(self, row: AuditRow) -> bool:
        """Write the audit row (and the issued cards) in one transaction, now.

        Never raises: an audit failure must not turn a clinical answer into an error. The
        failure is logged (without PHI) and counted; returns False then.
        """
        return self._write_audit([row])

    def submit_audit(self, row: AuditRow) -> None:
        """Hand the audit row (and its issued cards) to this process's writer, which commits
        it within `write_delay_ms` together with the rows of other calls (one transaction per
        batch). With `write_delay_ms == 0`, or when the writer's queue is full (the database
        cannot keep up), the row is written now, by the caller, which waits at most
        REQUEST_LOCK_WAIT_MS for a lock (`_write_inline`). Never raises."""
        prepared = self._prepare(row)  # the row as inserted, stamped now; not the cards
        if prepared is None:
            return
        if self._writer is None or not self._writer.submit(prepared):
            self._write_inline([prepared])

    def _write_inline(self, rows: list[PreparedAudit]) -> bool:
        """A hook call's own rows, written by the call (no writer, or its queue is full): a
        lock held by another connection is waited for at most REQUEST_LOCK_WAIT_MS (SQLite: in
        pauses that let a gevent worker serve other calls, `_commit_patiently`; PostgreSQL:
        the transaction's lock_timeout); rows still not written then are dropped, logged
        without PHI and counted. Never raises."""
        left, error, dropped = self._commit_patiently(
            rows, REQUEST_LOCK_WAIT_MS, lock_timeout_ms=REQUEST_LOCK_WAIT_MS
        )
        if left:
            self._audit_failed(left[0][0][1], len(left), error or StorageError("?"))
        return not left and not dropped

    def _commit_patiently(
        self, rows: Sequence[PreparedAudit], wait_ms: int, lock_timeout_ms: int | None = None
    ) -> tuple[list[PreparedAudit], BaseException | None, int]:
        """`_commit_batch`, waiting at most `wait_ms` for a SQLite lock held by another
        connection: attempts that do not wait (busy_timeout 0), after pauses of
        LOCK_POLL_FIRST_S doubling to LOCK_POLL_MAX_S (time.sleep: under gevent the worker
        serves other calls meanwhile; SQLite's own busy wait would hold it still). On
        PostgreSQL one attempt, under `lock_timeout_ms` when given."""
        deadline = time.monotonic() + wait_ms / 1000
        pause = LOCK_POLL_FIRST_S
        lost = 0
        while True:
            left_rows, error, dropped = self._commit_batch(rows, 0, lock_timeout_ms)
            lost += dropped
            if not left_rows:
                return [], None, lost
            left = deadline - time.monotonic()
            if self.backend != "sqlite" or left <= 0 or error is None or not _sqlite_busy(error):
                return left_rows, error, lost
            rows = left_rows
            time.sleep(min(pause, left))
            pause = min(pause * 2, LOCK_POLL_MAX_S)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Commit every row submitted so far by this process (no-op without a writer).
        True when done within `timeout_s`."""
        return self._writer.flush(timeout_s) if self._writer is not None else True

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush and stop the writer (graceful shutdown; gunicorn's worker_exit, atexit)."""
        if self._writer is not None:
            self._writer.close(timeout_s)

    def audit_rows(self, limit: int = 100) -> list[dict[str, Any]]:
        """Most recent audit rows (newest first), JSON members decoded. For operators/tests."""
        self.flush()
        self._ensure_schema()
        with self.engine.connect() as conn:
            result = conn.execute(
                select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
            ).mappings()
            out = []
            for r in result:
                d = dict(r)
                for key in ("rule_ids", "unavailable", "timings_ms"):
                    d[key] = json.loads(d[key])
                d["at"] = _aware(d["at"])
                out.append(d)
            return out

    # ------------------------------------------------------------------ feedback

    def store_feedback(
        self, service_id: str, items: Sequence[FeedbackItem], client_id: str | None = None
    ) -> FeedbackResult:
        """Store feedback items idempotently (natural key: see FeedbackItem.natural_key).

        Everything is committed in one transaction before this returns; raises StorageError
        otherwise (the database unreachable, or locked by another connection for longer than
        REQUEST_LOCK_WAIT_MS), so that the caller never acknowledges feedback it did not keep.
        """
        self.flush(REQUEST_FLUSH_S)  # rows not committed by then: found among those held
        self._ensure_schema()
        last_exc: Exception | None = None
        for _attempt in range(3):
            try:
                return self._patiently(
                    lambda: self._store_feedback_once(service_id, items, client_id)
                )
            except IntegrityError as exc:  # a concurrent writer stored one of them first
                last_exc = exc
                continue
            except SQLAlchemyError as exc:
                raise StorageError(f"{self.backend}: {type(exc).__name__}") from exc
        raise StorageError(f"{self.backend}: {type(last_exc).__name__}")

    def _store_feedback_once(
        self,
        service_id: str,
        items: Sequence[FeedbackItem],
        client_id: str | None,
    ) -> FeedbackResult:
        now = _now()
        keys = [item.natural_key(service_id) for item in items]
        with self._short_lock() as conn:
            existing = set(
                conn.execute(
                    select(FeedbackRecord.natural_key).where(
                        FeedbackRecord.natural_key.in_(sorted(set(keys)))
                    )
                ).scalars()
            )
            new: dict[str, FeedbackItem] = {}
            per_item: list[tuple[FeedbackItem, bool]] = []  # (item, duplicate)
            for key, item in zip(keys, items, strict=True):
                duplicate = key in existing or key in new
                if not duplicate:
                    new[key] = item
                per_item.append((item, duplicate))
            cards = {item.card for item in items}
            # rows this process's writer still holds (the database did not take them in time)
            # are issued cards all the same; looked up first (a row committed meanwhile is
            # then found in the database)
            queued: set[str] = set()
            if cards and self._writer is not None:
                held = self._writer.queued_cards(cards)
                queued = {u for u, (sid, _owner) in held.items() if sid == service_id}
            known = (
                set(
                    conn.execute(
                        select(IssuedCard.uuid).where(
                            IssuedCard.uuid.in_(list(cards)), IssuedCard.service_id == service_id
                        )
                    ).scalars()
                )
                if cards
                else set()
            )
            known |= queued
            rows = [
                {
                    "natural_key": key,
                    "service_id": service_id,
                    "card": item.card,
                    "known_card": item.card in known,
                    "outcome": item.outcome,
                    "outcome_at": item.outcome_at.astimezone(UTC),
                    "accepted_suggestions": json.dumps(list(item.accepted_suggestions)),
                    "override_system": item.override_system,
                    "override_code": item.override_code,
                    "override_display": item.override_display,
                    "user_comment": item.user_comment,
                    "client_id": client_id,
                    "received_at": now,
                }
                for key, item in new.items()
            ]
            if rows:
                conn.execute(insert(FeedbackRecord), rows)
        unknown = sum(1 for r in rows if not r["known_card"])
        return FeedbackResult(
            received=len(items),
            stored=len(rows),
            duplicates=len(items) - len(rows),
            unknown_cards=unknown,
            items=tuple((i.outcome, i.card in known, dup) for i, dup in per_item),
        )

    def feedback_rows(self, service_id: str | None = None) -> list[dict[str, Any]]:
        """Stored feedback (oldest first), for analytics and tests."""
        self._ensure_schema()
        query = select(FeedbackRecord).order_by(FeedbackRecord.id)
        if service_id is not None:
            query = query.where(FeedbackRecord.service_id == service_id)
        with self.engine.connect() as conn:
            out = []
            for r in conn.execute(query).mappings():
                d = dict(r)
                d["accepted_suggestions"] = json.loads(d["accepted_suggestions"])
                d["outcome_at"] = _aware(d["outcome_at"])
                d["received_at"] = _aware(d["received_at"])
                out.append(d)
            return out

    def _latest_feedback_join(self) -> tuple[Any, Any]:
        """Issued cards outer-joined to the latest feedback row of each (by outcome_at, then
        id), and the count of suggestions that row accepted: (joined table, suggestions)."""
        from sqlalchemy import JSON, cast, func
        from sqlalchemy.orm import aliased

        fb, ic = FeedbackRecord, IssuedCard
        suggestions = (
            func.json_array_length(cast(fb.accepted_suggestions, JSON))
            if self.backend == "postgresql"
            else func.json_array_length(fb.accepted_suggestions)
        )
        # The latest feedback row of each card. PostgreSQL: numbered in one window pass.
        # SQLite: a correlated lookup through the index on feedback.card (its planner does
        # badly with a joined window); coalesce() keeps it off the service_id index.
        if self.backend == "postgresql":
            ranked = select(
                fb.id,
                fb.service_id,
                fb.card,
                func.row_number()
                .over(
                    partition_by=(fb.service_id, fb.card),
                    order_by=(fb.outcome_at.desc(), fb.id.desc()),
                )
                .label("rn"),
            ).subquery()
            joined = (
                ic.__table__.outerjoin(
                    ranked,
                    (ranked.c.card == ic.uuid)
                    & (ranked.c.service_id == ic.service_id)
                    & (ranked.c.rn == 1),
                )
            ).outerjoin(fb, fb.id == ranked.c.id)
        else:
            other = aliased(FeedbackRecord)
            latest_id = (
                select(other.id)
                .where(other.card == ic.uuid, func.coalesce(other.service_id, "") == ic.service_id)
                .order_by(other.outcome_at.desc(), other.id.desc())
                .limit(1)
                .correlate(ic)
                .scalar_subquery()
            )
            joined = ic.__table__.outerjoin(fb, fb.id == latest_id)
        return joined, suggestions

    def analytics_timeline(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        service_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Issued cards per UTC day (t = issued_at) for the analytics plots, grouped by `day`
        (YYYY-MM-DD), rule_ids (JSON text) and outcome of the latest feedback (None = none);
        with `cards` and `suggestions` (accepted in the latest row). Window as analytics_rows.
        """
        from sqlalchemy import String, cast, func

        self.flush()
        self._ensure_schema()
        ic = IssuedCard
        fb = FeedbackRecord
        joined, suggestions = self._latest_feedback_join()
        if self.backend == "postgresql":
            day = cast(func.date(func.timezone("UTC", ic.issued_at)), String)
        else:
            day = func.date(ic.issued_at)
        query = (
            select(
                day.label("day"),
                ic.rule_ids,
                fb.outcome,
                func.count().label("cards"),
                func.coalesce(func.sum(suggestions), 0).label("suggestions"),
            )
            .select_from(joined)
            .group_by(day, ic.rule_ids, fb.outcome)
        )
        if start is not None:
            query = query.where(ic.issued_at >= start.astimezone(UTC))
        if end is not None:
            query = query.where(ic.issued_at < end.astimezone(UTC))
        if service_id is not None:
            query = query.where(ic.service_id == service_id)
        try:
            with self.engine.connect() as conn:
                return [dict(r) for r in conn.execute(query).mappings()]
        except SQLAlchemyError as exc:
            raise StorageError(f"{self.backend}: {type(exc).__name__}") from exc

    def analytics_rows(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        service_id: str | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """Grouped counts for feedback analytics (cds_service/analytics.py), aggregated in SQL.

        Window: `start <= t < end` (aware datetimes; None = open). Four lists of rows:

        - `cards`: issued cards (t = issued_at), each joined to its latest feedback row (by
          outcome_at, then id), grouped by service_id, indicator, rule_ids (JSON text),
          outcome (None = no feedback), override_system/code/display; with `cards`,
          `suggestions` (ids accepted in the latest row) and `comments` (latest rows with a
          userComment: a count, never the text).
        - `items`: feedback rows about those cards (every row, superseded ones included),
          grouped by service_id; with `items`.
        - `unknown`: feedback about card uuids this service never issued (t = outcome_at),
          grouped by service_id; with `items`, `cards` (distinct uuids), `accepted` and
          `overridden` (items).
        - `calls`: audit rows (t = at) grouped by service_id, status, with_cards (0/1),
          rule_ids, unavailable (JSON text) and language; with `calls`.
        """
        from sqlalchemy import case, exists, func

        self.flush()
        self._ensure_schema()
        fb, ic, au = FeedbackRecord, IssuedCard, AuditRecord
        joined, suggestions = self._latest_feedback_join()
        card_cols = (
            ic.service_id,
            ic.indicator,
            ic.rule_ids,
            fb.outcome,
            fb.override_system,
            fb.override_code,
            fb.override_display,
        )
        comment = case((func.coalesce(fb.user_comment, "") != "", 1), else_=0)
        cards = (
            select(
                *card_cols,
                func.count().label("cards"),
                func.coalesce(func.sum(suggestions), 0).label("suggestions"),
                func.coalesce(func.sum(comment), 0).label("comments"),
            )
            .select_from(joined)
            .group_by(*card_cols)
        )
        items = (
            select(ic.service_id, func.count().label("items"))
            .select_from(fb)
            .join(ic, (ic.uuid == fb.card) & (ic.service_id == fb.service_id))
            .group_by(ic.service_id)
        )
        issued = exists().where(ic.uuid == fb.card, ic.service_id == fb.service_id)
        unknown = (
            select(
                fb.service_id,
                func.count().label("items"),
                func.count(fb.card.distinct()).label("cards"),
                func.sum(case((fb.outcome == "accepted", 1), else_=0)).label("accepted"),
                func.sum(case((fb.outcome == "overridden", 1), else_=0)).label("overridden"),
            )
            # known_card is true only when the card was issued before the feedback came
            .where(fb.known_card.is_(False), ~issued)
            .group_by(fb.service_id)
        )
        with_cards = case((au.card_count > 0, 1), else_=0)
        call_cols = (au.service_id, au.status, with_cards, au.rule_ids, au.unavailable, au.language)
        calls = select(
            *call_cols[:2],
            with_cards.label("with_cards"),
            *call_cols[3:],
            func.count().label("calls"),
        ).group_by(*call_cols)

        def window(query: Any, stamp: Any, owner: Any) -> Any:
            if start is not None:
                query = query.where(stamp >= start.astimezone(UTC))
            if end is not None:
                query = query.where(stamp < end.astimezone(UTC))
            if service_id is not None:
                query = query.where(owner.service_id == service_id)
            return query

        queries = {
            "cards": window(cards, ic.issued_at, ic),
            "items": window(items, ic.issued_at, ic),
            "unknown": window(unknown, fb.outcome_at, fb),
            "calls": window(calls, au.at, au),
        }
        try:
            with self.engine.connect() as conn:
                return {
                    name: [dict(r) for r in conn.execute(query).mappings()]
                    for name, query in queries.items()
                }
        except SQLAlchemyError as exc:
            raise StorageError(f"{self.backend}: {type(exc).__name__}") from exc


def close_app_storage(app: Any, timeout_s: float = WORKER_EXIT_FLUSH_S) -> None:
    """Commit what the app's storage writer still holds and stop it (gunicorn worker_exit:
    a graceful stop, SIGTERM or max_requests, loses no audit or issued-card row while the
    database takes them within `timeout_s`)."""
    extensions = getattr(app, "extensions", None)
    storage = extensions.get("rheum_cds.storage") if isinstance(extensions, dict) else None
    if isinstance(storage, Storage):
        storage.close(timeout_s)


def get_storage() -> Storage:
    """The storage of the current Flask app (set up by create_app)."""
    return current_app.extensions["rheum_cds.storage"]
