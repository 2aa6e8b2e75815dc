"""JAKI-PREGNANCY and JAKI-CONTRACEPTION."""

from __future__ import annotations

from jaki_support import (
    complete_record,
    obs,
    one_finding,
    one_not_assessed,
    order,
    problem,
    run,
    unavailable,
    with_obs,
    with_problems,
)


def test_pregnancy_condition_is_critical_with_label_washout():
    upa = order("upadacitinib", dose_mg=15.0)
    facts = with_problems(complete_record(upa), problem("pregnancy", onset_days_ago=40))
    f = one_finding(run("JAKI-PREGNANCY", facts))
    assert f.severity == "critical"
    assert f.params == {"status": ["pregnancy"], "washout_weeks": 4, "eular_stop_months": 2}


def test_positive_hcg_within_30_days_fires():
    facts = with_obs(complete_record(), obs("hcg", 2, interpretation="positive"))
    assert one_finding(run("JAKI-PREGNANCY", facts)).evidence[0].label == "hcg"


def test_lactation_fires():
    facts = with_problems(complete_record(), problem("lactation"))
    assert one_finding(run("JAKI-PREGNANCY", facts)).params["status"] == ["lactation"]


def test_positive_hcg_older_than_30_days_is_quiet():
    facts = with_obs(complete_record(), obs("hcg", 60, interpretation="positive"), drop=("hcg",))
    assert run("JAKI-PREGNANCY", facts) == []


def test_pregnancy_never_for_male():
    facts = with_problems(complete_record(sex="male"), problem("pregnancy"))
    assert run("JAKI-PREGNANCY", facts) == []


def test_pregnancy_not_assessed_when_conditions_unavailable():
    facts = complete_record(unavailable=[unavailable("conditions")])
    assert one_not_assessed(run("JAKI-PREGNANCY", facts)).rule_id == "JAKI-PREGNANCY"


def test_contraception_woman_of_30_without_pregnancy_test():
    facts = with_obs(complete_record(age=30), drop=("hcg",))
    f = one_finding(run("JAKI-CONTRACEPTION", facts))
    assert f.severity == "info" and f.category == "screening"
    assert f.suggestions[0].params == {"test": "pregnancy_test"}


def test_contraception_quiet_outside_age_band_and_for_men():
    assert run("JAKI-CONTRACEPTION", with_obs(complete_record(age=62), drop=("hcg",))) == []
    assert run("JAKI-CONTRACEPTION", with_obs(complete_record(sex="male"), drop=("hcg",))) == []


def test_contraception_not_assessed_without_sex():
    na = one_not_assessed(run("JAKI-CONTRACEPTION", complete_record(sex="unknown")))
    assert na.missing == "administrative sex not recorded as male or female"


def test_contraception_not_assessed_without_age():
    facts = with_obs(complete_record(age=None), drop=("hcg",))
    assert one_not_assessed(run("JAKI-CONTRACEPTION", facts)).missing == "no birth date on file"
