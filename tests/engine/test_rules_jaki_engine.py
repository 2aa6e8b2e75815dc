"""The JAKI rules inside the engine: loaded knowledge, assess() over several orders, overrides
through the loader. (Speed is measured in bench/, not asserted here.)"""

from __future__ import annotations

from dataclasses import replace

import pytest
from jaki_support import (
    KNOWLEDGE,
    complete_record,
    order,
    problem,
    with_problems,
)

from cds_service.assess.engine import assess
from cds_service.assess.registry import Settings
from cds_service.knowledge import KnowledgeError, load_knowledge

LOADED = load_knowledge()


def test_loaded_knowledge_carries_the_jaki_tables_unchanged():
    jaki = {k: v for k, v in LOADED.rules.items() if k.startswith("JAKI-")}
    assert jaki == KNOWLEDGE.files["rules_jaki"]
    assert LOADED.files["labels"] == KNOWLEDGE.files["labels"]


def test_institution_override_goes_through_the_loader():
    knowledge = load_knowledge(overrides={"JAKI-AGE-65": {"min_age": 70}})
    facts = complete_record(age=67)
    assessment = assess(facts, knowledge, Settings())
    assert "JAKI-AGE-65" not in {f.rule_id for f in assessment.findings}
    with pytest.raises(KnowledgeError, match="not configurable"):
        load_knowledge(overrides={"JAKI-AGE-65": {"severity": "info"}})


def test_assess_runs_jaki_rules_per_order_and_tyk2_subset():
    jak = order("tofacitinib", dose_mg=10.0, per_day=2.0)
    tyk2 = order(
        "deucravacitinib", "tyk2", dose_mg=6.0, indication="ra", ref="MedicationRequest/draft-2"
    )
    facts = replace(complete_record(jak, age=70), orders=[jak, tyk2])
    facts = with_problems(facts, problem("malignancy"))
    assessment = assess(facts, LOADED, Settings(label_region="US"))
    by_order: dict[str, set[str]] = {}
    for f in assessment.findings:
        if f.rule_id.startswith("JAKI-"):
            by_order.setdefault(f.order_ref, set()).add(f.rule_id)
    assert {"JAKI-AGE-65", "JAKI-DOSE-MAX", "JAKI-MALIGNANCY", "JAKI-COMBINATION"} <= by_order[
        jak.ref
    ]
    # TYK2: malignancy and combination (its own label), never the JAK boxed-warning age rule
    assert {"JAKI-MALIGNANCY", "JAKI-COMBINATION"} <= by_order[tyk2.ref]
    assert "JAKI-AGE-65" not in by_order[tyk2.ref]


def test_disabled_rule_is_not_run():
    assessment = assess(complete_record(age=70), LOADED, Settings(disabled_rules=("JAKI-AGE-65",)))
    assert "JAKI-AGE-65" not in {f.rule_id for f in assessment.findings}


def test_assessed_facts_are_not_kept_alive_after_assess():
    """The rules' problem index is dropped once the request is assessed: a request's Facts
    (every result of the chart) is freed with that request, not held until the next one."""
    import gc
    import weakref

    facts = with_problems(complete_record(age=70), problem("malignancy"))
    assessment = assess(facts, LOADED, Settings())
    assert "JAKI-MALIGNANCY" in {f.rule_id for f in assessment.findings}
    gone = weakref.ref(facts)
    del facts
    gc.collect()
    assert gone() is None
