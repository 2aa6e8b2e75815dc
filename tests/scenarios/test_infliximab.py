"""SPEC §5 infliximab therapeutic drug monitoring at order-sign: trough, antibodies (judged only
in a mass unit), interval advice, methotrexate, screening."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios.chart import (
    NEGATIVE,
    POSITIVE,
    RX,
    Scenario,
    add,
    check,
    coded,
    days_ago,
    infliximab,
    medication,
    quantity,
    sign,
)

ON_INFLIXIMAB = medication([(RX, "191831", "infliximab")], text="infliximab 5 mg/kg every 8 weeks")
ON_INFLIXIMAB["authoredOn"] = days_ago(300)  # maintenance: first infusion ten months ago
IN_INDUCTION = medication([(RX, "191831", "infliximab")], text="infliximab 5 mg/kg week 0")
IN_INDUCTION["authoredOn"] = days_ago(30)  # induction (weeks 0, 2, 6): no trough expected yet
METHOTREXATE = medication(
    [(RX, "105586", "methotrexate 2.5 MG Oral Tablet")], text="methotrexate 15 mg weekly"
)


def _antibody(value: float, unit: str) -> dict[str, Any]:
    obs = quantity("0000-0", value, unit)
    obs["code"] = {
        "coding": [
            {
                "system": "http://lab.example-hospital.org/codes",
                "code": "IFXAB",
                "display": "Anti-infliximab antibodies",
            }
        ]
    }
    return obs


# A laboratory code of its own, named as LOINC names the three forms of the test (mass per
# volume, arbitrary units per volume, presence): the form decides what the rules may read.
LAB = "http://lab.example-hospital.org/codes"
MASS = "Infliximab Ab [Mass/volume] in Serum or Plasma"
UNITS = "Infliximab Ab [Units/volume] in Serum or Plasma"
PRESENCE = "Infliximab Ab [Presence] in Serum or Plasma"


def _antibody_named(name: str, value: float, unit: str) -> dict[str, Any]:
    obs = quantity("0000-0", value, unit)
    obs["code"] = {"coding": [{"system": LAB, "code": "ATI-" + name[15:20], "display": name}]}
    return obs


def _antibody_presence(answer: tuple[str, str, str]) -> dict[str, Any]:
    obs = coded("0000-0", answer)
    obs["code"] = {"coding": [{"system": LAB, "code": "ATI-QL", "display": PRESENCE}]}
    return obs


def _trough(value: float) -> dict[str, Any]:
    return quantity(
        "39803-2", value, "ug/mL", display="Infliximab [Mass/volume] in Serum or Plasma"
    )


def _chart(*observations, medications=(ON_INFLIXIMAB,)):
    return add(observations=list(observations), medications=list(medications))


IFX = (infliximab(),)

SCENARIOS = [
    Scenario(
        "trough 0.8 ug/mL",
        _chart(_trough(0.8)),
        IFX,
        fires={"IFX-TDM-LOW": "warning"},
        values={"IFX-TDM-LOW": 0.8},
    ),
    Scenario(
        "trough 5 ug/mL in range",
        _chart(_trough(5.0)),
        IFX,
        quiet=("IFX-TDM-LOW", "IFX-TDM-NONE", "IFX-INTERVAL"),
    ),
    Scenario(
        "maintenance without any trough",
        _chart(),
        IFX,
        fires={"IFX-TDM-NONE": "info"},
        quiet=("IFX-TDM-LOW",),
    ),
    Scenario(
        "induction without trough",
        _chart(medications=(IN_INDUCTION,)),
        IFX,
        quiet=("IFX-TDM-NONE",),
    ),
    Scenario(
        "low trough with antibodies 120 ug/L",
        _chart(_trough(0.4), _antibody(120, "ug/L")),
        IFX,
        fires={"IFX-TDM-LOW": "warning", "IFX-ADA": "warning"},
        quiet=("IFX-INTERVAL",),
        values={"IFX-ADA": 120},
    ),
    Scenario(
        "antibodies 40 ug/L below threshold",
        _chart(_trough(4.0), _antibody(40, "ug/L")),
        IFX,
        quiet=("IFX-ADA",),
    ),
    Scenario(
        "antibodies 0.12 mg/L = 120 ug/L (unit converted)",
        _chart(_trough(4.0), _antibody(0.12, "mg/L")),
        IFX,
        fires={"IFX-ADA": "warning"},
    ),
    Scenario(
        "low trough, antibodies undetectable: shorten the interval",
        _chart(_trough(0.6), _antibody(5, "ug/L")),
        IFX,
        fires={"IFX-TDM-LOW": "warning", "IFX-INTERVAL": "info"},
        quiet=("IFX-ADA",),
    ),
    Scenario(
        "antibodies by the LOINC mass form, 80 ng/mL = 80 ug/L",
        _chart(_trough(4.0), _antibody_named(MASS, 80, "ng/mL")),
        IFX,
        fires={"IFX-ADA": "warning"},
        values={"IFX-ADA": 80},
    ),
    Scenario(
        "antibodies present (qualitative), low trough: no interval advice",
        _chart(_trough(0.6), _antibody_presence(POSITIVE)),
        IFX,
        fires={"IFX-TDM-LOW": "warning"},
        quiet=("IFX-ADA", "IFX-INTERVAL"),
    ),
    Scenario(
        "antibodies absent (qualitative), low trough: shorten the interval",
        _chart(_trough(0.6), _antibody_presence(NEGATIVE)),
        IFX,
        fires={"IFX-TDM-LOW": "warning", "IFX-INTERVAL": "info"},
        quiet=("IFX-ADA",),
    ),
    Scenario("RA without methotrexate", _chart(_trough(5.0)), IFX, fires={"IFX-MTX": "info"}),
    Scenario(
        "RA with methotrexate",
        _chart(_trough(5.0), medications=(ON_INFLIXIMAB, METHOTREXATE)),
        IFX,
        quiet=("IFX-MTX",),
    ),
    Scenario(
        "no TB test before infliximab",
        add(drop_obs=("71773-6",), medications=[ON_INFLIXIMAB, METHOTREXATE]),
        IFX,
        fires={"IFX-SCREEN": "warning"},
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_infliximab_monitoring(make_app, scenario: Scenario) -> None:
    result = check(make_app, scenario)
    # JAK-inhibitor rules never speak about an infliximab order
    assert not [r for r in result.findings if r.startswith("JAKI-") and r != "JAKI-COMBINATION"]


def test_antibodies_in_assay_units_are_shown_not_judged(make_app) -> None:
    result = sign(make_app(), _chart(_trough(0.5), _antibody(30, "U/mL")), *IFX)
    assert "IFX-ADA" not in result.findings
    assert "U/mL" in result.not_assessed["IFX-ADA"]


@pytest.mark.parametrize(
    ("value", "unit"), [(120, "AU/mL"), (120, "U/mL"), (7, "[arb'U]/mL")], ids=str
)
def test_the_units_form_is_assay_specific_and_never_compared_with_the_mass_threshold(
    make_app, value, unit
) -> None:
    """NOR-DRUM's 50 ug/L is a mass threshold; arbitrary units differ by assay (Mayo reports
    positive from 50 U/mL): the result is shown, never judged, whatever its number."""
    result = sign(make_app(), _chart(_trough(4.0), _antibody_named(UNITS, value, unit)), *IFX)
    assert "IFX-ADA" not in result.findings
    assert str(value) in result.not_assessed["IFX-ADA"]


def test_a_presence_result_is_not_read_as_a_level(make_app) -> None:
    """A positive qualitative result is shown as positive on the not-assessed line of IFX-ADA:
    never turned into a number compared with 50 ug/L."""
    result = sign(make_app(), _chart(_trough(4.0), _antibody_presence(POSITIVE)), *IFX)
    assert "IFX-ADA" not in result.findings
    assert "positive" in result.not_assessed["IFX-ADA"].lower()
