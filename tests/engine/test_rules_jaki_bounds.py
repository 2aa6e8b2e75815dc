"""Results sent as bounds ("<500", ">60") or in a unit that could not be converted: judged
only when the bound decides, otherwise not assessed (never read as normal)."""

from __future__ import annotations

from jaki_support import (
    complete_record,
    obs,
    one_finding,
    one_not_assessed,
    order,
    run,
    with_obs,
)

RENAL = ("crcl", "egfr", "creatinine")


def test_anc_below_a_bound_under_the_floor_fires():
    facts = with_obs(complete_record(), obs("anc", 1, 500.0, comparator="<"))
    assert one_finding(run("JAKI-LAB-ANC", facts)).severity == "critical"


def test_anc_bound_straddling_the_floor_is_not_assessed():
    facts = with_obs(complete_record(), obs("anc", 1, 1500.0, comparator="<"))
    na = one_not_assessed(run("JAKI-LAB-ANC", facts))
    assert (
        na.missing
        == "latest result reported as <1500 (2026-11-22): cannot be compared with the label's floor"
    )


def test_anc_lower_bound_above_the_floor_is_quiet():
    facts = with_obs(complete_record(), obs("anc", 1, 1500.0, comparator=">"))
    assert run("JAKI-LAB-ANC", facts) == []


def test_value_in_an_unconvertible_unit_counts_as_missing():
    facts = with_obs(
        complete_record(), obs("hb", 1, 70.0, unit="mmol/L", comparable=False), drop=("hb",)
    )
    assert one_not_assessed(run("JAKI-LAB-HB", facts)).missing.startswith("no haemoglobin on file")


def test_egfr_above_60_bound_needs_no_renal_step():
    facts = with_obs(complete_record(), obs("egfr", 2, 60.0, comparator=">"), drop=RENAL)
    assert run("JAKI-RENAL-DOSE", facts) == []


def test_egfr_below_60_bound_spans_two_bands():
    facts = with_obs(complete_record(), obs("egfr", 2, 60.0, comparator="<"), drop=RENAL)
    assert one_not_assessed(run("JAKI-RENAL-DOSE", facts)).missing == (
        "renal function reported as <60: spans more than one labelled band"
    )


def test_crcl_below_15_bound_is_surely_below_the_floor():
    facts = with_obs(
        complete_record(order("filgotinib", dose_mg=100.0)),
        obs("crcl", 2, 15.0, comparator="<"),
        drop=RENAL,
    )
    assert one_finding(run("JAKI-RENAL-DOSE", facts)).params["action"] == "not_recommended"


def test_hdl_bound_above_40_is_not_a_risk_factor_and_below_is():
    high = with_obs(complete_record(age=60), obs("hdl", 2, 40.0, comparator=">="))
    assert run("JAKI-MACE-RISK", high) == []
    low = with_obs(complete_record(age=60), obs("hdl", 2, 35.0, comparator="<"))
    assert one_finding(run("JAKI-MACE-RISK", low)).params["risk_factors"] == ["low_hdl"]


def test_hbv_dna_below_detection_limit_is_undetectable():
    facts = with_obs(
        complete_record(),
        obs("anti_hbc", 3, interpretation="positive"),
        obs("hbv_dna", 3, 10.0, comparator="<"),
    )
    assert run("JAKI-HBV", facts) == []
    detectable = with_obs(
        complete_record(), obs("anti_hbc", 3, interpretation="positive"), obs("hbv_dna", 3, 250.0)
    )
    assert one_finding(run("JAKI-HBV", detectable)).params["status"] == "hbv_dna_detectable"


def test_bmi_bound_for_vte_risk():
    facts = with_obs(complete_record(), obs("bmi", 2, 30.0, comparator=">"))
    assert one_finding(run("JAKI-VTE-RISK", facts)).params["risk_factors"] == ["obesity"]
    unknown = with_obs(complete_record(), obs("bmi", 2, 35.0, comparator="<"))
    assert one_not_assessed(run("JAKI-VTE-RISK", unknown)).rule_id == "JAKI-VTE-RISK"


def test_implausible_lab_value_is_not_judged_either_way():
    for value in (-5000.0, 1e300):
        facts = with_obs(complete_record(), obs("anc", 1, value), drop=("anc",))
        na = one_not_assessed(run("JAKI-LAB-ANC", facts))
        assert "outside the plausible range" in na.missing


def test_implausible_egfr_is_not_judged():
    facts = with_obs(complete_record(), obs("egfr", 2, -3.0), drop=RENAL)
    assert "outside the plausible range" in one_not_assessed(run("JAKI-RENAL-DOSE", facts)).missing


def test_implausible_bmi_is_unknown_not_obesity():
    facts = with_obs(complete_record(), obs("bmi", 2, 1e300), drop=("bmi",))
    assert one_not_assessed(run("JAKI-VTE-RISK", facts)).rule_id == "JAKI-VTE-RISK"
