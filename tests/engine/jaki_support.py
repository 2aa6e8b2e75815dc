"""Builders for the JAKI rule tests: Facts made directly (the rules are pure functions).

`complete_record()` is a patient with every screening done and normal results: no JAKI rule
finds anything or misses anything on it (test_rules_jaki_properties checks that), so each rule
test changes one thing and watches the rule react.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import cds_service.knowledge
from cds_service.assess import rules as _rules  # noqa: F401  (registers every rule)
from cds_service.assess.registry import REGISTRY, RuleContext, Settings
from cds_service.knowledge import Knowledge
from cds_service.knowledge.loader import resolve_sources
from cds_service.model import (
    Facts,
    Finding,
    Medication,
    NotAssessed,
    Observed,
    Order,
    Problem,
    Unavailable,
    Vaccination,
)

TODAY = date(2026, 11, 23)
KNOWLEDGE_DIR = Path(cds_service.knowledge.__file__).parent


def jaki_knowledge() -> Knowledge:
    """The knowledge the JAKI rules read (concepts, rules_jaki, labels), straight from the
    shipped files, so these unit tests do not depend on the other knowledge files; a test in
    test_rules_jaki_properties checks that load_knowledge() carries the same tables."""
    files = {}
    for stem in ("concepts", "rules_jaki", "labels", "tests", "sources"):
        path = KNOWLEDGE_DIR / f"{stem}.toml"
        if path.exists():
            files[stem] = tomllib.loads(path.read_text(encoding="utf-8"))
    rules = dict(files["rules_jaki"])
    resolve_sources(files, rules)  # citations by id, as load_knowledge() resolves them
    return Knowledge(concepts=files["concepts"], files=files, rules=rules)


KNOWLEDGE = jaki_knowledge()
_counter = iter(range(1, 1_000_000))


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def order(
    drug: str = "baricitinib",
    drug_class: str = "jaki",
    dose_mg: float | None = 4.0,
    per_day: float | None = 1.0,
    indication: str | None = "ra",
    **kw: Any,
) -> Order:
    return Order(
        drug=drug,
        drug_class=drug_class,
        ref=kw.pop("ref", "MedicationRequest/draft-1"),
        resource={"resourceType": "MedicationRequest", "id": "draft-1"},
        dose_mg=dose_mg,
        per_day=per_day,
        indication=indication,
        route=kw.pop("route", "oral"),
        **kw,
    )


def obs(
    concept: str,
    days_ago: int = 10,
    value: float | None = None,
    interpretation: str | None = None,
    unit: str | None = None,
    comparator: str | None = None,
    comparable: bool = True,
) -> Observed:
    canonical = KNOWLEDGE.concepts["observation"][concept]["unit"]
    return Observed(
        concept=concept,
        when=ago(days_ago),
        ref=f"Observation/{concept}-{next(_counter)}",
        value=value,
        unit=unit or (canonical if value is not None and canonical != "coded" else None),
        interpretation=interpretation,
        original=f"{comparator or ''}{value:g}" if value is not None else interpretation,
        comparator=comparator,
        comparable=comparable,
    )


def problem(
    *concepts: str,
    active: bool = True,
    onset_days_ago: int | None = None,
    abated_days_ago: int | None = None,
) -> Problem:
    return Problem(
        concepts=frozenset(concepts),
        ref=f"Condition/{concepts[0]}-{next(_counter)}",
        active=active,
        onset=ago(onset_days_ago) if onset_days_ago is not None else None,
        abatement=ago(abated_days_ago) if abated_days_ago is not None else None,
        display=concepts[0],
    )


def med(drug: str, *classes: str, status: str = "active") -> Medication:
    return Medication(
        drug=drug,
        classes=frozenset(classes),
        ref=f"MedicationRequest/{drug}-{next(_counter)}",
        status=status,
        display=drug,
    )


def vaccine(cvx: str, days_ago: int = 200, live: bool = False) -> Vaccination:
    return Vaccination(
        cvx=cvx, when=ago(days_ago), ref=f"Immunization/{cvx}-{next(_counter)}", live=live
    )


def unavailable(key: str) -> Unavailable:
    return Unavailable(key=key, reason="timeout")


NORMAL_OBSERVATIONS: list[Observed] = [
    obs("smoking_status", 30, interpretation="never"),
    obs("hdl", 30, 60.0),
    obs("ldl", 30, 100.0),
    obs("total_cholesterol", 30, 180.0),
    obs("triglycerides", 30, 120.0),
    obs("bmi", 30, 24.0),
    obs("anc", 10, 3500.0),
    obs("alc", 10, 1800.0),
    obs("hb", 10, 13.2),
    obs("platelets", 10, 250000.0),
    obs("wbc", 10, 6.5),
    obs("alt", 10, 20.0),
    obs("ast", 10, 22.0),
    obs("creatinine", 10, 0.8),
    obs("egfr", 10, 95.0),
    obs("crcl", 10, 100.0),
    obs("body_weight", 10, 65.0),
    obs("igra", 60, interpretation="negative"),
    obs("hbsag", 60, interpretation="negative"),
    obs("anti_hbc", 60, interpretation="negative"),
    obs("hcv_ab", 60, interpretation="negative"),
    obs("hcg", 5, interpretation="negative"),
]


def complete_record(the_order: Order | None = None, **changes: Any) -> Facts:
    """A 45-year-old woman with RA, every screening done, normal results, RZV given."""
    observations: dict[str, list[Observed]] = {}
    for o in NORMAL_OBSERVATIONS:
        observations.setdefault(o.concept, []).append(o)
    the_order = the_order or order()
    base = Facts(
        today=TODAY,
        orders=[the_order],
        age=45,
        sex="female",
        birth_date=date(1981, 5, 1),
        observations=observations,
        problems=[problem("ra", onset_days_ago=2000)],
        medications=[med("methotrexate", "csdmard")],
        vaccinations=[vaccine("187", 300), vaccine("187", 240)],
        prednisone_mg_day=None,
    )
    return replace(base, **changes)


def with_obs(facts: Facts, *added: Observed, drop: tuple[str, ...] = ()) -> Facts:
    """Facts with `added` results (kept newest first per concept) and `drop` concepts removed."""
    observations = {k: list(v) for k, v in facts.observations.items() if k not in drop}
    for o in added:
        observations.setdefault(o.concept, []).append(o)
    for values in observations.values():
        values.sort(key=lambda o: o.when, reverse=True)
    return replace(facts, observations=observations)


def with_problems(facts: Facts, *added: Problem) -> Facts:
    return replace(facts, problems=[*facts.problems, *added])


def with_meds(facts: Facts, *added: Medication) -> Facts:
    return replace(facts, medications=[*facts.medications, *added])


def run(rule_id: str, facts: Facts, region: str = "EU", knowledge=KNOWLEDGE) -> list:
    """Run one registered rule for the first order, as the engine does."""
    registered = REGISTRY[rule_id]
    ctx = RuleContext(facts, facts.orders[0], knowledge, Settings(label_region=region))
    return list(registered.fn(ctx))


def findings(results: list) -> list[Finding]:
    return [r for r in results if isinstance(r, Finding)]


def not_assessed(results: list) -> list[NotAssessed]:
    return [r for r in results if isinstance(r, NotAssessed)]


def one_finding(results: list) -> Finding:
    found = findings(results)
    assert len(found) == 1, results
    assert not not_assessed(results), results
    return found[0]


def one_not_assessed(results: list) -> NotAssessed:
    missing = not_assessed(results)
    assert len(missing) == 1, results
    assert not findings(results), results
    return missing[0]


def override(rule_id: str, knowledge: Knowledge = KNOWLEDGE, **values: Any) -> Knowledge:
    """Knowledge with an institution's override of a rule's configurable parameters."""
    configurable = set(knowledge.rules[rule_id].get("configurable", ()))
    assert set(values) <= configurable, f"not configurable: {set(values) - configurable}"
    rules = dict(knowledge.rules)
    rules[rule_id] = {**rules[rule_id], **values}
    return replace(knowledge, rules=rules)
