"""Run every registered rule over the recognised orders of a request."""

from __future__ import annotations

from cds_service.assess import rules as _rules  # noqa: F401  (registers every rule)
from cds_service.assess.activity import compute_scores
from cds_service.assess.registry import REGISTRY, RuleContext, Settings
from cds_service.knowledge import Knowledge
from cds_service.model import Assessment, Facts, Finding, NotAssessed


def _enabled(rule_id: str, settings: Settings) -> bool:
    if rule_id in settings.disabled_rules:
        return False
    return settings.enabled_rules is None or rule_id in settings.enabled_rules


def assess(facts: Facts, knowledge: Knowledge, settings: Settings | None = None) -> Assessment:
    """Compute scores once, then run each enabled rule for each order it applies to."""
    settings = settings or Settings()
    scores = compute_scores(facts, knowledge)
    findings: list[Finding] = []
    not_assessed: list[NotAssessed] = []
    # one context per target (the same for every rule: RuleContext is frozen)
    targets = [
        (RuleContext(facts, o, knowledge, settings, scores), {o.drug_class, o.drug})
        for o in facts.orders
    ] + [(RuleContext(facts, None, knowledge, settings, scores), {"patient"})]
    for registered in REGISTRY.values():
        if not _enabled(registered.rule_id, settings):
            continue
        for ctx, classes in targets:
            if classes.isdisjoint(registered.applies_to):
                continue
            for item in registered.fn(ctx):
                if isinstance(item, Finding):
                    findings.append(item)
                else:
                    not_assessed.append(item)
    return Assessment(
        orders=list(facts.orders),
        findings=findings,
        not_assessed=not_assessed,
        scores=scores,
        unavailable=list(facts.unavailable),
        unclassified_conditions=list(facts.unclassified_conditions),
    )
