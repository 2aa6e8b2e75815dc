"""JAKI-RENAL-DOSE, JAKI-HEPATIC, JAKI-DOSE-MAX: per-region label figures."""

from __future__ import annotations

from jaki_support import (
    KNOWLEDGE,
    complete_record,
    obs,
    one_finding,
    one_not_assessed,
    order,
    override,
    problem,
    run,
    with_obs,
    with_problems,
)

from cds_service.assess.rules.jaki_dose import cockcroft_gault

RENAL = ("crcl", "egfr", "creatinine")

# --------------------------------------------------------------------------- renal


def test_baricitinib_eu_crcl_45_suggests_2_mg():
    facts = with_obs(
        complete_record(order("baricitinib", dose_mg=4.0)), obs("crcl", 3, 45.0), drop=RENAL
    )
    f = one_finding(run("JAKI-RENAL-DOSE", facts, region="EU"))
    assert f.severity == "warning"
    assert [(s.kind, s.params) for s in f.suggestions] == [
        ("dose-update", {"dose_mg": 2.0, "per_day": 1.0})
    ]
    assert f.params["measure"] == "crcl" and f.params["band"] == "30-60"
    assert f.params["surrogate"] is False and "SmPC" in f.params["label"]
    assert f.source.startswith("Olumiant SmPC (EMA), section 4.2 [EU], https://www.ema.europa.eu/")


def test_baricitinib_eu_2_mg_at_crcl_45_is_already_labelled():
    facts = with_obs(
        complete_record(order("baricitinib", dose_mg=2.0)), obs("crcl", 3, 45.0), drop=RENAL
    )
    assert run("JAKI-RENAL-DOSE", facts) == []


def test_baricitinib_crcl_below_30_is_critical_not_recommended():
    facts = with_obs(
        complete_record(order("baricitinib", dose_mg=2.0)), obs("crcl", 3, 25.0), drop=RENAL
    )
    f = one_finding(run("JAKI-RENAL-DOSE", facts))
    assert f.severity == "critical" and f.params["action"] == "not_recommended"
    assert f.suggestions == []


def test_baricitinib_us_ra_egfr_45_suggests_1_mg():
    facts = with_obs(
        complete_record(order("baricitinib", dose_mg=2.0)), obs("egfr", 3, 45.0), drop=RENAL
    )
    f = one_finding(run("JAKI-RENAL-DOSE", facts, region="US"))
    assert f.suggestions[0].params == {"dose_mg": 1.0, "per_day": 1.0}
    assert f.params["measure"] == "egfr"


def test_filgotinib_eu_crcl_15_to_60_suggests_100_mg():
    facts = with_obs(
        complete_record(order("filgotinib", dose_mg=200.0)), obs("crcl", 3, 40.0), drop=RENAL
    )
    assert one_finding(run("JAKI-RENAL-DOSE", facts)).suggestions[0].params["dose_mg"] == 100.0


def test_tofacitinib_us_moderate_impairment_suggests_5_mg_once_daily():
    tofa = order("tofacitinib", dose_mg=5.0, per_day=2.0)
    facts = with_obs(complete_record(tofa), obs("crcl", 3, 40.0), drop=RENAL)
    f = one_finding(run("JAKI-RENAL-DOSE", facts, region="US"))
    assert f.suggestions[0].params == {"dose_mg": 5.0, "per_day": 1.0}


def test_tofacitinib_eu_reduces_in_severe_impairment_only():
    tofa = order("tofacitinib", dose_mg=5.0, per_day=2.0)
    severe = with_obs(complete_record(tofa), obs("crcl", 3, 20.0), drop=RENAL)
    f = one_finding(run("JAKI-RENAL-DOSE", severe, region="EU"))
    assert f.suggestions[0].params == {"dose_mg": 5.0, "per_day": 1.0}
    moderate = with_obs(complete_record(tofa), obs("crcl", 3, 40.0), drop=RENAL)
    assert run("JAKI-RENAL-DOSE", moderate, region="EU") == []
    assert one_finding(run("JAKI-RENAL-DOSE", moderate, region="US"))


def test_unchecked_region_figure_says_not_configured():
    ad = order("upadacitinib", dose_mg=30.0, indication="atopic_dermatitis")
    facts = with_obs(complete_record(ad), obs("egfr", 3, 20.0), drop=RENAL)
    na = one_not_assessed(run("JAKI-RENAL-DOSE", facts, region="EU"))
    assert na.missing == "label rule not configured for this region (EU)"


def test_institution_can_enable_an_unchecked_region_figure():
    ad = order("upadacitinib", dose_mg=30.0, indication="atopic_dermatitis")
    facts = with_obs(complete_record(ad), obs("egfr", 3, 20.0), drop=RENAL)
    knowledge = override("JAKI-RENAL-DOSE", enable_unchecked=["upadacitinib:EU"])
    f = one_finding(run("JAKI-RENAL-DOSE", facts, region="EU", knowledge=knowledge))
    assert f.suggestions[0].params == {"dose_mg": 15.0, "per_day": 1.0}


def test_taiwan_not_configured_where_the_insert_was_not_read():
    facts = with_obs(complete_record(), obs("crcl", 3, 45.0), drop=RENAL)
    assert "(TW)" in one_not_assessed(run("JAKI-RENAL-DOSE", facts, region="TW")).missing


def test_upadacitinib_ra_needs_no_renal_change_in_the_us_label():
    upa = order("upadacitinib", dose_mg=15.0)
    facts = with_obs(complete_record(upa), obs("egfr", 3, 35.0), drop=RENAL)
    assert run("JAKI-RENAL-DOSE", facts, region="US") == []
    ad = order("upadacitinib", dose_mg=30.0, indication="atopic_dermatitis")
    facts = with_obs(complete_record(ad), obs("egfr", 3, 20.0), drop=RENAL)
    f = one_finding(run("JAKI-RENAL-DOSE", facts, region="US"))
    assert f.suggestions[0].params["dose_mg"] == 15.0


def test_egfr_used_as_surrogate_when_no_crcl_and_no_weight():
    facts = with_obs(complete_record(), obs("egfr", 3, 50.0), drop=(*RENAL, "body_weight"))
    f = one_finding(run("JAKI-RENAL-DOSE", facts))
    assert f.params["measure"] == "egfr" and f.params["surrogate"] is True


def test_cockcroft_gault_from_creatinine_weight_age_sex():
    # (140 - 70) x 60 / (72 x 1.2) x 0.85 = 4200 / 86.4 x 0.85 = 41.32 mL/min
    assert (
        cockcroft_gault(70, 60.0, 1.2, True, KNOWLEDGE.rule("JAKI-RENAL-DOSE")["cockcroft_gault"])
        == 41.3
    )
    facts = with_obs(
        complete_record(age=70),
        obs("creatinine", 3, 1.2),
        obs("body_weight", 3, 60.0),
        drop=(*RENAL, "body_weight"),
    )
    f = one_finding(run("JAKI-RENAL-DOSE", facts))
    assert f.params["measure"] == "crcl_cockcroft_gault" and f.params["value"] == 41.3
    assert {e.label for e in f.evidence} == {"creatinine", "body_weight", "age"}


def test_renal_not_assessed_without_recent_renal_function():
    facts = with_obs(complete_record(), obs("egfr", 200, 40.0), drop=RENAL)
    na = one_not_assessed(run("JAKI-RENAL-DOSE", facts))
    assert na.missing == "no eGFR or creatinine clearance on file since 2026-08-25"
    assert na.suggestions[0].params == {"test": "creatinine"}


def test_renal_not_assessed_when_dose_unreadable():
    bad = order("baricitinib", dose_mg=None, per_day=None, dose_problem="no doseQuantity")
    facts = with_obs(complete_record(bad), obs("crcl", 3, 45.0), drop=RENAL)
    assert one_not_assessed(run("JAKI-RENAL-DOSE", facts)).missing == (
        "ordered dose could not be read: no doseQuantity"
    )


# --------------------------------------------------------------------------- hepatic


def test_severe_hepatic_impairment_not_recommended():
    facts = with_problems(complete_record(), problem("hepatic_impairment_severe"))
    f = one_finding(run("JAKI-HEPATIC", facts))
    assert f.severity == "critical" and f.params["class"] == "C"


def test_tofacitinib_child_pugh_b_us_suggests_5_mg_once_daily():
    tofa = order("tofacitinib", dose_mg=5.0, per_day=2.0)
    facts = with_obs(complete_record(tofa), obs("child_pugh", 10, interpretation="B"))
    f = one_finding(run("JAKI-HEPATIC", facts, region="US"))
    assert f.severity == "warning" and f.suggestions[0].params == {"dose_mg": 5.0, "per_day": 1.0}


def test_baricitinib_child_pugh_b_needs_no_change():
    facts = with_obs(complete_record(), obs("child_pugh", 10, interpretation="B"))
    assert run("JAKI-HEPATIC", facts) == []


def test_hepatic_cirrhosis_without_class_is_not_assessed():
    facts = with_problems(complete_record(), problem("cirrhosis"))
    assert (
        one_not_assessed(run("JAKI-HEPATIC", facts)).missing
        == "cirrhosis on file without a Child-Pugh class"
    )


def test_hepatic_not_assessed_without_liver_enzymes():
    facts = with_obs(complete_record(), drop=("alt", "ast"))
    na = one_not_assessed(run("JAKI-HEPATIC", facts))
    assert na.suggestions[0].params == {"test": "liver_panel"}


def test_deucravacitinib_severe_hepatic_us():
    tyk2 = order("deucravacitinib", "tyk2", dose_mg=6.0, indication="psoriasis")
    facts = with_problems(complete_record(tyk2), problem("hepatic_impairment_severe"))
    assert one_finding(run("JAKI-HEPATIC", facts, region="US")).severity == "critical"


# --------------------------------------------------------------------------- dose max


def test_tofacitinib_10_mg_twice_daily_in_ra_is_critical():
    tofa = order("tofacitinib", dose_mg=10.0, per_day=2.0)
    f = one_finding(run("JAKI-DOSE-MAX", complete_record(tofa)))
    assert f.severity == "critical"
    assert f.suggestions[0].params == {"dose_mg": 5.0, "per_day": 2.0}
    assert f.params["ordered_dose_mg"] == 10.0 and f.params["max_daily_mg"] == 11.0


def test_tofacitinib_xr_11_mg_and_5_mg_twice_daily_are_labelled():
    assert (
        run("JAKI-DOSE-MAX", complete_record(order("tofacitinib", dose_mg=11.0, per_day=1.0))) == []
    )
    assert (
        run("JAKI-DOSE-MAX", complete_record(order("tofacitinib", dose_mg=5.0, per_day=2.0))) == []
    )


def test_tofacitinib_10_mg_twice_daily_in_ulcerative_colitis_is_labelled():
    uc = order("tofacitinib", dose_mg=10.0, per_day=2.0, indication="ulcerative_colitis")
    assert run("JAKI-DOSE-MAX", complete_record(uc)) == []


def test_baricitinib_4_mg_from_65_eu_is_warning_2_mg():
    assert run("JAKI-DOSE-MAX", complete_record(age=64)) == []
    f = one_finding(run("JAKI-DOSE-MAX", complete_record(age=65)))
    assert f.severity == "warning" and f.params["min_age"] == 65
    assert f.suggestions[0].params == {"dose_mg": 2.0, "per_day": 1.0}


def test_baricitinib_4_mg_in_ra_under_us_label_is_warning():
    f = one_finding(run("JAKI-DOSE-MAX", complete_record(), region="US"))
    assert f.severity == "warning" and f.suggestions[0].params["dose_mg"] == 2.0


def test_off_label_indication_judged_against_reference_and_stated():
    pmr = order("tofacitinib", dose_mg=10.0, per_day=2.0, indication="pmr")
    f = one_finding(run("JAKI-DOSE-MAX", complete_record(pmr)))
    assert f.params["off_label"] is True and f.params["reference_indication"] == "ra"


def test_dose_max_not_assessed_when_dose_unreadable():
    bad = order("baricitinib", dose_mg=None, per_day=None, dose_problem="frequency missing")
    assert (
        "frequency missing" in one_not_assessed(run("JAKI-DOSE-MAX", complete_record(bad))).missing
    )


def test_dose_max_not_assessed_without_indication():
    unknown = order("tofacitinib", dose_mg=10.0, per_day=2.0, indication=None)
    assert one_not_assessed(run("JAKI-DOSE-MAX", complete_record(unknown))).missing.startswith(
        "indication unknown"
    )


def test_dose_max_not_assessed_without_age_when_the_limit_depends_on_it():
    assert one_not_assessed(run("JAKI-DOSE-MAX", complete_record(age=None))).missing.startswith(
        "no birth date on file"
    )


def test_unread_figures_judge_only_once_the_institution_enables_them():
    facts = with_obs(complete_record(), obs("egfr", 3, 45.0), drop=RENAL)
    assert "(TW)" in one_not_assessed(run("JAKI-RENAL-DOSE", facts, region="TW")).missing
    knowledge = override("JAKI-RENAL-DOSE", enable_unchecked=["baricitinib:TW"])
    f = one_finding(run("JAKI-RENAL-DOSE", facts, region="TW", knowledge=knowledge))
    assert f.params["label"] == "TFDA" and f.params["measure"] == "egfr"
    assert f.suggestions[0].params == {"dose_mg": 2.0, "per_day": 1.0}
