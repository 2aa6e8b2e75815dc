"""JAKI-SERIOUS-INFECTION, JAKI-INFECTION-RISK, JAKI-ZOSTER, JAKI-LIVE-VACCINE."""

from __future__ import annotations

from jaki_support import (
    complete_record,
    med,
    obs,
    one_finding,
    one_not_assessed,
    problem,
    run,
    unavailable,
    vaccine,
    with_meds,
    with_obs,
    with_problems,
)

# --------------------------------------------------------------------------- serious infection


def test_serious_infection_fires_critical():
    facts = with_problems(complete_record(), problem("serious_infection", onset_days_ago=3))
    f = one_finding(run("JAKI-SERIOUS-INFECTION", facts))
    assert f.severity == "critical" and f.category == "safety"


def test_resolved_serious_infection_is_quiet():
    facts = with_problems(
        complete_record(),
        problem("serious_infection", active=False, onset_days_ago=90, abated_days_ago=60),
    )
    assert run("JAKI-SERIOUS-INFECTION", facts) == []


def test_serious_infection_not_assessed_without_conditions():
    facts = complete_record(unavailable=[unavailable("conditions")])
    assert (
        one_not_assessed(run("JAKI-SERIOUS-INFECTION", facts)).rule_id == "JAKI-SERIOUS-INFECTION"
    )


# --------------------------------------------------------------------------- infection risk


def test_infection_risk_one_factor_is_info():
    f = one_finding(run("JAKI-INFECTION-RISK", complete_record(age=70)))
    assert f.severity == "info" and f.params == {"risk_factors": ["age"], "count": 1}


def test_infection_risk_two_factors_is_warning():
    facts = with_problems(complete_record(age=70, prednisone_mg_day=10.0), problem("diabetes"))
    f = one_finding(run("JAKI-INFECTION-RISK", facts))
    assert f.severity == "warning"
    assert f.params["risk_factors"] == ["age", "prednisone", "diabetes"]


def test_infection_risk_prednisone_exactly_7_5_does_not_count():
    assert run("JAKI-INFECTION-RISK", complete_record(prednisone_mg_day=7.5)) == []


def test_infection_risk_low_bmi_counts():
    facts = with_obs(complete_record(), obs("bmi", 1, 17.9))
    assert one_finding(run("JAKI-INFECTION-RISK", facts)).params["risk_factors"] == ["bmi"]


def test_infection_risk_not_assessed_without_age_and_bmi():
    facts = with_obs(complete_record(age=None), drop=("bmi",))
    na = one_not_assessed(run("JAKI-INFECTION-RISK", facts))
    assert na.missing == "infection risk factors not fully known: no birth date, BMI on file"


# --------------------------------------------------------------------------- zoster


def test_zoster_no_recombinant_vaccine_is_info_with_vaccinate_suggestion():
    facts = complete_record(vaccinations=[vaccine("121", 3000, live=True)])
    f = one_finding(run("JAKI-ZOSTER", facts))
    assert f.severity == "info" and f.category == "screening"
    assert [(s.kind, s.params) for s in f.suggestions] == [("vaccinate", {"cvx": "187"})]
    assert f.params["weeks_before_start"] == 4


def test_zoster_prior_herpes_zoster_is_warning():
    facts = with_problems(
        complete_record(), problem("herpes_zoster", active=False, onset_days_ago=700)
    )
    f = one_finding(run("JAKI-ZOSTER", facts))
    assert f.severity == "warning" and f.params["prior_zoster"] is True
    assert f.suggestions == []  # already vaccinated


def test_zoster_quiet_when_recombinant_vaccine_on_file():
    assert run("JAKI-ZOSTER", complete_record()) == []


def test_zoster_not_assessed_when_immunizations_unavailable():
    facts = complete_record(vaccinations=[], unavailable=[unavailable("immunizations")])
    na = one_not_assessed(run("JAKI-ZOSTER", facts))
    assert na.missing == "immunizations could not be retrieved: immunizations unavailable (timeout)"


# --------------------------------------------------------------------------- live vaccine


def test_live_vaccine_within_4_weeks_fires():
    facts = complete_record(vaccinations=[*complete_record().vaccinations, vaccine("03", 20)])
    f = one_finding(run("JAKI-LIVE-VACCINE", facts))
    assert f.severity == "warning" and f.params["vaccines"] == ["03"]
    assert f.evidence[0].label == "vaccination"


def test_live_vaccine_flag_from_normalise_counts_without_known_cvx():
    facts = complete_record(vaccinations=[vaccine("999", 5, live=True)])
    assert one_finding(run("JAKI-LIVE-VACCINE", facts))


def test_live_vaccine_ordered_fires():
    facts = with_meds(complete_record(), med("zoster vaccine live", "live_vaccine", status="draft"))
    assert one_finding(run("JAKI-LIVE-VACCINE", facts)).params["ordered"] is True


def test_live_vaccine_older_than_4_weeks_is_quiet():
    facts = complete_record(vaccinations=[vaccine("03", 40)])
    assert run("JAKI-LIVE-VACCINE", facts) == []


def test_live_vaccine_not_assessed_when_immunizations_unavailable():
    facts = complete_record(vaccinations=[], unavailable=[unavailable("immunizations")])
    assert one_not_assessed(run("JAKI-LIVE-VACCINE", facts)).rule_id == "JAKI-LIVE-VACCINE"


def test_infection_risk_prior_biologic_from_a_stopped_biologic_order():
    facts = with_meds(complete_record(), med("adalimumab", "biologic", "tnfi", status="stopped"))
    f = one_finding(run("JAKI-INFECTION-RISK", facts))
    assert f.params["risk_factors"] == ["biologic_failure"]
    assert f.evidence[0].label == "medication:prior_biologic"
