from __future__ import annotations

import pytest

from cds_service.knowledge import Knowledge, load_knowledge


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    """The knowledge shipped with the package (concepts, tests.toml LOINC codes, rules)."""
    return load_knowledge()
