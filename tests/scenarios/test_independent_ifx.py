"""Independent clinical scenarios (issue 14): anti-infliximab antibodies judged against the
NOR-DRUM threshold (50 ug/L) only in a mass unit the service converts (ug/L, ng/mL, ug/mL, mg/L),
named as laboratories name them in English and Japanese; assay units (AU/mL) and unit-less
results are shown as not assessed, never as "no antibodies". Trough at and around 1 ug/mL.

Sources: Syversen SW et al., JAMA 2021;326:2375-2384 (NOR-DRUM B: anti-drug antibodies
>= 50 ug/L); St Clair EW et al., Arthritis Rheum 2002;46:1451-1459 (trough); REMICADE SmPC 4.2
and USPI 2.x (weight-based dose, 3 mg/kg in RA)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios.chart import Scenario, check, quantity
from tests.scenarios.test_infliximab import IFX, _chart, _trough

NOR_DRUM = "Syversen 2021 (NOR-DRUM): anti-drug antibodies >= 50 ug/L"
ST_CLAIR = "St Clair 2002; NOR-DRUM: trough below 1 ug/mL"


def _antibody(name: str, value: float, unit: str | None) -> dict[str, Any]:
    obs = quantity("0000-0", value, unit or "")
    obs["code"] = {"text": name}
    if unit is None:
        obs["valueQuantity"] = {"value": value}
    return obs


SCENARIOS = [
    Scenario(
        "antibodies exactly 50 ug/L: at the threshold",
        _chart(_trough(0.5), _antibody("Anti-infliximab antibodies", 50, "ug/L")),
        IFX,
        fires={"IFX-ADA": "warning"},
        quiet=("IFX-INTERVAL",),
        source=NOR_DRUM,
    ),
    Scenario(
        "antibodies 49 ug/L: below, low trough -> shorten the interval",
        _chart(_trough(0.5), _antibody("Anti-infliximab antibodies", 49, "ug/L")),
        IFX,
        fires={"IFX-INTERVAL": "info", "IFX-TDM-LOW": "warning"},
        quiet=("IFX-ADA",),
        source=NOR_DRUM,
    ),
    Scenario(
        "抗インフリキシマブ抗体 0.05 ug/mL (= 50 ug/L)",
        _chart(_trough(4.0), _antibody("抗インフリキシマブ抗体", 0.05, "ug/mL")),
        IFX,
        fires={"IFX-ADA": "warning"},
        source=NOR_DRUM,
    ),
    Scenario(
        "Infliximab Ab 60 ng/mL (= 60 ug/L)",
        _chart(_trough(4.0), _antibody("Infliximab Ab", 60, "ng/mL")),
        IFX,
        fires={"IFX-ADA": "warning"},
        source=NOR_DRUM,
    ),
    Scenario(
        "trough exactly 1.0 ug/mL: not below 1",
        _chart(_trough(1.0)),
        IFX,
        quiet=("IFX-TDM-LOW",),
        source=ST_CLAIR,
    ),
    Scenario(
        "trough 0.99 ug/mL: low",
        _chart(_trough(0.99)),
        IFX,
        fires={"IFX-TDM-LOW": "warning"},
        source=ST_CLAIR,
    ),
    Scenario(
        "trough 800 ng/mL (= 0.8 ug/mL): low",
        _chart(quantity("39803-2", 800, "ng/mL")),
        IFX,
        fires={"IFX-TDM-LOW": "warning"},
        source=ST_CLAIR,
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_infliximab_antibodies_and_trough(make_app, scenario: Scenario) -> None:
    check(make_app, scenario)


@pytest.mark.parametrize(
    ("unit", "shown"), [("AU/mL", "AU/mL"), (None, None)], ids=["assay units", "no unit"]
)
def test_antibodies_not_in_a_mass_unit_are_not_assessed(make_app, unit, shown) -> None:
    """12 AU/mL (an assay's own unit) or a bare 50: not compared with 50 ug/L, and the card says
    the antibody check was not done rather than reading as 'no antibodies'."""
    from tests.scenarios.chart import sign

    chart = _chart(_trough(4.0), _antibody("Infliximab Ab", 12 if unit else 50, unit))
    result = sign(make_app(), chart, *IFX)
    assert "IFX-ADA" not in result.findings
    assert "IFX-ADA" in result.not_assessed, result.not_assessed
    if shown:
        assert shown in result.not_assessed["IFX-ADA"]
    # the result is on file: never "no result", which would ask for a test already done
    assert "no anti-infliximab antibody result" not in result.not_assessed["IFX-ADA"]
