"""Fixtures of the clinical scenarios: the HTTP app in unsigned mode (tests/service/conftest.py)."""

from tests.service.conftest import app, knowledge, make_app  # noqa: F401
