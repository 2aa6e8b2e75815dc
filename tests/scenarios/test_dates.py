"""A result whose date is no FHIR date is not a current value: the card says the check was not
done instead of judging a result of unknown age (EHRs do send junk after a date, and digits
from other scripts)."""

from __future__ import annotations

import pytest

from tests.scenarios.chart import add, days_ago, quantity, sign, tofacitinib

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _hb(when: str):
    """Hb 7.9 g/dL (under the label's 8 g/dL) dated `when`, instead of the normal one."""
    result = quantity("718-7", 7.9, "g/dL")
    result["effectiveDateTime"] = when
    return add(drop_obs=("718-7",), observations=[result])


RECENT = days_ago(20)
GOOD = [RECENT, f"{RECENT}T09:30:00+01:00", f"{RECENT} 09:30"]
JUNK = [
    f"{RECENT} junk",
    f"{RECENT}T09:30:00+01:00 (corrected)",
    f"{RECENT[:4]}      x",
    RECENT.translate(FULL_WIDTH),
    RECENT.translate(ARABIC_INDIC),
    f"{RECENT}T25:00:00Z",
]


@pytest.mark.parametrize("when", GOOD)
def test_a_dated_low_haemoglobin_is_judged(app, when: str) -> None:
    result = sign(app, _hb(when), tofacitinib())
    assert result.severity("JAKI-LAB-HB") == "critical", result.text


@pytest.mark.parametrize("when", JUNK, ids=repr)
def test_a_low_haemoglobin_with_a_junk_date_is_not_assessed(app, when: str) -> None:
    result = sign(app, _hb(when), tofacitinib())
    assert "JAKI-LAB-HB" not in result.findings, result.findings.get("JAKI-LAB-HB")
    assert "JAKI-LAB-HB" in result.not_assessed, (result.not_assessed, result.text)
