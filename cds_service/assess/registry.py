"""Rule registry: each rule is a pure function registered under its SPEC.md id.

A rule module in `cds_service.assess.rules` declares

    @rule("JAKI-AGE-65", applies_to=("jaki",))
    def age_65(ctx: RuleContext) -> list[Finding | NotAssessed]: ...

`applies_to` lists order classes ("jaki", "tyk2", "biologic", "infliximab") or ("patient",) for
rules that run once per request without an order (patient-view and disease context). Every
module in the rules package is imported by the engine, so adding a module adds its rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cds_service.knowledge import Knowledge
from cds_service.model import Facts, Finding, NotAssessed, Order, Score


@dataclass(frozen=True)
class Settings:
    """Deployment choices the engine needs (from cds_service.config.Config)."""

    label_region: str = "EU"
    enabled_rules: tuple[str, ...] | None = None
    disabled_rules: tuple[str, ...] = ()
    hook: str = "order-sign"


@dataclass(frozen=True)
class RuleContext:
    facts: Facts
    order: Order | None
    knowledge: Knowledge
    settings: Settings
    scores: list[Score] = field(default_factory=list)

    def params(self, rule_id: str) -> dict[str, Any]:
        found = self.knowledge.rules.get(rule_id)  # Knowledge.rule, less a call per look-up
        return found if found is not None else self.knowledge.rule(rule_id)

    @cached_property
    def memo(self) -> dict[str, Any]:
        """What the rules run on this context work out alike (the first one to need it
        stores it here; e.g. the topical policy of the JAKI rules): one request's, not kept."""
        return {}


RuleResult = list[Finding | NotAssessed]
RuleFn = Callable[[RuleContext], RuleResult]


@dataclass(frozen=True)
class RegisteredRule:
    rule_id: str
    applies_to: tuple[str, ...]
    fn: RuleFn


REGISTRY: dict[str, RegisteredRule] = {}


def rule(rule_id: str, applies_to: tuple[str, ...]) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        if rule_id in REGISTRY:
            raise ValueError(f"rule {rule_id} registered twice")
        REGISTRY[rule_id] = RegisteredRule(rule_id, applies_to, fn)
        return fn

    return register
