"""Shared plumbing of the JAK-inhibitor rules (clinical/SPEC.md §3); registers no rule itself.

- `jaki_rule`: registers a rule and applies the topical policy of JAKI-TOPICAL (rules listed
  `not_applicable` are skipped for a topical order; every other finding is capped at
  `severity_cap` and says so with params topical=True and original_severity) and drops test
  suggestions that knowledge/tests.toml does not define.
- Builders for Findings / NotAssessed that read category, source and texts from the rule's
  table in knowledge/rules_jaki.toml.
- Label look-ups (knowledge/labels.toml) by drug, region and section, honouring `checked`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from cds_service.assess import screening
from cds_service.assess.registry import RuleContext, RuleFn, RuleResult, rule
from cds_service.knowledge import Knowledge
from cds_service.knowledge.citations import label_key
from cds_service.model import SEVERITY_RANK, Evidence, Finding, NotAssessed, Suggestion

_TOPICAL_RULE = "JAKI-TOPICAL"
_tests_cache: tuple[Knowledge | None, frozenset[str] | None] = (None, None)


def is_topical(ctx: RuleContext) -> bool:
    """The order is a topical JAK inhibitor (ruxolitinib cream, delgocitinib)."""
    order = ctx.order
    if order is None:
        return False
    params = ctx.params(_TOPICAL_RULE)
    return bool(order.topical or order.route == "topical" or order.drug in params["topical_drugs"])


def _known_tests(knowledge: Knowledge) -> frozenset[str] | None:
    """Test ids of knowledge/tests.toml, or None when that file is absent (then no filter).

    Cached for the Knowledge object seen last (identity-checked: knowledge is loaded once per
    process; another object, e.g. with overrides, just rebuilds the small set)."""
    global _tests_cache
    cached, ids = _tests_cache
    if cached is knowledge:
        return ids
    data = knowledge.files.get("tests")
    found = frozenset(k for k in data if not k.startswith("_")) if isinstance(data, dict) else None
    ids = found if found and "cbc" in found else None
    _tests_cache = (knowledge, ids)
    return ids


def _keep(s: Suggestion, tests: frozenset[str] | None) -> bool:
    return s.kind != "order-test" or tests is None or s.params.get("test") in tests


def _cap(item: Finding | NotAssessed, cap: str, tests: frozenset[str] | None):
    if not cap and (not item.suggestions or all(_keep(s, tests) for s in item.suggestions)):
        return item  # nothing to cap or drop (the builders gave it its own params and lists)
    if isinstance(item, NotAssessed):
        return replace(item, suggestions=[s for s in item.suggestions if _keep(s, tests)])
    params = dict(item.params)
    severity = item.severity
    if cap:
        params["topical"] = True
        if SEVERITY_RANK[severity] > SEVERITY_RANK[cap]:
            params["original_severity"] = severity
            severity = cap  # type: ignore[assignment]
    return replace(
        item,
        severity=severity,
        params=params,
        suggestions=[s for s in item.suggestions if _keep(s, tests)],
    )


_POLICY = "jaki_policy"


def _policy(ctx: RuleContext) -> tuple[bool, frozenset[str], str, frozenset[str] | None]:
    """(order is topical, rules not applicable to a topical order, severity cap, known test
    ids) of the context: worked out by the first JAKI rule run on it (RuleContext.memo)."""
    memo = ctx.memo
    found = memo.get(_POLICY)
    if found is None:
        policy = ctx.params(_TOPICAL_RULE)
        found = memo[_POLICY] = (
            is_topical(ctx),
            frozenset(policy["not_applicable"]),
            str(policy["severity_cap"]),
            _known_tests(ctx.knowledge),
        )
    return found  # type: ignore[no-any-return]


def jaki_rule(rule_id: str, applies_to: tuple[str, ...]) -> Callable[[RuleFn], RuleFn]:
    """Register a JAKI rule with the topical policy and test-id filter applied."""

    def register(fn: RuleFn) -> RuleFn:
        def run(ctx: RuleContext) -> RuleResult:
            topical, not_applicable, severity_cap, tests = ctx.memo.get(_POLICY) or _policy(ctx)
            cap = ""
            if topical and rule_id != _TOPICAL_RULE:
                if rule_id in not_applicable:
                    return []
                cap = severity_cap
            items = fn(ctx)
            if not cap:
                for item in items:
                    if item.suggestions:
                        break
                else:
                    return items  # nothing to cap, no suggestion to filter (the usual)
            return [_cap(item, cap, tests) for item in items]

        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        rule(rule_id, applies_to)(run)
        return fn

    return register


# --------------------------------------------------------------------------- builders


def found(
    ctx: RuleContext,
    rule_id: str,
    severity: str,
    *,
    evidence: list[Evidence] | None = None,
    phrase: Mapping[str, Any] | None = None,
    suggestions: list[Suggestion] | None = None,
    category: str | None = None,
) -> Finding:
    return screening.finding(
        rule_id,
        severity,
        ctx.params(rule_id),
        ctx.order,
        evidence=evidence,
        phrase=phrase,
        suggestions=suggestions,
        category=category,
    )


def missing(ctx: RuleContext, rule_id: str, case: str, **kw: Any) -> NotAssessed:
    return screening.not_assessed(rule_id, ctx.params(rule_id), case, ctx.order, **kw)


def age_evidence(ctx: RuleContext) -> Evidence:
    facts = ctx.facts
    return screening.make_evidence(
        "Patient", "age", facts.age, "a", facts.birth_date, (), False, None
    )


def conditions_unavailable(ctx: RuleContext, rule_id: str) -> list[NotAssessed]:
    reason = screening.unavailable(ctx.facts, ("conditions",))
    return [missing(ctx, rule_id, "conditions_unavailable", reason=reason)] if reason else []


def conditions_not_found(
    ctx: RuleContext, rule_id: str, *, active_only: bool = True
) -> list[NotAssessed]:
    """Nothing found on the problem list. Absence is not assumed: the retrieval failure if
    any, else how many conditions could not be classified, else nothing to say."""
    unavailable = conditions_unavailable(ctx, rule_id)
    if unavailable:
        return unavailable
    count = screening.unclassified(ctx.facts, active_only=active_only)
    if not count:
        return []
    return [missing(ctx, rule_id, "conditions_unclassified", extra={"count": count})]


def dose_update(dose_mg: float, per_day: float) -> Suggestion:
    return Suggestion("dose-update", {"dose_mg": float(dose_mg), "per_day": float(per_day)})


def ordered_daily_mg(ctx: RuleContext) -> float | None:
    order = ctx.order
    if order is None or order.dose_mg is None or order.per_day is None:
        return None
    return order.dose_mg * order.per_day


# --------------------------------------------------------------------------- labels


def region(ctx: RuleContext) -> str:
    return ctx.settings.label_region or "EU"


def label_region(ctx: RuleContext) -> Mapping[str, Any] | None:
    """The [<drug>.<REGION>] table of labels.toml for the order, or None."""
    if ctx.order is None:
        return None
    drug = ctx.knowledge.files.get("labels", {}).get(ctx.order.drug, {})
    table = drug.get(region(ctx))
    return table if isinstance(table, dict) else None


def enabled(ctx: RuleContext, rule_id: str, entry: Mapping[str, Any]) -> bool:
    """A label entry judges when checked, or when the institution enabled drug:region."""
    if entry.get("checked") is True:
        return True
    wanted = f"{ctx.order.drug}:{region(ctx)}" if ctx.order else ""
    return wanted in ctx.params(rule_id).get("enable_unchecked", ())


def label_section(
    ctx: RuleContext, rule_id: str, section: str
) -> tuple[Mapping[str, Any], Mapping[str, Any]] | NotAssessed:
    """(region table, section table) when configured for the label region, else NotAssessed.

    A section marked `silent = true` is configured: the label says nothing on the matter, and
    the rule judges nothing."""
    table = label_region(ctx)
    part = table.get(section) if table else None
    if not table or not isinstance(part, dict) or not enabled(ctx, rule_id, part):
        return missing(ctx, rule_id, "region", extra={"region": region(ctx)})
    return table, part


def label_phrase(ctx: RuleContext, table: Mapping[str, Any]) -> dict[str, Any]:
    return {"region": region(ctx), "label": str(table.get("label", ""))}


def label_source(ctx: RuleContext, rule_id: str, table: Mapping[str, Any]) -> str:
    """The label the figures come from: name, region and URL, the key under which the card
    finds the label's citation (knowledge/citations.py label_key)."""
    return label_key(table, region(ctx))
