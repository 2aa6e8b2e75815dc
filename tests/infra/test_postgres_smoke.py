"""The PostgreSQL fixture is a real server: a round trip through SQLAlchemy and psycopg 3."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select, text
from sqlalchemy.exc import IntegrityError

from tests.fixtures.postgres import PostgresServer

pytestmark = pytest.mark.integration


def test_round_trip_through_sqlalchemy(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://")
    engine = create_engine(postgres_url)
    metadata = MetaData()
    notes = Table(
        "smoke_notes",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("text", String(200), nullable=False, unique=True),
    )
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(notes.insert(), [{"text": "類風濕關節炎"}, {"text": "関節リウマチ"}])
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(notes.insert(), [{"text": "rolled back"}, {"text": "関節リウマチ"}])
        with engine.connect() as conn:
            rows = conn.execute(select(notes.c.text).order_by(notes.c.id)).scalars().all()
            version = conn.execute(text("SHOW server_version_num")).scalar_one()
        assert rows == ["類風濕關節炎", "関節リウマチ"]
        assert engine.dialect.name == "postgresql"
        assert int(version) >= 130000
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def test_extra_databases_are_separate(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("smoke_extra")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar_one() == "smoke_extra"
    finally:
        engine.dispose()
