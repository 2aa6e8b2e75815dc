"""Properties of the JAKI rule set as a whole: registry vs knowledge, the quiet complete
record, phrase parameters, topical capping and per-region label figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jaki_support import KNOWLEDGE, complete_record, run

from cds_service.assess.registry import REGISTRY

SPEC = Path("/work/shared/clinical/SPEC.md")
JAKI_IDS = sorted(r for r in KNOWLEDGE.rules if r.startswith("JAKI-"))


def test_every_spec_jaki_rule_is_registered_with_knowledge():
    ids_in_spec = (
        set(re.findall(r"\| (JAKI-[A-Z0-9-]+) \|", SPEC.read_text())) if SPEC.exists() else set()
    )
    registered = {r for r in REGISTRY if r.startswith("JAKI-")}
    assert len(registered) == 31
    assert set(JAKI_IDS) == registered
    if ids_in_spec:
        assert ids_in_spec == registered


@pytest.mark.parametrize("rule_id", JAKI_IDS)
def test_registration_matches_applies_to_in_knowledge(rule_id):
    assert tuple(KNOWLEDGE.rule(rule_id)["applies_to"]) == REGISTRY[rule_id].applies_to


@pytest.mark.parametrize("rule_id", JAKI_IDS)
def test_complete_normal_record_gives_nothing(rule_id):
    assert run(rule_id, complete_record()) == []
