"""JAK-inhibitor screening rules: active TB, latent TB screening, hepatitis B and C.

The logic lives in cds_service.assess.screening (shared with IFX-SCREEN); sources are named
there and in knowledge/rules_jaki.toml (labels; seed 000).
"""

from __future__ import annotations

from cds_service.assess import screening
from cds_service.assess.registry import RuleContext, RuleResult
from cds_service.assess.rules.jaki_common import jaki_rule

TB_ACTIVE = "JAKI-TB-ACTIVE"
TB_SCREEN = "JAKI-TB-SCREEN"
HBV = "JAKI-HBV"
HCV = "JAKI-HCV"


@jaki_rule(TB_ACTIVE, applies_to=("jaki", "tyk2"))
def tb_active(ctx: RuleContext) -> RuleResult:
    """Active tuberculosis: do not start."""
    return list(
        screening.tb_active(ctx.facts, ctx.params(TB_ACTIVE), rule_id=TB_ACTIVE, order=ctx.order)
    )


@jaki_rule(TB_SCREEN, applies_to=("jaki", "tyk2"))
def tb_screen(ctx: RuleContext) -> RuleResult:
    """No IGRA/TST in the window, or a positive result without latent-TB treatment."""
    return list(
        screening.tb_screen(ctx.facts, ctx.params(TB_SCREEN), rule_id=TB_SCREEN, order=ctx.order)
    )


@jaki_rule(HBV, applies_to=("jaki", "tyk2"))
def hbv(ctx: RuleContext) -> RuleResult:
    """HBsAg positive, anti-HBc positive without a plan, or no HBV serology on file."""
    return list(screening.hbv_screen(ctx.facts, ctx.params(HBV), rule_id=HBV, order=ctx.order))


@jaki_rule(HCV, applies_to=("jaki", "tyk2"))
def hcv(ctx: RuleContext) -> RuleResult:
    """HCV antibody positive without RNA, active hepatitis C, or no HCV test on file."""
    return list(screening.hcv_screen(ctx.facts, ctx.params(HCV), rule_id=HCV, order=ctx.order))
