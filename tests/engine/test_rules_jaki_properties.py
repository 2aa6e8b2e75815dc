"""Properties of the JAKI rule set as a whole: registry vs knowledge, the quiet complete
record, phrase parameters, topical capping and per-region label figures."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jaki_support import (
    KNOWLEDGE,
    complete_record,
    obs,
    order,
    problem,
    run,
    unavailable,
    vaccine,
    with_obs,
    with_problems,
)

from cds_service.assess.registry import REGISTRY
from cds_service.knowledge.citations import LABEL_SECTIONS
from cds_service.model import SEVERITY_RANK, Finding, NotAssessed

SPEC = Path("/work/shared/clinical/SPEC.md")
JAKI_IDS = sorted(r for r in KNOWLEDGE.rules if r.startswith("JAKI-"))


def test_every_spec_jaki_rule_is_registered_with_knowledge():
    ids_in_spec = (
        set(re.findall(r"\| (JAKI-[A-Z0-9-]+) \|", SPEC.read_text())) if SPEC.exists() else set()
    )
    registered = {r for r in REGISTRY if r.startswith("JAKI-")}
    assert len(registered) == 31
    assert set(JAKI_IDS) == registered
    if ids_in_spec:
        assert ids_in_spec == registered


@pytest.mark.parametrize("rule_id", JAKI_IDS)
def test_registration_matches_applies_to_in_knowledge(rule_id):
    assert tuple(KNOWLEDGE.rule(rule_id)["applies_to"]) == REGISTRY[rule_id].applies_to


@pytest.mark.parametrize("rule_id", JAKI_IDS)
def test_complete_normal_record_gives_nothing(rule_id):
    assert run(rule_id, complete_record()) == []


# --------------------------------------------------------------------------- random records


DRUGS = [
    ("tofacitinib", "jaki"),
    ("baricitinib", "jaki"),
    ("upadacitinib", "jaki"),
    ("filgotinib", "jaki"),
    ("abrocitinib", "jaki"),
    ("ritlecitinib", "jaki"),
    ("peficitinib", "jaki"),
    ("ruxolitinib", "jaki"),
    ("delgocitinib", "jaki"),
    ("deucravacitinib", "tyk2"),
]
CONDITIONS = [
    "mi",
    "hypertension",
    "diabetes",
    "dvt",
    "pe",
    "thrombophilia",
    "malignancy",
    "nmsc",
    "lymphoma",
    "serious_infection",
    "tb_active",
    "tb_latent",
    "herpes_zoster",
    "hbv_chronic",
    "pregnancy",
    "diverticulitis",
    "rosacea",
    "cirrhosis",
    "hepatic_impairment_severe",
    "hepatic_impairment_moderate",
    "obesity",
    "current_smoker",
    "former_smoker",
]
LABS = {
    "anc": (0.0, 8000.0),
    "alc": (0.0, 4000.0),
    "hb": (5.0, 17.0),
    "platelets": (10000.0, 500000.0),
    "egfr": (5.0, 120.0),
    "crcl": (5.0, 140.0),
    "hdl": (20.0, 90.0),
    "bmi": (15.0, 45.0),
    "creatinine": (0.4, 6.0),
}
CODED = ["igra", "hbsag", "anti_hbc", "hcv_ab", "hcg", "hcv_rna", "hbv_dna"]
KNOWN_TESTS = {
    "igra",
    "tst",
    "hbv_serology",
    "hcv_ab",
    "cbc",
    "liver_panel",
    "creatinine",
    "lipid_panel",
    "pregnancy_test",
    "hbv_dna",
    "hcv_rna",
}


@st.composite
def records(draw):
    drug, cls = draw(st.sampled_from(DRUGS))
    topical = drug == "delgocitinib" or (drug == "ruxolitinib" and draw(st.booleans()))
    the_order = order(
        drug,
        cls,
        dose_mg=draw(st.sampled_from([None, 1.0, 2.0, 4.0, 5.0, 10.0, 15.0, 30.0, 100.0, 200.0])),
        per_day=draw(st.sampled_from([None, 1.0, 2.0])),
        indication=draw(
            st.sampled_from(
                [None, "ra", "atopic_dermatitis", "ulcerative_colitis", "pmr", "rosacea"]
            )
        ),
        route="topical" if topical else draw(st.sampled_from(["oral", None])),
        topical=topical,
    )
    facts = complete_record(
        the_order,
        age=draw(st.one_of(st.none(), st.integers(18, 95))),
        sex=draw(st.sampled_from(["female", "male", "unknown", None])),
        prednisone_mg_day=draw(st.one_of(st.none(), st.floats(0, 40))),
    )
    drop = tuple(draw(st.sets(st.sampled_from(sorted(facts.observations)))))
    added = [
        obs(c, draw(st.integers(0, 800)), draw(st.floats(*LABS[c])))
        for c in draw(st.sets(st.sampled_from(sorted(LABS))))
    ]
    added += [
        obs(
            c,
            draw(st.integers(0, 800)),
            interpretation=draw(st.sampled_from(["positive", "negative", "indeterminate"])),
        )
        for c in draw(st.sets(st.sampled_from(CODED)))
    ]
    facts = with_obs(facts, *added, drop=drop)
    conditions = [
        problem(
            c,
            active=draw(st.booleans()),
            onset_days_ago=draw(st.one_of(st.none(), st.integers(0, 4000))),
        )
        for c in draw(st.sets(st.sampled_from(CONDITIONS)))
    ]
    facts = with_problems(facts, *conditions)
    if draw(st.booleans()):
        facts = replace(
            facts,
            vaccinations=[
                vaccine(draw(st.sampled_from(["187", "121", "03"])), draw(st.integers(0, 400)))
            ],
        )
    gone = draw(
        st.sets(st.sampled_from(["observations", "conditions", "medications", "immunizations"]))
    )
    return replace(facts, unavailable=[unavailable(k) for k in sorted(gone)])


def _applicable(rule_id, the_order):
    applies = REGISTRY[rule_id].applies_to
    return the_order.drug_class in applies or the_order.drug in applies


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(), st.sampled_from(["EU", "US", "JP", "TW"]))
def test_every_result_is_well_formed(facts, region):
    the_order = facts.orders[0]
    for rule_id in JAKI_IDS:
        if not _applicable(rule_id, the_order):
            continue
        params = KNOWLEDGE.rule(rule_id)
        for item in run(rule_id, facts, region=region):
            assert item.rule_id == rule_id
            assert item.order_ref == the_order.ref and item.drug == the_order.drug
            suggestions = item.suggestions
            if isinstance(item, Finding):
                assert item.severity in SEVERITY_RANK
                assert item.category in {"safety", "screening"}
                assert item.source
                assert set(item.params) <= set(params["phrase_params"]), (rule_id, item.params)
                if the_order.topical or the_order.drug == "delgocitinib":
                    assert SEVERITY_RANK[item.severity] <= SEVERITY_RANK["info"]
                for e in item.evidence:
                    assert e.ref and e.label
            else:
                assert isinstance(item, NotAssessed) and item.missing
                assert "{" not in item.missing  # every template field filled
            for s in suggestions:
                assert s.kind in {"order-test", "dose-update", "vaccinate"}
                if s.kind == "order-test":
                    assert s.params["test"] in KNOWN_TESTS
                if s.kind == "dose-update":
                    assert s.params["dose_mg"] > 0 and s.params["per_day"] > 0


LABEL_RULES = LABEL_SECTIONS  # rule id -> labels.toml section it judges with


@settings(max_examples=150, deadline=None)
@given(records(), st.sampled_from(["EU", "US", "JP", "TW"]))
def test_only_checked_label_figures_judge(facts, region):
    """A rule reading an unchecked (or absent) region figure never judges: it says so."""
    the_order = facts.orders[0]
    labels = KNOWLEDGE.files["labels"].get(the_order.drug, {})
    for rule_id, section in LABEL_RULES.items():
        if not _applicable(rule_id, the_order):
            continue
        entry = labels.get(region, {}).get(section)
        configured = isinstance(entry, dict) and entry.get("checked") is True
        results = run(rule_id, facts, region=region)
        if not configured:
            assert not [r for r in results if isinstance(r, Finding)], (rule_id, region, results)
            regional = [r for r in results if "not configured for this region" in r.missing]
            assert all(r.missing.endswith(f"({region})") for r in regional)


def test_every_unchecked_label_entry_names_what_to_verify():
    for drug, regions in KNOWLEDGE.files["labels"].items():
        for region_id, table in regions.items():
            if region_id == "ddi":
                for entry in table:
                    for key, value in entry.items():
                        if key != "classes":
                            assert isinstance(value.get("checked"), bool) and value.get("check")
                continue
            if table.get("authorised") is False:
                assert table["note"] and not {"dose", "renal", "hepatic", "labs"} & set(table)
                continue
            assert table["label"] in {"SmPC", "USPI", "PMDA", "TFDA"} and table["source"]
            for section in ("dose", "renal", "hepatic", "labs"):
                if section in table:
                    assert isinstance(table[section]["checked"], bool), (drug, region_id, section)
                    assert table[section]["check"]
                    if not table[section]["checked"]:
                        assert "*verify*" in table[section]["check"]


def test_test_suggestions_limited_to_tests_the_knowledge_defines():
    facts = with_obs(complete_record(), obs("hcv_ab", 3, interpretation="positive"))
    with_rna = run("JAKI-HCV", facts)
    assert with_rna[0].suggestions[0].params == {"test": "hcv_rna"}
    tests = {k: v for k, v in KNOWLEDGE.files["tests"].items() if k != "hcv_rna"}
    knowledge = replace(KNOWLEDGE, files={**KNOWLEDGE.files, "tests": tests})
    without = run("JAKI-HCV", facts, knowledge=knowledge)
    assert (
        without[0].suggestions == [] and without[0].params["status"] == "antibody_positive_no_rna"
    )
