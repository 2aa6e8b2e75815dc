"""Terminology codes kept in the service's database (SQLAlchemy; SQLite and PostgreSQL).

Two tables beside those of cds_service/storage.py, on the same engine:

- `terminology_code`: one row per (source, concept, code) with the code's display and the
  version of the terminology it came from. `concept` is "" for a code a look-up found under no
  concept root (so it is not asked again).
- `terminology_source`: one row per source with its version, code count, time of the last
  successful load, and a lease (`lease_until`) that lets one worker or replica refresh it while
  the others wait and then read the result.

Sources: `server:<base URL>` (expansions of the concept roots by the institution's terminology
server), `lookup:<base URL>` (codes the service resolved one by one with that server) and `rf2`
(descendant closure built from a SNOMED CT RF2 release by `rheum-cds terminology
import-snomed`). Only codes and concept ids are stored: no patient data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cds_service.storage import StorageError

log = logging.getLogger(__name__)

RF2_SOURCE = "rf2"
NO_CONCEPT = ""  # concept of a looked-up code that is under no concept root
_CHUNK = 2000  # rows per INSERT


def server_source(base_url: str) -> str:
    return f"server:{base_url.rstrip('/')}"


def lookup_source(base_url: str) -> str:
    return f"lookup:{base_url.rstrip('/')}"


class TermBase(DeclarativeBase):
    pass


class TerminologyCode(TermBase):
    __tablename__ = "terminology_code"
    __table_args__ = (UniqueConstraint("source", "concept", "code", name="uq_terminology_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(512), index=True)
    concept: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    display: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[str] = mapped_column(String(255))


class TerminologySource(TermBase):
    __tablename__ = "terminology_source"
    source: Mapped[str] = mapped_column(String(512), primary_key=True)
    version: Mapped[str] = mapped_column(String(255), default="")
    codes: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class CodeRow:
    concept: str
    code: str
    display: str | None = None


@dataclass(frozen=True)
class SourceState:
    source: str
    version: str
    codes: int
    updated_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class TerminologyStore:
    """Read and write terminology codes on an SQLAlchemy engine (the service's storage)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend = engine.dialect.name
        self._ready = False

    def _error(self, exc: Exception) -> StorageError:
        return StorageError(f"{self.backend}: {type(exc).__name__}")

    def ensure_schema(self) -> None:
        if self._ready:
            return
        try:
            TermBase.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc
        self._ready = True

    # ------------------------------------------------------------------ writing

    def replace(self, source: str, version: str, rows: Iterable[CodeRow]) -> int:
        """Replace every code of `source` by `rows` in one transaction; returns the row count."""
        self.ensure_schema()
        unique: dict[tuple[str, str], CodeRow] = {}
        for row in rows:
            unique.setdefault((row.concept, row.code), row)
        values = [
            {
                "source": source,
                "concept": row.concept,
                "code": row.code,
                "display": row.display,
                "version": version[:255],
            }
            for row in unique.values()
        ]
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(TerminologyCode).where(TerminologyCode.source == source))
                for start in range(0, len(values), _CHUNK):
                    conn.execute(insert(TerminologyCode), values[start : start + _CHUNK])
                self._set_state(conn, source, version, len(values))
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc
        return len(values)

    def add(self, source: str, version: str, rows: Sequence[CodeRow]) -> None:
        """Add rows to `source` (look-up results); rows already stored are left as they are."""
        self.ensure_schema()
        try:
            with self.engine.begin() as conn:
                for row in rows:
                    exists = conn.execute(
                        select(TerminologyCode.id).where(
                            TerminologyCode.source == source,
                            TerminologyCode.concept == row.concept,
                            TerminologyCode.code == row.code,
                        )
                    ).first()
                    if exists is None:
                        conn.execute(
                            insert(TerminologyCode).values(
                                source=source,
                                concept=row.concept,
                                code=row.code,
                                display=row.display,
                                version=version[:255],
                            )
                        )
                count = conn.execute(
                    select(func.count())
                    .select_from(TerminologyCode)
                    .where(TerminologyCode.source == source)
                ).scalar_one()
                self._set_state(conn, source, version, int(count))
        except IntegrityError:
            pass  # another worker stored the same look-up first
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc

    @staticmethod
    def _set_state(conn: Connection, source: str, version: str, codes: int) -> None:
        now = _now()
        done = conn.execute(
            update(TerminologySource)
            .where(TerminologySource.source == source)
            .values(version=version[:255], codes=codes, updated_at=now, lease_until=None)
        )
        if not done.rowcount:
            conn.execute(
                insert(TerminologySource).values(
                    source=source, version=version[:255], codes=codes, updated_at=now
                )
            )

    def try_lease(self, source: str, seconds: float) -> bool:
        """Take the right to refresh `source` for `seconds`; False when another process holds
        it. Atomic across workers and replicas sharing the database (a conditional UPDATE)."""
        self.ensure_schema()
        now = _now()
        try:
            with self.engine.begin() as conn:
                has_row = conn.execute(
                    select(TerminologySource.source).where(TerminologySource.source == source)
                ).first()
                if has_row is None:
                    conn.execute(insert(TerminologySource).values(source=source, codes=0))
        except IntegrityError:
            pass  # created by another process at the same moment
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    update(TerminologySource)
                    .where(
                        TerminologySource.source == source,
                        or_(
                            TerminologySource.lease_until.is_(None),
                            TerminologySource.lease_until < now,
                        ),
                    )
                    .values(lease_until=now + timedelta(seconds=seconds))
                )
                return bool(result.rowcount)
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc

    def release(self, source: str) -> None:
        """Give a lease back after a failed refresh (so another process may try at once)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(TerminologySource)
                    .where(TerminologySource.source == source)
                    .values(lease_until=None)
                )
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc

    # ------------------------------------------------------------------ reading

    def state(self, source: str) -> SourceState | None:
        """The source's version, code count and last load; None if it was never loaded."""
        self.ensure_schema()
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(
                        TerminologySource.version,
                        TerminologySource.codes,
                        TerminologySource.updated_at,
                    ).where(TerminologySource.source == source)
                ).first()
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc
        if row is None or row.updated_at is None:
            return None
        return SourceState(source, row.version, row.codes, _aware(row.updated_at))

    def codes(self, sources: Sequence[str]) -> dict[str, set[str]]:
        """code -> concept ids over `sources` (NO_CONCEPT marks a code under no concept)."""
        self.ensure_schema()
        out: dict[str, set[str]] = {}
        query = select(TerminologyCode.code, TerminologyCode.concept).where(
            TerminologyCode.source.in_(list(sources))
        )
        try:
            with self.engine.connect() as conn:
                for code, concept in conn.execute(query):
                    out.setdefault(code, set()).add(concept)
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc
        return out

    def rows(self, source: str) -> list[dict[str, str | None]]:
        """Every stored row of `source` (concept, code, display, version); for operators and
        tests."""
        self.ensure_schema()
        query = (
            select(
                TerminologyCode.concept,
                TerminologyCode.code,
                TerminologyCode.display,
                TerminologyCode.version,
            )
            .where(TerminologyCode.source == source)
            .order_by(TerminologyCode.concept, TerminologyCode.code)
        )
        try:
            with self.engine.connect() as conn:
                return [dict(r) for r in conn.execute(query).mappings()]
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc
