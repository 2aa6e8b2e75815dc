"""Hypothesis profiles for the bad-input tests.

CI runs the short profile (the default). The long run is one command:

    RHEUM_FUZZ=long .venv/bin/pytest tests/reliability -k "bad_input or openapi"

which generates at least 10 000 cases in all (docs/reliability.md has the last result).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "short",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=2500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("RHEUM_FUZZ", "short")
