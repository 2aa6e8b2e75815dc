"""JAKI-TB-ACTIVE, JAKI-TB-SCREEN, JAKI-HBV, JAKI-HCV, and the shared screening helpers."""

from __future__ import annotations

from jaki_support import (
    KNOWLEDGE,
    complete_record,
    med,
    obs,
    one_finding,
    one_not_assessed,
    order,
    override,
    problem,
    run,
    unavailable,
    with_meds,
    with_obs,
    with_problems,
)

from cds_service.assess import screening

# --------------------------------------------------------------------------- TB active


def test_tb_active_fires_critical():
    facts = with_problems(complete_record(), problem("tb_active", onset_days_ago=20))
    f = one_finding(run("JAKI-TB-ACTIVE", facts))
    assert f.severity == "critical" and f.evidence[0].label == "condition:tb_active"


def test_tb_active_quiet_without_it():
    assert run("JAKI-TB-ACTIVE", complete_record()) == []


def test_tb_active_not_assessed_without_conditions():
    facts = complete_record(unavailable=[unavailable("Conditions")])
    assert one_not_assessed(run("JAKI-TB-ACTIVE", facts)).rule_id == "JAKI-TB-ACTIVE"


# --------------------------------------------------------------------------- TB screen


def test_tb_screen_no_igra_in_12_months_orders_igra():
    facts = with_obs(complete_record(), obs("igra", 400, interpretation="negative"), drop=("igra",))
    f = one_finding(run("JAKI-TB-SCREEN", facts))
    assert f.severity == "warning" and f.category == "screening"
    assert f.params["status"] == "stale" and f.params["last_date"] == "2025-10-19"
    assert [(s.kind, s.params) for s in f.suggestions] == [("order-test", {"test": "igra"})]


def test_tb_screen_positive_igra_without_treatment_fires():
    facts = with_obs(complete_record(), obs("igra", 20, interpretation="positive"))
    f = one_finding(run("JAKI-TB-SCREEN", facts))
    assert f.params["status"] == "positive_untreated" and f.category == "safety"


def test_tb_screen_positive_igra_with_latent_tb_treated_is_quiet():
    facts = with_obs(complete_record(), obs("igra", 200, interpretation="positive"), drop=("igra",))
    facts = with_problems(facts, problem("tb_latent_treated", active=False, onset_days_ago=150))
    assert run("JAKI-TB-SCREEN", facts) == []


def test_tb_screen_tst_induration_judged_at_5_mm():
    positive = with_obs(complete_record(), obs("tst", 5, 6.0, unit="mm"), drop=("igra",))
    assert one_finding(run("JAKI-TB-SCREEN", positive)).params["status"] == "positive_untreated"
    negative = with_obs(complete_record(), obs("tst", 5, 3.0, unit="mm"), drop=("igra",))
    assert run("JAKI-TB-SCREEN", negative) == []


def test_tb_screen_indeterminate_only_asks_for_a_repeat():
    facts = with_obs(
        complete_record(), obs("igra", 5, interpretation="indeterminate"), drop=("igra",)
    )
    assert one_finding(run("JAKI-TB-SCREEN", facts)).params["status"] == "indeterminate"


def test_tb_screen_not_assessed_when_observations_unavailable():
    facts = with_obs(complete_record(unavailable=[unavailable("observations")]), drop=("igra",))
    na = one_not_assessed(run("JAKI-TB-SCREEN", facts))
    assert na.suggestions[0].params == {"test": "igra"}


# --------------------------------------------------------------------------- HBV


def test_hbv_hbsag_positive_is_critical():
    facts = with_obs(complete_record(), obs("hbsag", 3, interpretation="positive"))
    f = one_finding(run("JAKI-HBV", facts))
    assert f.severity == "critical" and f.params["status"] == "hbsag_positive"


def test_hbv_core_positive_without_dna_or_prophylaxis_is_warning():
    facts = with_obs(complete_record(), obs("anti_hbc", 3, interpretation="positive"))
    f = one_finding(run("JAKI-HBV", facts))
    assert f.severity == "warning" and f.params["status"] == "anti_hbc_positive_no_plan"


def test_hbv_core_positive_with_prophylaxis_is_quiet():
    facts = with_obs(complete_record(), obs("anti_hbc", 3, interpretation="positive"))
    facts = with_meds(facts, med("entecavir", "hbv_antiviral"))
    assert run("JAKI-HBV", facts) == []


def test_hbv_core_positive_with_undetectable_dna_is_quiet():
    facts = with_obs(
        complete_record(),
        obs("anti_hbc", 3, interpretation="positive"),
        obs("hbv_dna", 3, interpretation="negative"),
    )
    assert run("JAKI-HBV", facts) == []


def test_hbv_no_serology_orders_it():
    facts = with_obs(complete_record(), drop=("hbsag", "anti_hbc"))
    f = one_finding(run("JAKI-HBV", facts))
    assert f.params["status"] == "serology_missing" and f.params["missing"] == ["hbsag", "anti_hbc"]
    assert f.suggestions[0].params == {"test": "hbv_serology"}


def test_hbv_old_negative_serology_counts_unless_the_institution_sets_a_window():
    old = with_obs(
        complete_record(),
        obs("hbsag", 1100, interpretation="negative"),
        obs("anti_hbc", 1100, interpretation="negative"),
        drop=("hbsag", "anti_hbc"),
    )
    assert run("JAKI-HBV", old) == []
    knowledge = override("JAKI-HBV", window_days=365)
    f = one_finding(run("JAKI-HBV", old, knowledge=knowledge))
    assert f.params["since"] == "2025-11-23" and f.params["missing"] == ["hbsag", "anti_hbc"]


def test_hbv_not_assessed_when_observations_unavailable():
    facts = with_obs(complete_record(unavailable=[unavailable("observations")]), drop=("hbsag",))
    assert one_not_assessed(run("JAKI-HBV", facts)).rule_id == "JAKI-HBV"


# --------------------------------------------------------------------------- HCV


def test_hcv_antibody_positive_without_rna_fires():
    facts = with_obs(complete_record(), obs("hcv_ab", 3, interpretation="positive"))
    assert one_finding(run("JAKI-HCV", facts)).params["status"] == "antibody_positive_no_rna"


def test_hcv_antibody_positive_with_later_negative_rna_is_quiet():
    facts = with_obs(
        complete_record(),
        obs("hcv_ab", 30, interpretation="positive"),
        obs("hcv_rna", 10, interpretation="negative"),
    )
    assert run("JAKI-HCV", facts) == []


def test_hcv_rna_detectable_fires():
    facts = with_obs(complete_record(), obs("hcv_rna", 10, 15000.0))
    assert one_finding(run("JAKI-HCV", facts)).params["status"] == "hcv_active"


def test_hcv_no_test_on_file_orders_antibody():
    f = one_finding(run("JAKI-HCV", with_obs(complete_record(), drop=("hcv_ab",))))
    assert f.category == "screening" and f.suggestions[0].params == {"test": "hcv_ab"}


def test_hcv_not_assessed_when_observations_unavailable():
    facts = with_obs(complete_record(unavailable=[unavailable("observations")]), drop=("hcv_ab",))
    assert one_not_assessed(run("JAKI-HCV", facts)).rule_id == "JAKI-HCV"


# --------------------------------------------------------------------------- reuse (IFX-SCREEN)


def test_screening_helpers_report_under_the_callers_rule_id_and_source():
    infliximab = order("infliximab", "biologic", dose_mg=300.0, per_day=1 / 56)
    facts = with_obs(complete_record(infliximab), drop=("igra", "hbsag", "anti_hbc"))
    params = {**KNOWLEDGE.rule("JAKI-TB-SCREEN"), "source": "seed 002"}
    tb = screening.tb_screen(facts, params, rule_id="IFX-SCREEN", order=infliximab)
    hbv = screening.hbv_screen(
        facts, KNOWLEDGE.rule("JAKI-HBV"), rule_id="IFX-SCREEN", order=infliximab
    )
    assert [f.rule_id for f in tb + hbv] == ["IFX-SCREEN", "IFX-SCREEN"]
    assert tb[0].source == "seed 002" and tb[0].drug == "infliximab"


# ---------------------------------------------------------------- latent TB treatment drugs


def test_tb_screen_positive_igra_on_a_latent_tb_drug_is_treated():
    # CDC/NTCA 2020: isoniazid, rifampicin and rifapentine regimens treat latent TB
    positive = with_obs(complete_record(), obs("igra", 20, interpretation="positive"))
    for drug in ("isoniazid", "rifampicin", "rifapentine"):
        for status in ("active", "completed", "draft"):
            facts = with_meds(positive, med(drug, "tb_latent_treatment", status=status))
            assert run("JAKI-TB-SCREEN", facts) == [], (drug, status)


def test_tb_screen_a_stopped_or_unrelated_drug_does_not_treat_latent_tb():
    positive = with_obs(complete_record(), obs("igra", 20, interpretation="positive"))
    for extra in (
        med("isoniazid", "tb_latent_treatment", status="stopped"),
        med("clarithromycin", "cyp3a4_strong_inhibitor"),
    ):
        f = one_finding(run("JAKI-TB-SCREEN", with_meds(positive, extra)))
        assert f.params["status"] == "positive_untreated"
