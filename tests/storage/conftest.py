"""Storage tests run on SQLite (a file per test) and, in the integration suite, on the
throw-away PostgreSQL cluster of the `postgres_url` fixture (tests/conftest.py)."""

from __future__ import annotations

from tests.fixtures.apps import BASE_URL, make_app, storage_url  # noqa: F401
