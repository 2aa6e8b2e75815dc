"""Independent clinical scenarios (issue 14): absolute neutrophil and lymphocyte counts derived
from the white cell count and the differential percentage of the same day when the laboratory
sends no absolute count, shown as derived; every unit of the white count; a stale, missing or
unreadable part gives "not assessed", never "no risk".

ANC = WBC x neutrophil % / 100 (the standard definition of the absolute count); floors from the
labels: XELJANZ USPI 2.2 (ANC < 1000, ALC < 500 /mm3: do not start), XELJANZ SmPC 4.2 table
(ALC < 750 /mm3), OLUMIANT SmPC 4.2 (ANC < 1 x 10^9/L, ALC < 0.5 x 10^9/L)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios.chart import (
    ATC,
    LOINC,
    Scenario,
    add,
    baricitinib,
    check,
    draft,
    quantity,
    sign,
    tofacitinib,
)

LABELS = (
    "XELJANZ USPI 2.2 / SmPC 4.2; OLUMIANT SmPC 4.2 (do-not-start floors "
    "ANC 1000, ALC 500 /uL; tofacitinib EU ALC 750)"
)
ABSOLUTE = ("751-8", "731-0", "6690-2")  # dropped from the baseline so only WBC x % is sent


def _differential(
    wbc: float | None,
    wbc_unit: str,
    *,
    neut: float | None = None,
    lymph: float | None = None,
    pct_unit: str | None = "%",
    wbc_days: int = 20,
    pct_days: int = 20,
    keep: tuple[str, ...] = (),
) -> Any:
    obs: list[dict[str, Any]] = []
    if wbc is not None:
        obs.append(quantity("6690-2", wbc, wbc_unit, days=wbc_days))
    for code, value in (("770-8", neut), ("736-9", lymph)):
        if value is None:
            continue
        o = quantity(code, value, pct_unit or "%", days=pct_days)
        if pct_unit is None:
            o["valueQuantity"] = {"value": value}
        obs.append(o)
    drop = tuple(c for c in ABSOLUTE if c not in keep)
    return add(drop_obs=drop, observations=obs)


SCENARIOS = [
    Scenario(
        "WBC 2.0 x10^3/uL, neutrophils 40 %: ANC 800 derived, do not start",
        _differential(2.0, "10*3/uL", neut=40, lymph=40),
        fires={"JAKI-LAB-ANC": "critical"},
        values={"JAKI-LAB-ANC": 800},
        source=LABELS,
    ),
    Scenario(
        "WBC 2.5 x10^3/uL, neutrophils 40 %: ANC exactly 1000, not below the floor",
        _differential(2.5, "10*3/uL", neut=40, lymph=40),
        quiet=("JAKI-LAB-ANC",),
        source=LABELS,
    ),
    Scenario(
        "WBC 2.0 x10^9/L (SI), neutrophils 40 %: ANC 800",
        _differential(2.0, "10*9/L", neut=40, lymph=40),
        fires={"JAKI-LAB-ANC": "critical"},
        source=LABELS,
    ),
    Scenario(
        "WBC 2000 /uL, neutrophils 40 %: ANC 800",
        _differential(2000, "/uL", neut=40, lymph=40),
        fires={"JAKI-LAB-ANC": "critical"},
        source=LABELS,
    ),
    Scenario(
        "WBC 4.0 x10^3/uL, lymphocytes 10 %: ALC 400, do not start",
        _differential(4.0, "10*3/uL", neut=60, lymph=10),
        fires={"JAKI-LAB-ALC": "critical"},
        quiet=("JAKI-LAB-ANC",),
        source=LABELS,
    ),
    Scenario(
        "EU tofacitinib, WBC 3.5 x10^3/uL, lymphocytes 20 %: ALC 700 below the SmPC 750",
        _differential(3.5, "10*3/uL", neut=60, lymph=20),
        fires={"JAKI-LAB-ALC": "critical"},
        region="EU",
        source=LABELS,
    ),
    Scenario(
        "US tofacitinib, same ALC 700: above the USPI 500",
        _differential(3.5, "10*3/uL", neut=60, lymph=20),
        quiet=("JAKI-LAB-ALC",),
        region="US",
        source=LABELS,
    ),
    Scenario(
        "measured ANC 1500 and a differential the same day: the measured count wins",
        add(
            drop_obs=("751-8", "6690-2"),
            observations=[
                quantity("751-8", 1.5, "10*3/uL"),
                quantity("6690-2", 2.0, "10*3/uL"),
                quantity("770-8", 40, "%"),
            ],
        ),
        quiet=("JAKI-LAB-ANC",),
        source=LABELS,
    ),
    Scenario(
        "baricitinib, WBC 1.8 x10^3/uL, neutrophils 50 %: ANC 900",
        _differential(1.8, "10*3/uL", neut=50, lymph=40),
        (baricitinib(4),),
        fires={"JAKI-LAB-ANC": "critical"},
        source=LABELS,
    ),
]


# Cell counts in giga per litre as laboratories write it: UCUM is case-sensitive, "G" is the
# giga prefix (10^9) and "g" the gram: "G/L" is 10^9/L, "g/L" grams per litre.
GIGA = ("G/L", "G/l", "Giga/L", "Gpt/l", "×10^9/L", "10^9/L", "10*9/L")
SCENARIOS += [
    Scenario(
        f"WBC 2.0 {unit}, neutrophils 40 %: ANC 800 derived, do not start",
        _differential(2.0, unit, neut=40, lymph=40),
        fires={"JAKI-LAB-ANC": "critical"},
        values={"JAKI-LAB-ANC": 800},
        source=LABELS + "; UCUM 2.2 prefix G = 10^9 (case-sensitive)",
    )
    for unit in GIGA
]
SCENARIOS += [
    Scenario(
        "measured neutrophils 0.8 G/L, lymphocytes 0.4 G/L: ANC 800 and ALC 400",
        add(
            drop_obs=ABSOLUTE,
            observations=[
                quantity("6690-2", 2.0, "G/L"),
                quantity("751-8", 0.8, "G/L"),
                quantity("731-0", 0.4, "G/L"),
            ],
        ),
        fires={"JAKI-LAB-ANC": "critical", "JAKI-LAB-ALC": "critical"},
        values={"JAKI-LAB-ANC": 800, "JAKI-LAB-ALC": 400},
        source=LABELS,
    ),
    Scenario(
        "measured neutrophils 2.5 G/L: ANC 2500, above the floor (not read as grams)",
        add(drop_obs=("751-8",), observations=[quantity("751-8", 2.5, "G/L")]),
        quiet=("JAKI-LAB-ANC",),
        source=LABELS,
    ),
    Scenario(
        "haemoglobin 75 g/L (grams) beside counts in G/L: Hb 7.5 g/dL, do not start",
        add(
            drop_obs=("718-7", "751-8", "6690-2"),
            observations=[
                quantity("718-7", 75, "g/L"),
                quantity("6690-2", 5.0, "G/L"),
                quantity("751-8", 3.0, "G/L"),
            ],
        ),
        fires={"JAKI-LAB-HB": "critical"},
        quiet=("JAKI-LAB-ANC",),
        source="XELJANZ USPI 2.2 (Hb < 9 g/dL: do not start); UCUM g = gram",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_derived_counts(make_app, scenario: Scenario) -> None:
    check(make_app, scenario)


@pytest.mark.parametrize("unit", ["G/L", "Giga/L", "10^9/L"])
def test_platelets_in_giga_per_litre(make_app, unit: str) -> None:
    """Abrocitinib: platelets < 150 x 10^9/L, do not start (CIBINQO SmPC 4.2 / USPI 2.2)."""
    chart = add(drop_obs=("777-3",), observations=[quantity("777-3", 120, unit)])
    order = draft([(ATC, "D11AH08", "abrocitinib")], text="abrocitinib 100 mg", dose_mg=100)
    result = check(make_app, Scenario(f"platelets 120 {unit}", chart, (order,)))
    assert result.findings.get("JAKI-LAB-PLT", {}).get("severity") == "critical", result.text


def test_count_in_grams_is_never_read(app) -> None:
    """A white count in "g/L" (grams per litre) is not a count: not assessed, never judged."""
    result = sign(app, _differential(2.0, "g/L", neut=40, lymph=40), tofacitinib())
    assert "JAKI-LAB-ANC" not in result.findings, result.findings.get("JAKI-LAB-ANC")
    assert "JAKI-LAB-ANC" in result.not_assessed, (result.not_assessed, result.text)


def test_derived_count_is_shown_as_derived(app) -> None:
    """The evidence says the count was computed from the white count and the percentage."""
    result = sign(app, _differential(2.0, "10*3/uL", neut=40, lymph=40), tofacitinib())
    evidence = result.findings["JAKI-LAB-ANC"]["evidence"]
    shown = " ".join(str(e) for e in evidence) + result.text
    assert "40" in shown and "%" in shown, evidence


@pytest.mark.parametrize(
    ("language", "white_cells"), [("ja", "白血球数"), ("zh-TW", "白血球"), ("zh-CN", "白细胞")]
)
def test_derived_count_names_the_white_count_in_the_locale(app, language, white_cells) -> None:
    """Simplified Chinese guidelines write 白细胞 (白血球 is the Japanese and Taiwanese term)."""
    chart = _differential(2.0, "10*3/uL", neut=40, lymph=40)
    text = sign(app, chart, tofacitinib(), language=language).text
    assert f"{white_cells} 2" in text, text


NOT_ASSESSED = [
    ("white count and percentage on different days", dict(wbc_days=20, pct_days=25)),
    ("white count 100 days old (outside the 90-day window)", dict(wbc_days=100, pct_days=100)),
    ("percentage without any white count", dict(wbc=None)),
    ("percentage sent as a fraction (unit 1)", dict(pct_unit="1", neut=0.4, lymph=0.4)),
    ("white count without a unit", dict(wbc_unit="")),
    ("percentage without a unit (0.4: a fraction or 0.4 %?)", dict(pct_unit=None, neut=0.4)),
]


@pytest.mark.parametrize(("name", "change"), NOT_ASSESSED, ids=[n for n, _ in NOT_ASSESSED])
def test_unusable_differential_is_not_assessed(app, name: str, change: dict[str, Any]) -> None:
    """Stale, mismatched, unit-less or fractional parts: the count is not judged, and the card
    says it is not assessed (never silently "no risk")."""
    args: dict[str, Any] = {"wbc": 2.0, "wbc_unit": "10*3/uL", "neut": 40, "lymph": 40}
    args.update(change)
    chart = _differential(args.pop("wbc"), args.pop("wbc_unit"), **args)
    if change.get("wbc_unit") == "":
        for o in chart.observations:
            if o["code"]["coding"][0]["code"] == "6690-2":
                o["valueQuantity"] = {"value": 2.0}
    result = sign(app, chart, tofacitinib())
    assert "JAKI-LAB-ANC" not in result.findings, result.findings.get("JAKI-LAB-ANC")
    assert "JAKI-LAB-ANC" in result.not_assessed, (result.not_assessed, result.text)
    assert LOINC  # the chart is LOINC-coded throughout
