"""Run every registered rule over the recognised orders of a request."""

from __future__ import annotations

from typing import Any

from cds_service.assess import rules as _rules  # noqa: F401  (registers every rule)
from cds_service.assess import screening
from cds_service.assess.activity import compute_scores
from cds_service.assess.registry import REGISTRY, RuleContext, RuleFn, Settings
from cds_service.knowledge import Knowledge
from cds_service.model import Assessment, Facts, Finding, NotAssessed
from cds_service.normalise.construct import fast_positional


def _enabled(rule_id: str, settings: Settings) -> bool:
    if rule_id in settings.disabled_rules:
        return False
    return settings.enabled_rules is None or rule_id in settings.enabled_rules


# RuleContext(...) and Assessment(...) with every field, without the frozen-dataclass __init__
_make_context = fast_positional(RuleContext, "facts", "order", "knowledge", "settings", "scores")
_make_assessment = fast_positional(
    Assessment,
    *("orders", "findings", "not_assessed", "scores", "unavailable", "unclassified_conditions"),
)

Plan = list[tuple[RuleFn, tuple[int, ...]]]
_PLANS: dict[tuple[Any, ...], Plan] = {}
PLANS_KEPT = 256  # (settings, target classes) pairs remembered; then the memo starts again


def _make_plan(settings: Settings, targets: tuple[frozenset[str], ...]) -> Plan:
    """Each enabled rule, in registry order, with the targets (by position) it applies to."""
    plan: Plan = []
    for registered in REGISTRY.values():
        if not _enabled(registered.rule_id, settings):
            continue
        which = tuple(
            i for i, classes in enumerate(targets) if not classes.isdisjoint(registered.applies_to)
        )
        if which:
            plan.append((registered.fn, which))
    return plan


def _plan(settings: Settings, targets: tuple[frozenset[str], ...]) -> Plan:
    """`_make_plan`, made once per settings and target classes (and registry size)."""
    key = (settings, targets, len(REGISTRY))
    try:
        found = _PLANS.get(key)
    except TypeError:  # settings built with lists: not hashable
        return _make_plan(settings, targets)
    if found is None:
        if len(_PLANS) >= PLANS_KEPT:
            _PLANS.clear()
        found = _PLANS[key] = _make_plan(settings, targets)
    return found


def assess(facts: Facts, knowledge: Knowledge, settings: Settings | None = None) -> Assessment:
    """Compute scores once, then run each enabled rule for each order it applies to."""
    settings = settings or Settings()
    scores = compute_scores(facts, knowledge)
    findings: list[Finding] = []
    not_assessed: list[NotAssessed] = []
    # one context per target (the same for every rule: RuleContext is frozen)
    contexts = [_make_context(facts, o, knowledge, settings, scores) for o in facts.orders]
    contexts.append(_make_context(facts, None, knowledge, settings, scores))
    classes = tuple(frozenset((o.drug_class, o.drug)) for o in facts.orders) + (
        frozenset({"patient"}),
    )
    try:
        for fn, which in _plan(settings, classes):
            for i in which:
                for item in fn(contexts[i]):
                    if isinstance(item, Finding):
                        findings.append(item)
                    else:
                        not_assessed.append(item)
    finally:
        screening.release(facts)  # the rules' problem index: freed with this request
    return _make_assessment(  # type: ignore[no-any-return]
        list(facts.orders),
        findings,
        not_assessed,
        scores,
        list(facts.unavailable),
        list(facts.unclassified_conditions),
    )
