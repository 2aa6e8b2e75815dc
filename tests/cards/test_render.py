"""Rendering: each card kind in each language carries the facts (drug, values, rule ids)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from cards.catalogue import catalogue
from cards.language import LANGUAGES
from cards.render import render_cards
from cards.suggestions import dose_of
from cds_service.model import (
    FHIR_SERVER_NOT_ALLOWED,
    Assessment,
    Finding,
    NotAssessed,
    Score,
    Suggestion,
    Unavailable,
)
from tests.cards import samples
from tests.cards.fhir_check import (
    assert_cards_response_schema,
    assert_suggestions_valid_r4,
    validate_r4,
)
from tests.cards.helpers import assert_valid_card

DOCS = "https://docs.example.org/rheum-cds/"
LOCAL_DRUG = {"en": "tofacitinib", "zh-TW": "托法替尼", "zh-CN": "托法替布", "ja": "トファシチニブ"}
NOT_RISK_FREE = {
    "en": "This is not a finding of no risk",
    "zh-TW": "這不代表沒有風險",
    "zh-CN": "这不代表没有风险",
    "ja": "リスクがないという意味ではありません",
}


def render(assessment: Assessment, language: str, knowledge, hook: str = "order-sign"):
    cards = render_cards(assessment, language, knowledge, DOCS, hook)
    for card in cards:
        assert_valid_card(card)
    assert_suggestions_valid_r4(cards)
    assert_cards_response_schema(cards)
    return cards


def ext(card: dict[str, Any]) -> dict[str, Any]:
    return card["extension"]["org.rheum-cds"]


def ids(card: dict[str, Any]) -> list[str]:
    return [f["id"] for f in ext(card)["findings"]]


def kind(cards: list[dict[str, Any]], rule_id: str) -> dict[str, Any]:
    """The card whose findings, scores or not-assessed list name `rule_id`."""
    for card in cards:
        e = ext(card)
        named = [x["id"] for x in e["findings"] + e["scores"] + e["notAssessed"]]
        if rule_id in named:
            return card
    raise AssertionError(f"no card names {rule_id}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_safety_card(language: str, knowledge) -> None:
    cards = render(samples.elderly_smoker(), language, knowledge)
    assert len(cards) == 3  # safety, activity, screening
    card = cards[0]
    assert ids(card) == ["JAKI-DOSE-MAX", "JAKI-AGE-65", "JAKI-SMOKER"]  # by severity
    assert card["indicator"] == "critical"
    assert LOCAL_DRUG[language] in card["summary"]
    assert catalogue(language).rule_short("JAKI-DOSE-MAX") in card["summary"]
    # one link: the lead rule's page, which lists the pages of the card's other findings
    [link] = card["links"]
    page = f"{DOCS}rules/JAKI-DOSE-MAX?also=JAKI-AGE-65,JAKI-SMOKER"
    assert link["url"] == card["source"]["url"] == page
    # no inline link repeating it (sources link to their publications only)
    assert DOCS not in card["detail"] and "JAKI-" not in card["detail"]
    assert "(https://doi.org/10.1056/NEJMoa2109927)" in card["detail"]
    # the detail opens with the action, after the title
    opening = [line for line in card["detail"].split("\n") if line.strip()][1]
    assert opening.startswith("**" + catalogue(language).data["rule"]["JAKI-DOSE-MAX"]["text"])
    assert "72" in card["detail"]  # the age, from the finding's params and evidence
    assert "EMA (PRAC). Janus kinase inhibitors (JAKi)" in card["detail"]  # the sources, once
    assert card["detail"].count("EMA/838958/2022") == 1
    assert "2026-05-01" in card["detail"]  # evidence date
    assert ext(card)["language"] == language
    reasons = card["overrideReasons"]
    assert {r["code"] for r in reasons} >= {"no-alternative", "specialist-reviewed"}
    assert all(r["display"] == catalogue(language).get("override", r["code"]) for r in reasons)


@pytest.mark.parametrize("language", LANGUAGES)
def test_dose_suggestion_updates_the_draft_to_the_labelled_dose(language: str, knowledge) -> None:
    card = render(samples.elderly_smoker(), language, knowledge)[0]
    [suggestion] = card["suggestions"]
    [action] = suggestion["actions"]
    assert action["type"] == "update"
    resource = action["resource"]
    model = validate_r4(resource)
    assert model.id == "draft-tofa"  # the draft itself, updated
    dose, repeat = dose_of(resource)
    assert dose == 5
    assert repeat == {"frequency": 2, "period": 1, "periodUnit": "d"}
    assert resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["code"] == "mg"
    assert resource["medicationCodeableConcept"] == samples.TOFA_DRAFT["medicationCodeableConcept"]
    assert resource["dosageInstruction"][0]["route"] == {"text": "oral"}  # rest kept
    assert (
        samples.TOFA_DRAFT["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 10
    )
    assert "5 mg" in suggestion["label"] and LOCAL_DRUG[language] in suggestion["label"]


def test_alternative_doses_exclude_each_other(knowledge) -> None:
    renal = Finding(
        "JAKI-RENAL-DOSE",
        "warning",
        "safety",
        samples.TOFA.ref,
        "tofacitinib",
        source="Xeljanz USPI",
        params={"dose_mg": 5, "per_day": 1},
        suggestions=[Suggestion("dose-update", {"dose_mg": 5, "per_day": 1})],
    )
    assessment = replace(samples.elderly_smoker(), findings=[*samples.SAFETY, renal])
    card = render(assessment, "en", knowledge)[0]
    assert card["selectionBehavior"] == "at-most-one"
    doses = sorted(
        (
            dose_of(s["actions"][0]["resource"])[0],
            s["actions"][0]["resource"]["dosageInstruction"][0]["timing"]["repeat"]["frequency"],
        )
        for s in card["suggestions"]
    )
    assert doses == [(5, 1), (5, 2)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_activity_card(language: str, knowledge) -> None:
    cards = render(samples.elderly_smoker(), language, knowledge)
    card = kind(cards, "DAS28-ESR")
    cat = catalogue(language)
    assert card["indicator"] == "info"
    assert "5.42" in card["summary"] and LOCAL_DRUG[language] in card["summary"]
    assert cat.get("category", "high") in card["summary"]
    assert "2026-10-02" in card["summary"]
    # inputs, trend of the last three, second score
    assert "38 mm/h" in card["detail"]
    assert "5.42 ← 4.9 (2026-07-01) ← 3.1 (2026-04-01)" in card["detail"]
    assert card["detail"].count("38 mm/h") == 1  # each input once, in one unit
    assert "CDAI 31" in card["detail"]
    scores = ext(card)["scores"]
    assert [s["id"] for s in scores].count("DAS28-ESR") == 3
    assert scores[0] == {
        "id": "DAS28-ESR",
        "value": 5.42,
        "category": "high",
        "date": "2026-10-02",
        "inputs": {"tjc28": 8, "sjc28": 6, "esr": 38, "ptga_mm": 60},
    }
    assert ids(card) == ["RA-ACTIVITY"]
    assert "suggestions" not in card


@pytest.mark.parametrize("language", LANGUAGES)
def test_stale_and_missing_scores_are_stated(language: str, knowledge) -> None:
    cat = catalogue(language)
    stale = [replace(samples.DAS[0], stale=True)]
    card = render(replace(samples.elderly_smoker(), scores=stale), language, knowledge)[1]
    assert cat.get("card", "stale") in card["detail"]
    assert cat.get("card", "stale_short") in card["summary"]
    none = replace(samples.elderly_smoker(), scores=[])
    card = render(none, language, knowledge)[1]
    assert cat.get("card", "no_scores") in card["detail"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_screening_card(language: str, knowledge) -> None:
    cards = render(samples.elderly_smoker(), language, knowledge)
    card = cards[2]
    cat = catalogue(language)
    assert ids(card) == ["JAKI-TB-SCREEN", "JAKI-ZOSTER"]
    assert [n["id"] for n in ext(card)["notAssessed"]] == ["JAKI-HBV", "JAKI-RENAL-DOSE"]
    assert card["indicator"] == "warning"
    assert LOCAL_DRUG[language] in card["summary"]
    # not assessed reads as "no X on file since D", never as no risk
    assert "2026-08-25" in card["detail"]
    assert cat.label("egfr") in card["detail"]
    assert card["detail"].count(NOT_RISK_FREE[language]) == 2
    resources = [a["resource"] for s in card["suggestions"] for a in s["actions"]]
    vaccine = [r for r in resources if r["resourceType"] == "MedicationRequest"]
    assert len(vaccine) == 1
    assert vaccine[0]["intent"] == "proposal"
    coding = vaccine[0]["medicationCodeableConcept"]["coding"][0]
    assert (coding["system"], coding["code"]) == ("http://hl7.org/fhir/sid/cvx", "187")
    assert vaccine[0]["subject"] == {"reference": "Patient/p1"}
    tests = [r for r in resources if r["resourceType"] == "ServiceRequest"]
    assert tests, "a ServiceRequest per missing test"
    codings = [c for r in tests for c in r["code"].get("coding", [])]
    assert codings and all(c["system"] == "http://loinc.org" for c in codings)
    assert all(r["code"]["text"] and r["status"] == "draft" for r in tests)
    assert card["selectionBehavior"] == "any"


def test_a_patient_reference_is_not_kept_for_the_next_call(knowledge) -> None:
    """The suggestions of one call carry its patient; the next call (another patient) keeps
    nothing of the first: no reference of an earlier patient stays in the process, and each
    call's proposals carry their own patient."""
    from cards import suggestions

    first = render(samples.elderly_smoker(), "en", knowledge)
    assert "Patient/p1" in json.dumps(first)
    other = samples.elderly_smoker()
    orders = [
        replace(o, resource={**o.resource, "subject": {"reference": "Patient/p2"}})
        for o in other.orders
    ]
    second = render(replace(other, orders=orders), "en", knowledge)
    subjects = {
        json.dumps(a["resource"]["subject"])
        for card in second
        for s in card.get("suggestions", [])
        for a in s["actions"]
        if "subject" in a.get("resource", {})
    }
    assert subjects == {'{"reference": "Patient/p2"}'}
    assert not any("p1" in text for text in suggestions._REFERENCES)


def test_missing_tests_are_ordered_with_loinc_codes(knowledge) -> None:
    """IGRA, HBV serology and creatinine each become ServiceRequests coded as tests.toml says."""
    card = render(samples.elderly_smoker(), "en", knowledge)[2]
    by_label = {s["label"]: s for s in card["suggestions"]}
    expected = {
        "igra": "Order IGRA (interferon-gamma release assay)",
        "hbv_serology": "Order hepatitis B serology (HBsAg, anti-HBc, anti-HBs)",
        "creatinine": "Order serum creatinine and eGFR",
    }
    for test_id, label in expected.items():
        codes = [c["code"] for c in knowledge.files["tests"][test_id]["codes"]]
        actions = by_label[label]["actions"]
        assert [a["resource"]["code"]["coding"][0]["code"] for a in actions] == codes
        assert all(a["type"] == "create" for a in actions)


@pytest.mark.parametrize("language", LANGUAGES)
def test_one_safety_card_per_drug_and_nothing_ordered_twice(language: str, knowledge) -> None:
    cards = render(samples.two_drugs(), language, knowledge)
    safety = [
        c
        for c in cards
        if c["extension"]["org.rheum-cds"]["findings"]
        and ids(c)[0] in ("JAKI-DOSE-MAX", "IFX-TDM-LOW")
    ]
    assert len(safety) == 2
    assert safety[0]["indicator"] == "critical"  # the more severe card first
    assert catalogue(language).drug("infliximab") in safety[1]["summary"]
    screening = cards[-1]
    labels = [s["label"] for s in screening["suggestions"]]
    assert len(labels) == len(set(labels))
    igra = [s for s in screening["suggestions"] if "IGRA" in s["label"]]
    assert len(igra) == 1
    assert len(cards) <= 3 * len(samples.two_drugs().orders)
    # a test tests.toml lists without a confirmed LOINC code is ordered by its text
    [antibody] = [
        s
        for s in screening["suggestions"]
        if s["label"].endswith(catalogue(language).get("test", "ifx_antibody"))
        or catalogue(language).get("test", "ifx_antibody") in s["label"]
    ]
    [action] = antibody["actions"]
    assert action["resource"]["code"]["text"] == catalogue(language).get("test", "ifx_antibody")
    expected = [c["code"] for c in knowledge.files["tests"]["ifx_antibody"]["codes"]]
    assert [c["code"] for c in action["resource"]["code"].get("coding", [])] == expected
    assert action["resource"]["subject"] == {"reference": "Patient/p1"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_unavailable_data_is_stated(language: str, knowledge) -> None:
    """Data the service could not retrieve is one info line, never a warning card."""
    [card] = render(samples.data_unavailable(), language, knowledge)
    assert card["indicator"] == "info" and "overrideReasons" not in card
    assert "timeout" in card["detail"]
    assert catalogue(language).data["data"]["observations"] in card["detail"]
    with_finding = replace(
        samples.elderly_smoker(), unavailable=samples.data_unavailable().unavailable
    )
    cards = render(with_finding, language, knowledge)
    assert len(cards) == 3  # no card of its own when there are others
    said = [c for c in cards if "timeout" in c["detail"]]
    assert said == [cards[-1]] and said[0]["detail"].rstrip().endswith("*")


@pytest.mark.parametrize("language", LANGUAGES)
def test_fhir_server_not_allowed_is_information_in_the_card_language(
    language: str, knowledge
) -> None:
    """Data missing because the service may not contact the client's FHIR server is the
    service's own setting: an info line in the card's language, never a clinical warning."""
    reason = "prefetch failed; " + FHIR_SERVER_NOT_ALLOWED
    offline = NotAssessed(
        "JAKI-TB-SCREEN",
        f"laboratory results could not be retrieved: observations unavailable ({reason})",
        order_ref=samples.TOFA.ref,
        drug="tofacitinib",
    )
    assessment = Assessment(
        orders=[samples.TOFA],
        not_assessed=[offline],
        unavailable=[Unavailable("observations", reason)],
    )
    [card] = render(assessment, language, knowledge)
    words = catalogue(language).data["fetch_reason"]
    assert card["indicator"] == "info"
    assert words["fhir_server_not_allowed"] in card["detail"]
    assert words["prefetch_failed"] in card["detail"]
    if language != "en":
        assert FHIR_SERVER_NOT_ALLOWED not in card["detail"]
        assert "prefetch failed" not in card["detail"]
    # the rule's own line says it in the card language too (without the gather wording)
    alone = replace(assessment, unavailable=[])
    detail = render(alone, language, knowledge)[0]["detail"]
    assert words["fhir_server_not_allowed"] in detail
    assert "observations unavailable" not in detail


@pytest.mark.parametrize("language", LANGUAGES)
def test_patient_view_summary(language: str, knowledge) -> None:
    [card] = render(samples.patient_view(), language, knowledge, hook="patient-view")
    assert "5.42" in card["summary"]
    assert "suggestions" not in card
    assert ext(card)["scores"][0]["id"] == "DAS28-ESR"


def test_order_select_is_shorter_and_no_orders_no_cards(knowledge) -> None:
    cards = render(samples.elderly_smoker(), "en", knowledge, hook="order-select")
    assert [ids(c)[0] for c in cards] == ["JAKI-DOSE-MAX", "JAKI-TB-SCREEN"]
    assert render(replace(samples.elderly_smoker(), orders=[]), "en", knowledge) == []
    assert render(Assessment(orders=[]), "en", knowledge, hook="patient-view") == []


def test_long_summaries_are_cut_safely(knowledge) -> None:
    long_order = replace(samples.TOFA, drug="an-unlisted-drug-" + "x" * 200)
    findings = [replace(f, order_ref=long_order.ref) for f in samples.SAFETY]
    assessment = Assessment(orders=[long_order], findings=findings)
    for language in LANGUAGES:
        for card in render(assessment, language, knowledge):
            assert card["summary"].endswith("…")


def test_topical_order_says_why_severity_is_lower(knowledge) -> None:
    topical = replace(
        samples.SAFETY[1],
        severity="info",
        params={"topical": True, "original_severity": "critical"},
    )
    card = render(Assessment(orders=[samples.TOFA], findings=[topical]), "ja", knowledge)[0]
    assert card["indicator"] == "info"
    assert "外用のため重症度を下げて表示" in card["detail"]
    assert "重大" in card["detail"]


def test_a_phrase_missing_its_parameter_falls_back_to_the_plain_text(knowledge) -> None:
    bare = replace(samples.SAFETY[0], params={})  # JAKI-AGE-65 without "age"
    card = render(Assessment(orders=[samples.TOFA], findings=[bare]), "en", knowledge)[0]
    assert "Use only if no suitable alternative" in card["detail"]
    assert "{age}" not in card["detail"]
    with_age = render(
        Assessment(orders=[samples.TOFA], findings=[samples.SAFETY[0]]), "en", knowledge
    )[0]
    assert "Age 72." in with_age["detail"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_what_the_service_could_not_check_is_one_info_line(language: str, knowledge) -> None:
    """A rule off for the region is not on the card; data not retrieved or not judged is one
    info line at the end that never raises the card; missing screening stays a warning."""
    from cds_service.model import NotAssessed

    region = NotAssessed(
        "JAKI-RENAL-DOSE",
        "label rule not configured for this region (JP)",
        category="safety",
        order_ref=samples.TOFA.ref,
        drug="tofacitinib",
    )
    offline = NotAssessed(
        "JAKI-HBV",
        "laboratory results could not be retrieved: timeout",
        order_ref=samples.TOFA.ref,
        drug="tofacitinib",
    )
    implausible = NotAssessed(
        "JAKI-LAB-ANC",
        "latest result 250000 /uL (2026-11-01) is outside the plausible range: not judged",
        order_ref=samples.TOFA.ref,
        drug="tofacitinib",
        concepts=("anc",),
    )
    no_igra = NotAssessed(
        "JAKI-TB-SCREEN",
        "no IGRA or TST on file",
        order_ref=samples.TOFA.ref,
        drug="tofacitinib",
        concepts=("igra", "tst"),
    )
    cat = catalogue(language)
    cases = cat.data["not_assessed_case"]
    limits_only = Assessment(orders=[samples.TOFA], not_assessed=[region, offline, implausible])
    [card] = render(limits_only, language, knowledge)
    assert card["indicator"] == "info" and "overrideReasons" not in card
    text = json.dumps(card, ensure_ascii=False)
    assert "not configured" not in text and "(JP)" not in text
    assert "JAKI-RENAL-DOSE" not in text  # an off rule: only on its rule page
    lines = [line for line in card["detail"].split("\n") if line.strip()]
    [info] = [line for line in lines if cases["implausible"].format(original="250000 /uL") in line]
    assert info == lines[-1]
    assert cases["observations_unavailable"].format(reason="timeout") in info
    assert cat.rule_short("JAKI-HBV") in info and cat.rule_short("JAKI-LAB-ANC") in info

    with_igra = replace(limits_only, not_assessed=[region, offline, implausible, no_igra])
    [card] = render(with_igra, language, knowledge)
    assert card["indicator"] == "warning"  # the clinician can act on a missing IGRA
    assert cat.rule_short("JAKI-TB-SCREEN") in card["summary"]
    assert cat.rule_short("JAKI-HBV") not in card["summary"]
    lines = [line for line in card["detail"].split("\n") if line.strip()]
    assert "timeout" in lines[-1] and all("timeout" not in line for line in lines[:-1])
    assert ext(card)["notAssessed"][0]["id"] == "JAKI-TB-SCREEN"


def test_within_a_severity_the_finding_that_changes_the_order_leads(knowledge) -> None:
    renal = Finding(
        "JAKI-RENAL-DOSE",
        "warning",
        "safety",
        samples.TOFA.ref,
        "tofacitinib",
        source="Xeljanz USPI",
        suggestions=[Suggestion("dose-update", {"dose_mg": 5, "per_day": 1})],
    )
    findings = [samples.SAFETY[0], renal]  # age first, as the engine may list them
    card = render(Assessment(orders=[samples.TOFA], findings=findings), "en", knowledge)[0]
    assert ids(card) == ["JAKI-RENAL-DOSE", "JAKI-AGE-65"]
    assert "renal function" in card["summary"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_score_not_computed_says_why(language: str, knowledge) -> None:
    rejected = Score(
        "DAS28-ESR",
        None,
        None,
        samples.DAS[0].when,
        inputs={"tjc28": 29},
        problem="tjc28 must be <= 28",
    )
    assessment = replace(samples.elderly_smoker(), scores=[rejected])
    card = kind(render(assessment, language, knowledge), "DAS28-ESR")
    cat = catalogue(language)
    why = cat.fill("card", "out_of_range", component=cat.label("tjc28"), limit="≤ 28")
    assert cat.fill("card", "not_computed", problem=why) in card["detail"]
    assert cat.get("card", "activity_summary_none").split("{drug}")[-1] in card["summary"]


def test_a_raw_language_tag_is_matched(knowledge) -> None:
    cards = render_cards(samples.elderly_smoker(), "zh-Hant-HK", knowledge, DOCS, "order-sign")
    assert ext(cards[0])["language"] == "zh-TW" and "托法替尼" in cards[0]["summary"]
    cards = render_cards(samples.elderly_smoker(), "fr", knowledge, DOCS, "order-sign")
    assert ext(cards[0])["language"] == "en"


@pytest.mark.parametrize("language", LANGUAGES)
def test_score_inputs_are_shown_once_in_the_unit_the_chart_sent(language: str, knowledge) -> None:
    """CRP sent as 3.1 mg/dL: the card says 3.1 mg/dL, not 31 mg/L, and not both."""
    from cds_service.assess.activity import _evidence
    from cds_service.model import Evidence, Observed

    crp = Observed("crp", date(2026, 10, 2), "Observation/crp1", 31.0, "mg/L", original="3.1 mg/dL")
    assert _evidence(crp).sent == "3.1 mg/dL"
    same = Observed("crp", date(2026, 10, 2), "Observation/crp2", 31.0, "mg/L", original="31 mg/L")
    assert _evidence(same).sent is None
    score = Score(
        "DAS28-CRP",
        5.1,
        "high",
        date(2026, 10, 2),
        inputs={"tjc28": 8, "crp": 31.0, "crp_mg_dl": 3.1},
        evidence=[_evidence(crp), Evidence("Observation/t", "tjc28", 8, None, date(2026, 10, 2))],
    )
    assessment = replace(samples.elderly_smoker(), scores=[score])
    card = kind(render(assessment, language, knowledge), "DAS28-CRP")
    unit = catalogue(language).unit("mg/dL")
    assert f"3.1 {unit}" in card["detail"]
    assert "31 mg/L" not in card["detail"] and "(mg/dL)" not in card["detail"]
    assert ext(card)["scores"][0]["inputs"]["crp"] == 31.0  # the extension keeps mg/L
