"""JAKI-MALIGNANCY: cancer other than NMSC active or within five years, lymphoma at any time."""

from __future__ import annotations

from jaki_support import (
    complete_record,
    one_finding,
    one_not_assessed,
    order,
    override,
    problem,
    run,
    unavailable,
    with_problems,
)


def test_active_cancer_fires():
    facts = with_problems(complete_record(), problem("malignancy", onset_days_ago=100))
    f = one_finding(run("JAKI-MALIGNANCY", facts))
    assert f.severity == "warning"
    assert f.params == {"cancers": ["malignancy"], "timing": "active", "within_years": 5}
    assert f.evidence[0].ref.startswith("Condition/")


def test_cancer_resolved_four_years_ago_fires():
    facts = with_problems(
        complete_record(),
        problem("malignancy", active=False, onset_days_ago=2000, abated_days_ago=1460),
    )
    assert one_finding(run("JAKI-MALIGNANCY", facts)).params["timing"] == "recent"


def test_cancer_resolved_six_years_ago_is_quiet():
    facts = with_problems(
        complete_record(),
        problem("malignancy", active=False, onset_days_ago=3000, abated_days_ago=2200),
    )
    assert run("JAKI-MALIGNANCY", facts) == []


def test_window_is_configurable():
    facts = with_problems(
        complete_record(),
        problem("malignancy", active=False, onset_days_ago=3000, abated_days_ago=2200),
    )
    knowledge = override("JAKI-MALIGNANCY", within_years=10)
    assert one_finding(run("JAKI-MALIGNANCY", facts, knowledge=knowledge))


def test_lymphoma_counts_at_any_time():
    facts = with_problems(
        complete_record(),
        problem("malignancy", "lymphoma", active=False, onset_days_ago=7000, abated_days_ago=6000),
    )
    f = one_finding(run("JAKI-MALIGNANCY", facts))
    assert f.params["timing"] == "any_time" and "lymphoma" in f.params["cancers"]


def test_non_melanoma_skin_cancer_is_excluded():
    facts = with_problems(complete_record(), problem("malignancy", "nmsc", onset_days_ago=30))
    assert run("JAKI-MALIGNANCY", facts) == []


def test_undated_past_cancer_is_not_read_as_old():
    facts = with_problems(complete_record(), problem("malignancy", active=False))
    assert one_finding(run("JAKI-MALIGNANCY", facts)).params["timing"] == "unknown"


def test_applies_to_tyk2_orders_too():
    tyk2 = order("deucravacitinib", "tyk2", dose_mg=6.0, indication="psoriasis")
    facts = with_problems(complete_record(tyk2), problem("malignancy"))
    assert one_finding(run("JAKI-MALIGNANCY", facts)).drug == "deucravacitinib"


def test_not_assessed_when_conditions_unavailable():
    facts = complete_record(unavailable=[unavailable("conditions")])
    na = one_not_assessed(run("JAKI-MALIGNANCY", facts))
    assert na.order_ref == "MedicationRequest/draft-1" and "conditions" in na.missing
