"""JAKI-LAB-ANC, -ALC, -HB, -PLT, -MISSING and JAKI-LIPIDS."""

from __future__ import annotations

import pytest
from jaki_support import (
    complete_record,
    obs,
    one_finding,
    one_not_assessed,
    order,
    run,
    unavailable,
    with_obs,
)

CASES = [
    # rule, concept, drug, label region, low value (fires), ok value (quiet)
    ("JAKI-LAB-ANC", "anc", "baricitinib", "EU", 950.0, 1000.0),
    ("JAKI-LAB-ALC", "alc", "baricitinib", "US", 480.0, 500.0),
    ("JAKI-LAB-HB", "hb", "baricitinib", "EU", 7.9, 8.0),
    ("JAKI-LAB-HB", "hb", "tofacitinib", "EU", 8.9, 9.0),
    ("JAKI-LAB-PLT", "platelets", "abrocitinib", "EU", 149000.0, 150000.0),
    ("JAKI-LAB-PLT", "platelets", "ritlecitinib", "US", 99000.0, 100000.0),
]


@pytest.mark.parametrize(("rule_id", "concept", "drug", "region", "low", "ok"), CASES)
def test_below_floor_is_critical_and_at_floor_is_quiet(rule_id, concept, drug, region, low, ok):
    the_order = order(drug)
    fires = with_obs(complete_record(the_order), obs(concept, 1, low))
    f = one_finding(run(rule_id, fires, region=region))
    assert f.severity == "critical"
    assert f.params["value"] == low and f.params["threshold"] == ok
    assert f.params["region"] == region and f"[{region}]" in f.source
    assert f.evidence[0].when.isoformat() == "2026-11-22"
    quiet = with_obs(complete_record(the_order), obs(concept, 1, ok))
    assert run(rule_id, quiet, region=region) == []


@pytest.mark.parametrize(("rule_id", "concept", "drug", "region", "low", "ok"), CASES)
def test_result_older_than_90_days_is_not_assessed(rule_id, concept, drug, region, low, ok):
    facts = with_obs(complete_record(order(drug)), obs(concept, 120, low), drop=(concept,))
    na = one_not_assessed(run(rule_id, facts, region=region))
    assert na.missing.endswith("on file since 2026-08-25")
    assert na.suggestions[0].params == {"test": "cbc"}


def test_tofacitinib_hb_8_5_fires_but_baricitinib_does_not():
    assert one_finding(
        run("JAKI-LAB-HB", with_obs(complete_record(order("tofacitinib")), obs("hb", 1, 8.5)))
    )
    assert (
        run("JAKI-LAB-HB", with_obs(complete_record(order("baricitinib")), obs("hb", 1, 8.5))) == []
    )


def test_platelet_floor_only_for_drugs_whose_label_sets_one():
    facts = with_obs(complete_record(order("baricitinib")), obs("platelets", 1, 90000.0))
    assert run("JAKI-LAB-PLT", facts) == []


def test_lab_missing_lists_each_missing_group_and_orders_it():
    facts = with_obs(complete_record(), drop=("alt", "ast", "creatinine", "egfr", "crcl"))
    f = one_finding(run("JAKI-LAB-MISSING", facts))
    assert f.severity == "warning" and f.params["missing"] == ["liver_panel", "creatinine"]
    assert [s.params["test"] for s in f.suggestions] == ["liver_panel", "creatinine"]


def test_lab_missing_not_assessed_when_observations_unavailable():
    facts = with_obs(
        complete_record(unavailable=[unavailable("observations")]), drop=("alt", "ast")
    )
    assert one_not_assessed(run("JAKI-LAB-MISSING", facts)).rule_id == "JAKI-LAB-MISSING"


def test_lipids_missing_in_12_months_is_info_with_recheck_weeks():
    lipids = ("hdl", "ldl", "total_cholesterol", "triglycerides")
    facts = with_obs(complete_record(), obs("ldl", 500, 120.0), drop=lipids)
    f = one_finding(run("JAKI-LIPIDS", facts))
    assert f.severity == "info" and f.params["recheck_weeks"] == [8, 12]
    assert f.params["last_date"] == "2025-07-11"
    assert f.suggestions[0].params == {"test": "lipid_panel"}


def test_lipids_not_assessed_when_observations_unavailable():
    lipids = ("hdl", "ldl", "total_cholesterol", "triglycerides")
    facts = with_obs(complete_record(unavailable=[unavailable("observations")]), drop=lipids)
    assert one_not_assessed(run("JAKI-LIPIDS", facts)).rule_id == "JAKI-LIPIDS"


def test_lab_missing_quiet_when_each_group_has_a_recent_result():
    facts = with_obs(
        complete_record(), drop=("anc", "alc", "platelets", "wbc", "ast", "egfr", "crcl")
    )
    assert run("JAKI-LAB-MISSING", facts) == []  # hb, alt and creatinine are enough


def test_lipids_quiet_with_any_lipid_result_in_12_months():
    lipids = ("hdl", "ldl", "total_cholesterol")
    assert run("JAKI-LIPIDS", with_obs(complete_record(), drop=lipids)) == []  # triglycerides
