"""JAKI-AGE-65, JAKI-SMOKER, JAKI-MACE-RISK, JAKI-VTE-HISTORY, JAKI-VTE-RISK: fires, stays
quiet, and says "not assessed" when the data to judge are missing."""

from __future__ import annotations

from jaki_support import (
    complete_record,
    med,
    obs,
    one_finding,
    one_not_assessed,
    override,
    problem,
    run,
    unavailable,
    with_meds,
    with_obs,
    with_problems,
)

# --------------------------------------------------------------------------- JAKI-AGE-65


def test_age_65_fires_at_65_with_age_as_evidence():
    f = one_finding(run("JAKI-AGE-65", complete_record(age=65)))
    assert f.severity == "warning"
    assert f.params == {"age": 65, "min_age": 65}
    assert f.evidence[0].label == "age" and f.evidence[0].value == 65
    assert "PRAC" in f.source


def test_age_65_quiet_at_64():
    assert run("JAKI-AGE-65", complete_record(age=64)) == []


def test_age_65_not_assessed_without_birth_date():
    na = one_not_assessed(run("JAKI-AGE-65", complete_record(age=None, birth_date=None)))
    assert na.missing == "no birth date on file"


# --------------------------------------------------------------------------- JAKI-SMOKER


def test_smoker_fires_for_current_smoking_status():
    facts = with_obs(complete_record(), obs("smoking_status", 3, interpretation="current"))
    f = one_finding(run("JAKI-SMOKER", facts))
    assert f.severity == "warning" and f.params["status"] == "current"
    assert f.evidence[0].label == "smoking_status"


def test_smoker_fires_for_former_smoker_condition_when_status_is_old():
    facts = with_obs(
        complete_record(),
        obs("smoking_status", 2000, interpretation="never"),
        drop=("smoking_status",),
    )
    facts = with_problems(facts, problem("former_smoker", active=False))
    f = one_finding(run("JAKI-SMOKER", facts))
    assert f.params["status"] == "former"


def test_smoker_former_can_be_switched_off_by_the_institution():
    facts = with_obs(complete_record(), obs("smoking_status", 3, interpretation="former"))
    knowledge = override("JAKI-SMOKER", former_fires=False)
    assert run("JAKI-SMOKER", facts, knowledge=knowledge) == []


def test_smoker_quiet_for_recent_never():
    assert run("JAKI-SMOKER", complete_record()) == []


def test_smoker_not_assessed_without_status():
    na = one_not_assessed(run("JAKI-SMOKER", with_obs(complete_record(), drop=("smoking_status",))))
    assert na.missing == "no smoking status on file since 2024-11-23"
    assert na.concepts == ("smoking_status",)


def test_smoker_stale_never_counts_as_missing():
    facts = with_obs(
        complete_record(),
        obs("smoking_status", 800, interpretation="never"),
        drop=("smoking_status",),
    )
    assert one_not_assessed(run("JAKI-SMOKER", facts)).rule_id == "JAKI-SMOKER"


def test_smoker_unknown_answer_is_not_assessed():
    facts = with_obs(complete_record(), obs("smoking_status", 3, interpretation="unknown"))
    assert "unknown" in one_not_assessed(run("JAKI-SMOKER", facts)).missing


# --------------------------------------------------------------------------- JAKI-MACE-RISK


def test_mace_fires_for_established_ascvd_at_any_age():
    facts = with_problems(complete_record(age=40), problem("mi", active=False, onset_days_ago=900))
    f = one_finding(run("JAKI-MACE-RISK", facts))
    assert f.params["ascvd"] == ["mi"] and f.severity == "warning"
    assert f.evidence[0].label == "condition:mi"


def test_mace_fires_at_50_with_low_hdl():
    facts = with_obs(complete_record(age=50), obs("hdl", 5, 35.0))
    f = one_finding(run("JAKI-MACE-RISK", facts))
    assert f.params["risk_factors"] == ["low_hdl"]
    assert any(e.label == "hdl" and e.value == 35.0 and e.unit == "mg/dL" for e in f.evidence)


def test_mace_fires_at_55_with_hypertension_and_current_smoking():
    facts = with_problems(complete_record(age=55), problem("hypertension"))
    facts = with_obs(facts, obs("smoking_status", 1, interpretation="current"))
    f = one_finding(run("JAKI-MACE-RISK", facts))
    assert f.params["risk_factors"] == ["hypertension", "current_smoker"]


def test_mace_quiet_under_50_with_risk_factor():
    facts = with_problems(complete_record(age=49), problem("hypertension"))
    assert run("JAKI-MACE-RISK", facts) == []


def test_mace_quiet_at_60_without_risk_factor():
    assert run("JAKI-MACE-RISK", complete_record(age=60)) == []


def test_mace_not_assessed_at_60_without_hdl():
    facts = with_obs(complete_record(age=60), drop=("hdl",))
    na = one_not_assessed(run("JAKI-MACE-RISK", facts))
    assert "HDL cholesterol" in na.missing
    assert na.suggestions[0].params == {"test": "lipid_panel"}


def test_mace_not_assessed_without_age():
    assert one_not_assessed(run("JAKI-MACE-RISK", complete_record(age=None))).missing == (
        "no birth date on file"
    )


def test_mace_not_assessed_when_conditions_could_not_be_fetched():
    facts = complete_record(age=60, unavailable=[unavailable("conditions")])
    assert "conditions" in one_not_assessed(run("JAKI-MACE-RISK", facts)).missing


# --------------------------------------------------------------------------- JAKI-VTE-HISTORY


def test_vte_history_old_dvt_is_warning():
    facts = with_problems(
        complete_record(), problem("dvt", active=False, onset_days_ago=1500, abated_days_ago=1400)
    )
    f = one_finding(run("JAKI-VTE-HISTORY", facts))
    assert f.severity == "warning" and f.params["events"] == ["dvt"]
    assert f.params["recent"] is False


def test_vte_history_pe_within_six_months_is_critical():
    facts = with_problems(
        complete_record(), problem("pe", active=False, onset_days_ago=100, abated_days_ago=60)
    )
    f = one_finding(run("JAKI-VTE-HISTORY", facts))
    assert f.severity == "critical" and f.params["recent"] is True


def test_vte_history_on_anticoagulation_is_critical():
    facts = with_problems(
        complete_record(), problem("dvt", active=False, onset_days_ago=2000, abated_days_ago=1900)
    )
    facts = with_meds(facts, med("apixaban", "anticoagulant"))
    f = one_finding(run("JAKI-VTE-HISTORY", facts))
    assert f.severity == "critical" and f.params["anticoagulated"] is True
    assert any(e.label == "medication:anticoagulant" for e in f.evidence)


def test_vte_history_quiet_without_vte():
    assert run("JAKI-VTE-HISTORY", complete_record()) == []


def test_vte_history_not_assessed_when_conditions_unavailable():
    facts = complete_record(unavailable=[unavailable("conditions")])
    na = one_not_assessed(run("JAKI-VTE-HISTORY", facts))
    assert na.missing == "conditions could not be retrieved: conditions unavailable (timeout)"


# --------------------------------------------------------------------------- JAKI-VTE-RISK


def test_vte_risk_fires_for_combined_hormonal_contraception():
    facts = with_meds(
        complete_record(), med("ethinylestradiol/levonorgestrel", "combined_hormonal")
    )
    f = one_finding(run("JAKI-VTE-RISK", facts))
    assert f.params["risk_factors"] == ["combined_hormonal"]


def test_vte_risk_fires_for_bmi_30():
    facts = with_obs(complete_record(), obs("bmi", 2, 30.0))
    f = one_finding(run("JAKI-VTE-RISK", facts))
    assert f.params == {"risk_factors": ["obesity"], "bmi": 30.0}


def test_vte_risk_fires_for_active_cancer_not_for_nmsc():
    nmsc = with_problems(complete_record(), problem("malignancy", "nmsc"))
    assert run("JAKI-VTE-RISK", nmsc) == []
    cancer = with_problems(complete_record(), problem("malignancy"))
    assert one_finding(run("JAKI-VTE-RISK", cancer)).params["risk_factors"] == ["active_cancer"]


def test_vte_risk_recent_surgery_counts_old_does_not():
    recent = with_problems(
        complete_record(), problem("major_surgery_recent", active=False, onset_days_ago=30)
    )
    assert one_finding(run("JAKI-VTE-RISK", recent)).params["risk_factors"] == [
        "major_surgery_recent"
    ]
    old = with_problems(
        complete_record(), problem("major_surgery_recent", active=False, onset_days_ago=400)
    )
    assert run("JAKI-VTE-RISK", old) == []


def test_vte_risk_quiet_with_bmi_29():
    assert run("JAKI-VTE-RISK", with_obs(complete_record(), obs("bmi", 2, 29.9))) == []


def test_vte_risk_not_assessed_without_bmi():
    facts = with_obs(complete_record(), drop=("bmi",))
    na = one_not_assessed(run("JAKI-VTE-RISK", facts))
    assert na.missing.startswith("no BMI on file since 2025-11-23")


def test_vte_history_active_entry_with_old_onset_is_not_recent():
    facts = with_problems(complete_record(), problem("dvt", active=True, onset_days_ago=3000))
    assert one_finding(run("JAKI-VTE-HISTORY", facts)).severity == "warning"


def test_vte_history_active_entry_without_dates_counts_as_recent():
    facts = with_problems(complete_record(), problem("pe", active=True))
    assert one_finding(run("JAKI-VTE-HISTORY", facts)).severity == "critical"
