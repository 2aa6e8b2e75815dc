"""Stage 5, assess: pure functions from Facts to Findings and Scores. No I/O here."""

from __future__ import annotations

from cds_service.assess.engine import assess
from cds_service.assess.registry import RuleContext, Settings, rule

__all__ = ["RuleContext", "Settings", "assess", "rule"]
