"""Infliximab TDM rules (clinical/SPEC.md §5): fires / must not / not assessed, per rule id."""

from __future__ import annotations

from datetime import date, timedelta

from cds_service.assess import Settings, assess
from cds_service.knowledge import load_knowledge
from cds_service.model import Facts, Finding, Medication, NotAssessed, Observed, Order, Unavailable

TODAY = date(2026, 11, 23)
K = load_knowledge()


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def ifx(indication: str | None = "ra") -> Order:
    return Order(
        drug="infliximab",
        drug_class="biologic",
        ref="MedicationRequest/draft-ifx",
        resource={},
        indication=indication,
    )


def trough(value: float | None, when: date, original: str | None = None) -> Observed:
    return Observed(
        "ifx_trough",
        when,
        f"Observation/trough-{when}",
        value,
        "ug/mL" if value is not None else None,
        original=original,
    )


def antibody(value: float | None, when: date, unit: str | None = "ug/L", **kw) -> Observed:
    return Observed("ifx_antibody", when, f"Observation/ada-{when}", value, unit, **kw)


def coded(concept: str, answer: str, when: date) -> Observed:
    return Observed(concept, when, f"Observation/{concept}-{when}", interpretation=answer)


def med(
    drug: str, classes: tuple[str, ...], authored: date | None, status: str = "active"
) -> Medication:
    return Medication(
        drug, frozenset(classes), f"MedicationRequest/{drug}-{authored}", status, authored=authored
    )


MTX = med("methotrexate", ("csdmard",), days_ago(300))


def facts(*observations: Observed, order: Order | None = None, medications=(MTX,), **kw) -> Facts:
    by: dict[str, list[Observed]] = {}
    for o in observations:
        by.setdefault(o.concept, []).append(o)
    for values in by.values():
        values.sort(key=lambda o: o.when, reverse=True)
    return Facts(
        today=TODAY,
        orders=[order or ifx()],
        observations=by,
        medications=list(medications),
        **kw,
    )


def run(f: Facts, rule_id: str) -> tuple[list[Finding], list[NotAssessed]]:
    a = assess(f, K, Settings(enabled_rules=(rule_id,)))
    return (
        [x for x in a.findings if x.rule_id == rule_id],
        [x for x in a.not_assessed if x.rule_id == rule_id],
    )


# ------------------------------------------------------------------------------ IFX-TDM-LOW


def test_tdm_low_fires_below_1_ug_ml():
    (finding,), _ = run(facts(trough(0.6, days_ago(20)), trough(4.0, days_ago(100))), "IFX-TDM-LOW")
    assert finding.severity == "warning"
    assert finding.params == {
        "trough": 0.6,
        "date": days_ago(20).isoformat(),
        "low_ug_ml": 1.0,
        "target": "3-8",
    }
    assert finding.evidence[0].ref == f"Observation/trough-{days_ago(20)}"


def test_tdm_low_reads_a_below_detection_result():
    (finding,), _ = run(facts(trough(None, days_ago(20), original="<0.4")), "IFX-TDM-LOW")
    assert finding.params["trough"] == "<0.4"


def test_tdm_low_quiet_at_or_above_1():
    assert run(facts(trough(1.0, days_ago(20))), "IFX-TDM-LOW") == ([], [])


def test_tdm_low_not_assessed_without_a_trough_in_6_months():
    findings, (na,) = run(facts(trough(0.3, days_ago(200))), "IFX-TDM-LOW")
    assert findings == []
    assert na.missing == f"no infliximab trough on file since {days_ago(183).isoformat()}"
    assert na.suggestions[0].params == {"test": "ifx_trough"}


# ------------------------------------------------------------------------------ IFX-ADA


def test_ada_fires_at_50_ug_l():
    (finding,), _ = run(facts(antibody(50.0, days_ago(30))), "IFX-ADA")
    assert finding.params["antibody"] == 50.0 and finding.severity == "warning"


def test_ada_quiet_below_50_ug_l():
    assert run(facts(antibody(49.9, days_ago(30))), "IFX-ADA") == ([], [])


def test_ada_not_assessed_without_a_result():
    findings, (na,) = run(facts(), "IFX-ADA")
    assert findings == [] and na.suggestions[0].params == {"test": "ifx_antibody"}


def test_ada_in_arbitrary_units_is_shown_not_judged():
    result = antibody(120.0, days_ago(30), unit="[arb'U]/mL", original="120 AU/mL")
    findings, (na,) = run(facts(result), "IFX-ADA")
    assert findings == []
    assert "120 AU/mL" in na.missing and "not compared with 50 ug/L" in na.missing


# ------------------------------------------------------------------------------ IFX-TDM-NONE

ON_IFX = (
    MTX,
    med("infliximab", ("biologic", "tnfi"), days_ago(200)),
    med("infliximab", ("biologic",), days_ago(40)),
)


def test_tdm_none_fires_in_maintenance_without_any_trough():
    (finding,), _ = run(facts(medications=ON_IFX), "IFX-TDM-NONE")
    assert finding.params == {"since": days_ago(200).isoformat()}
    assert finding.suggestions[0].params == {"test": "ifx_trough"}


def test_tdm_none_quiet_with_a_trough_on_file_or_in_induction():
    assert run(facts(trough(5.0, days_ago(400)), medications=ON_IFX), "IFX-TDM-NONE") == ([], [])
    induction = (MTX, med("infliximab", ("biologic",), days_ago(30)))
    assert run(facts(medications=induction), "IFX-TDM-NONE") == ([], [])
    assert run(facts(), "IFX-TDM-NONE") == ([], [])  # first infliximab order


def test_tdm_none_not_assessed_when_medications_could_not_be_read():
    f = facts(medications=(), unavailable=[Unavailable("medications", "http 500")])
    findings, (na,) = run(f, "IFX-TDM-NONE")
    assert findings == [] and "medications" in na.missing


# ------------------------------------------------------------------------------ IFX-INTERVAL


def test_interval_fires_for_a_low_trough_without_antibodies():
    f = facts(trough(1.8, days_ago(20)), antibody(10.0, days_ago(20)))
    (finding,), _ = run(f, "IFX-INTERVAL")
    assert finding.params["trough"] == 1.8 and finding.params["below_ug_ml"] == 3.0


def test_interval_fires_with_a_negative_presence_assay():
    f = facts(
        trough(0.5, days_ago(20)),
        antibody(None, days_ago(20), unit=None, interpretation="negative"),
    )
    assert len(run(f, "IFX-INTERVAL")[0]) == 1


def test_interval_quiet_with_antibodies_or_a_trough_in_range():
    assert run(facts(trough(1.8, days_ago(20)), antibody(300.0, days_ago(20))), "IFX-INTERVAL") == (
        [],
        [],
    )
    assert run(facts(trough(4.5, days_ago(20)), antibody(10.0, days_ago(20))), "IFX-INTERVAL") == (
        [],
        [],
    )


def test_interval_not_assessed_without_an_antibody_result():
    findings, (na,) = run(facts(trough(1.8, days_ago(20))), "IFX-INTERVAL")
    assert findings == [] and na.concepts == ("ifx_antibody",)


# ------------------------------------------------------------------------------ IFX-MTX


def test_mtx_fires_for_ra_without_methotrexate():
    (finding,), _ = run(facts(medications=()), "IFX-MTX")
    assert finding.params == {"drugs": ["methotrexate"]} and finding.severity == "info"


def test_mtx_quiet_with_methotrexate_or_outside_ra():
    assert run(facts(), "IFX-MTX") == ([], [])
    assert run(facts(medications=(), order=ifx("crohns")), "IFX-MTX") == ([], [])
    stopped = med("methotrexate", ("csdmard",), days_ago(300), status="stopped")
    assert len(run(facts(medications=(stopped,)), "IFX-MTX")[0]) == 1


def test_mtx_not_assessed_when_medications_could_not_be_read():
    f = facts(medications=(), unavailable=[Unavailable("medications", "timeout")])
    findings, (na,) = run(f, "IFX-MTX")
    assert findings == [] and na.rule_id == "IFX-MTX"


# ------------------------------------------------------------------------------ IFX-SCREEN


def test_screen_fires_for_missing_tb_and_hbv_screening():
    findings, _ = run(facts(), "IFX-SCREEN")
    assert sorted(f.params["part"] for f in findings) == ["hbv", "tb"]
    assert all(
        f.order_ref == "MedicationRequest/draft-ifx" and f.drug == "infliximab" for f in findings
    )
    assert all("infliximab" in f.source for f in findings)


def test_screen_fires_critical_for_hbsag_positive():
    f = facts(coded("igra", "negative", days_ago(30)), coded("hbsag", "positive", days_ago(30)))
    (finding,), _ = run(f, "IFX-SCREEN")
    assert finding.severity == "critical" and finding.params["part"] == "hbv"


def test_screen_quiet_with_recent_negative_screening():
    f = facts(
        coded("igra", "negative", days_ago(30)),
        coded("hbsag", "negative", days_ago(30)),
        coded("anti_hbc", "negative", days_ago(30)),
    )
    assert run(f, "IFX-SCREEN") == ([], [])


def test_screen_not_assessed_when_observations_could_not_be_read():
    findings, nas = run(facts(unavailable=[Unavailable("observations", "timeout")]), "IFX-SCREEN")
    assert findings == [] and len(nas) == 2 and all(na.rule_id == "IFX-SCREEN" for na in nas)


def test_infliximab_rules_do_not_run_for_other_biologics():
    other = Order(
        drug="adalimumab",
        drug_class="biologic",
        ref="MedicationRequest/x",
        resource={},
        indication="ra",
    )
    a = assess(facts(order=other, medications=()), K)
    assert not [x for x in [*a.findings, *a.not_assessed] if x.rule_id.startswith("IFX-")]


# ------------------------------------------------------------------------------ through normalise


def test_low_trough_from_loinc_39803_2_and_a_chinese_drug_name():
    from cds_service.model import PatientRecord
    from cds_service.normalise import normalise, recognise_orders

    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-ifx",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "英夫利西单抗 100mg 注射剂"},
    }
    trough_obs = {
        "resourceType": "Observation",
        "id": "t1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "39803-2"}]},
        "effectiveDateTime": "2026-10-30",
        "valueQuantity": {
            "value": 0.7,
            "unit": "mg/L",
            "system": "http://unitsofmeasure.org",
            "code": "mg/L",
        },
    }
    ra = {
        "resourceType": "Condition",
        "id": "c1",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M06.9"}]},
    }
    record = PatientRecord(patient_id="p3", observations=[trough_obs], conditions=[ra])
    f = normalise(record, recognise_orders([draft], K), K, TODAY)
    assert [(o.drug, o.indication) for o in f.orders] == [("infliximab", "ra")]
    (low,), _ = run(f, "IFX-TDM-LOW")
    assert low.params["trough"] == 0.7 and low.evidence[0].ref == "Observation/t1"
    (mtx,), _ = run(f, "IFX-MTX")  # no methotrexate in the record
    assert mtx.order_ref == "MedicationRequest/draft-ifx"


def test_every_infliximab_rule_has_source_severity_configurable_and_phrase_params():
    for rule_id in (
        "IFX-TDM-LOW",
        "IFX-ADA",
        "IFX-TDM-NONE",
        "IFX-INTERVAL",
        "IFX-MTX",
        "IFX-SCREEN",
    ):
        params = K.rule(rule_id)
        assert params["source"] and params["severity"]
        assert all(key in params for key in params["configurable"])
        assert isinstance(params["phrase_params"], dict)


def test_institution_target_overrides_the_trough_threshold():
    k = load_knowledge(overrides={"IFX-TDM-LOW": {"low_ug_ml": 3.0}})
    a = assess(facts(trough(2.0, days_ago(20))), k, Settings(enabled_rules=("IFX-TDM-LOW",)))
    assert [f.params["trough"] for f in a.findings] == [2.0]


def test_a_trough_left_in_another_unit_is_never_read_as_ug_ml():
    wrong = Observed("ifx_trough", days_ago(20), "Observation/t-ng", 600.0, "ng/mL")
    findings, (na,) = run(facts(wrong), "IFX-TDM-LOW")
    assert findings == [] and na.concepts == ("ifx_trough",)
