"""`rheum-cds demo` runs without any server and prints readable cards in each language."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from typing import Any

import pytest

from cards.examples import example_record, examples, record_from_bundle
from cards.language import LANGUAGES
from cards.suggestions import dose_of
from tests.cards.fhir_check import assert_suggestions_valid_r4, validate_r4
from tests.cards.helpers import assert_valid_card

SEVERITY_WORDS = {"en": "Critical", "zh-TW": "嚴重", "zh-CN": "严重", "ja": "重大"}
TOFACITINIB = {
    "en": "tofacitinib",
    "zh-TW": "托法替尼",
    "zh-CN": "托法替布",
    "ja": "トファシチニブ",
}


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cds_service.cli", "demo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture(scope="module")
def demo_json() -> dict[str, list[dict[str, Any]]]:
    done = run_demo("--json", "--lang", "en")
    assert done.returncode == 0, done.stderr
    return {item["example"]: item["cards"] for item in json.loads(done.stdout)}


def test_every_example_is_valid_fhir_and_names_a_chart() -> None:
    names = [e.name for e in examples()]
    assert names[:5] == [
        "ra-elderly-smoker",
        "pmr-baricitinib",
        "ifx-low-trough",
        "pregnancy",
        "screening-missing",
    ]
    for example in examples():
        assert set(example.title) == set(LANGUAGES)
        for order in example.draft_orders:
            validate_r4(order)
        record = example_record(example, date(2026, 11, 23))
        assert record.patient is not None and record.observations
        assert all(
            o["subject"]["reference"] == f"Patient/{record.patient_id}"
            for o in example.draft_orders
        )


def test_record_from_bundle_sorts_resources_by_type() -> None:
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "x"}},
            {"resource": {"resourceType": "Observation", "id": "o"}},
            {"resource": {"resourceType": "Encounter", "id": "e"}},
            {"resource": {"resourceType": "Immunization", "id": "i"}},
        ],
    }
    record = record_from_bundle(bundle)
    assert record.patient_id == "x"
    assert [o["id"] for o in record.observations] == ["o"]
    assert [i["id"] for i in record.immunizations] == ["i"]


def test_demo_cards_are_valid_and_carry_the_facts(demo_json) -> None:
    for cards in demo_json.values():
        for card in cards:
            assert_valid_card(card)
        assert_suggestions_valid_r4(cards)
    smoker = demo_json["ra-elderly-smoker"]
    fired = {f["id"] for c in smoker for f in c["extension"]["org.rheum-cds"]["findings"]}
    assert {"JAKI-AGE-65", "JAKI-SMOKER", "JAKI-DOSE-MAX"} <= fired
    safety = smoker[0]
    assert safety["indicator"] == "critical" and "tofacitinib" in safety["summary"]
    updates = [
        a["resource"]
        for s in safety.get("suggestions", [])
        for a in s["actions"]
        if a["type"] == "update"
    ]
    assert updates and all(dose_of(r)[0] == 5 for r in updates)  # the labelled dose
    scores = [s for c in smoker for s in c["extension"]["org.rheum-cds"]["scores"]]
    assert any(s["id"].startswith("DAS28") and s["value"] is not None for s in scores)
    pregnancy = {
        f["id"] for c in demo_json["pregnancy"] for f in c["extension"]["org.rheum-cds"]["findings"]
    }
    assert "JAKI-PREGNANCY" in pregnancy
    ifx = {
        f["id"]
        for c in demo_json["ifx-low-trough"]
        for f in c["extension"]["org.rheum-cds"]["findings"]
    }
    assert "IFX-TDM-LOW" in ifx
    pmr = {
        f["id"]
        for c in demo_json["pmr-baricitinib"]
        for f in c["extension"]["org.rheum-cds"]["findings"]
    }
    assert "PMR-OFF-LABEL" in pmr
    missing = demo_json["screening-missing"]
    created = [
        a["resource"]["resourceType"]
        for c in missing
        for s in c.get("suggestions", [])
        for a in s["actions"]
        if a["type"] == "create"
    ]
    assert "ServiceRequest" in created and "MedicationRequest" in created
    for cards in demo_json.values():
        assert len(cards) <= 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_demo_prints_readable_cards(language: str) -> None:
    done = run_demo("--lang", language)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "ra-elderly-smoker" in out and "screening-missing" in out
    assert TOFACITINIB[language] in out
    assert f"[{SEVERITY_WORDS[language]}]" in out
    assert "**" not in out and "](" not in out  # markdown turned into plain text
    assert "{" not in out


def test_demo_one_patient_and_unknown_patient() -> None:
    done = run_demo("--patient", "pregnancy", "--lang", "ja")
    assert done.returncode == 0, done.stderr
    assert "pregnancy" in done.stdout and "ra-elderly-smoker" not in done.stdout
    assert "ウパダシチニブ" in done.stdout
    bad = run_demo("--patient", "nobody")
    assert bad.returncode == 2 and "nobody" in bad.stderr


def test_every_demo_chart_with_every_example_order_renders_valid_cards() -> None:
    """All synthetic charts x all example orders x four languages x three hooks."""
    import copy

    from cards.render import render_cards
    from cds_service.assess.engine import assess
    from cds_service.assess.registry import Settings
    from cds_service.commands.demo import demo_local_codes
    from cds_service.demo_data import demo_patients
    from cds_service.knowledge import load_knowledge
    from cds_service.normalise import normalise
    from cds_service.normalise.orders import recognise_orders
    from tests.cards.fhir_check import assert_cards_response_schema

    knowledge = load_knowledge(local_codes=demo_local_codes({}))
    today = date(2026, 11, 23)
    fired: set[str] = set()
    for patient in demo_patients(today):
        record = record_from_bundle(patient.bundle)
        for example in examples():
            drafts = copy.deepcopy(example.draft_orders)
            for draft in drafts:
                draft["subject"] = {"reference": f"Patient/{record.patient_id}"}
            for hook in ("order-sign", "order-select", "patient-view"):
                orders = [] if hook == "patient-view" else recognise_orders(drafts, knowledge)
                facts = normalise(record, orders, knowledge, today)
                assessment = assess(facts, knowledge, Settings(hook=hook))
                for language in LANGUAGES:
                    cards = render_cards(assessment, language, knowledge, "https://x/docs", hook)
                    for card in cards:
                        assert_valid_card(card)
                    assert_suggestions_valid_r4(cards)
                    assert_cards_response_schema(cards)
                    assert len(cards) <= (1 if hook == "patient-view" else 3 * len(orders))
                    fired |= {
                        f["id"] for c in cards for f in c["extension"]["org.rheum-cds"]["findings"]
                    }
    assert len(fired) >= 20, sorted(fired)  # the charts exercise most rules


def test_demo_patient_view() -> None:
    done = run_demo("--hook", "patient-view", "--patient", "pmr-baricitinib", "--json")
    assert done.returncode == 0, done.stderr
    [item] = json.loads(done.stdout)
    assert item["hook"] == "patient-view"
    [card] = item["cards"]
    assert_valid_card(card)
    assert "PMR-AS" in card["summary"] and "suggestions" not in card
