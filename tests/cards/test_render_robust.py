"""Whatever the engine hands over, rendering gives valid cards and never an unfilled text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards.catalogue import catalogue
from cards.language import LANGUAGES
from cards.render import render_cards
from cds_service.model import Assessment, Evidence, Finding, NotAssessed, Score, Suggestion
from tests.cards import samples
from tests.cards.fhir_check import assert_cards_response_schema, assert_suggestions_valid_r4
from tests.cards.helpers import assert_valid_card

RULES = sorted(catalogue("en").data["rule"]) + ["NOT-A-RULE"]
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10_000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=20),
    st.dates(),
    st.lists(st.sampled_from(["dvt", "pe", "tacrolimus", "x"]), max_size=3),
    st.tuples(),
    st.frozensets(st.one_of(st.integers(0, 3), st.sampled_from(["dvt", "pe"])), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
params = st.dictionaries(
    st.sampled_from(
        [
            "age",
            "status",
            "value",
            "unit",
            "date",
            "threshold",
            "risk_factors",
            "dose_mg",
            "per_day",
            "region",
            "trough",
            "topical",
            "original_severity",
        ]
    ),
    values,
    max_size=5,
)
evidence = st.builds(
    Evidence,
    ref=st.just("Observation/1"),
    label=st.sampled_from(["egfr", "age", "condition:dvt", "weird-label"]),
    value=st.one_of(st.none(), st.integers(0, 500), st.text(max_size=10)),
    unit=st.sampled_from([None, "mg/L", "mL/min/{1.73_m2}", "odd"]),
    when=st.one_of(st.none(), st.dates()),
)
suggestion = st.sampled_from(
    [
        Suggestion("order-test", {"test": "igra"}),
        Suggestion("order-test", {"test": "unknown-test"}),
        Suggestion("vaccinate", {"cvx": "187"}),
        Suggestion("vaccinate", {"cvx": "121"}),  # live vaccine: never proposed
        Suggestion("dose-update", {"dose_mg": 5.0, "per_day": 2.0}),
        Suggestion("dose-update", {"dose_mg": "five"}),
        Suggestion("dose-update", {"dose_mg": 5, "per_day": "twice"}),
        Suggestion("dose-update", {"dose_mg": 0, "per_day": 1.0}),
        Suggestion("stop-order", {}),
        Suggestion("unknown-kind", {}),
    ]
)
finding = st.builds(
    Finding,
    rule_id=st.sampled_from(RULES),
    severity=st.sampled_from(["info", "warning", "critical"]),
    category=st.sampled_from(["safety", "activity", "screening", "other"]),
    order_ref=st.sampled_from([samples.TOFA.ref, samples.IFX.ref, None, "MedicationRequest/gone"]),
    drug=st.sampled_from(["tofacitinib", "infliximab", None]),
    evidence=st.lists(evidence, max_size=3),
    source=st.text(max_size=30),
    params=params,
    suggestions=st.lists(suggestion, max_size=2),
)
not_assessed = st.builds(
    NotAssessed,
    rule_id=st.sampled_from(RULES),
    missing=st.sampled_from(
        [
            "label rule not configured for this region (TW)",
            "no eGFR",
            "",
            "something else went missing",
        ]
    ),
    category=st.sampled_from(["screening", "safety", "activity"]),
    order_ref=st.sampled_from([samples.TOFA.ref, None]),
    since=st.one_of(st.none(), st.dates()),
    concepts=st.lists(st.sampled_from(["egfr", "igra", "unknown"]), max_size=2).map(tuple),
)
score = st.builds(
    Score,
    id=st.sampled_from(["DAS28-ESR", "CDAI", "EULAR-RESPONSE", "PMR-FLARE", "NEW-SCORE"]),
    value=st.one_of(st.none(), st.floats(0, 100, allow_nan=False), st.just(float("nan"))),
    category=st.sampled_from([None, "high", "low", "yes", "odd"]),
    when=st.one_of(st.none(), st.dates(min_value=date(2020, 1, 1))),
    inputs=st.dictionaries(
        st.sampled_from(["tjc28", "crp", "crp_mg_dl", "new_input"]), values, max_size=3
    ),
    stale=st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    findings=st.lists(finding, max_size=6),
    nas=st.lists(not_assessed, max_size=3),
    scores=st.lists(score, max_size=4),
    language=st.sampled_from(LANGUAGES),
    hook=st.sampled_from(["order-sign", "order-select", "patient-view"]),
    two=st.booleans(),
)
def test_any_assessment_renders_valid_cards(findings, nas, scores, language, hook, two, knowledge):
    orders = [samples.TOFA, samples.IFX] if two else [samples.TOFA]
    assessment = Assessment(orders=orders, findings=findings, not_assessed=nas, scores=scores)
    cards = render_cards(assessment, language, knowledge, "https://docs.example", hook)
    for card in cards:
        assert_valid_card(card)
    assert_suggestions_valid_r4(cards)
    assert_cards_response_schema(cards)
    json.dumps(cards, allow_nan=False)
    assert len(cards) <= (1 if hook == "patient-view" else 3 * len(orders))
    cvx = [
        c["code"]
        for card in cards
        for s in card.get("suggestions", [])
        for a in s["actions"]
        for c in a.get("resource", {}).get("medicationCodeableConcept", {}).get("coding", [])
    ]
    assert "121" not in cvx


def test_cards_are_strict_json(knowledge) -> None:
    """No NaN or infinity reaches the response (JSON has neither)."""
    import json

    broken = [
        replace(samples.DAS[0], value=float("nan")),
        replace(samples.DAS[1], value=float("inf")),
    ]
    assessment = replace(samples.elderly_smoker(), scores=broken)
    for hook in ("order-sign", "patient-view"):
        cards = render_cards(assessment, "en", knowledge, "https://docs.example", hook)
        json.dumps(cards, allow_nan=False)
