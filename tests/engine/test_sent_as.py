"""`sent_as`: the text a chart sent is shown only when its unit is not the canonical one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cds_service.model import sent_as, split_sent

_UNITS = ["mg/L", "mm/h", "mm", "10*3/uL", "g/dL", "%", "U/L", "mL/min/{1.73_m2}", " mg/L", "mg/L "]
_NUMBERS = st.from_regex(r"[-+]?[0-9٣]{1,4}([.,][0-9]{1,3})?", fullmatch=True)
_GAPS = st.sampled_from(["", " ", "  ", "\t", "\u00a0"])
_COMPARATORS = st.sampled_from(["", "<", "<=", ">", "≥", "= "])


def _by_splitting(original: str | None, value: float | None, unit: str | None) -> str | None:
    if value is None or not original or not unit or unit.startswith("{"):
        return None
    return original if split_sent(original)[1] != unit else None


@given(
    _COMPARATORS,
    _NUMBERS,
    _GAPS,
    st.sampled_from(_UNITS) | st.text(max_size=6),
    st.sampled_from(_UNITS),
)
def test_the_text_sent_is_kept_exactly_when_its_unit_differs(
    comparator: str, number: str, gap: str, sent_unit: str, unit: str
) -> None:
    original = f"{comparator}{number}{gap}{sent_unit}"
    assert sent_as(original, 1.0, unit) == _by_splitting(original, 1.0, unit)


def test_the_usual_text_in_the_canonical_unit_is_not_repeated() -> None:
    assert sent_as("73.1 mm/h", 73.1, "mm/h") is None
    assert sent_as("0.27 mg/dL", 2.7, "mg/L") == "0.27 mg/dL"
    assert sent_as("2.7 mg/L ", 2.7, "mg/L") is None  # split_sent strips the unit
    assert sent_as("<0.5 mg/L", 0.5, "mg/L") is None
    # a unit with space around it is never what split_sent gives back
    assert sent_as("5  mg/L", 5.0, " mg/L") == "5  mg/L"
    assert sent_as("5 mg/L ", 5.0, "mg/L ") == "5 mg/L "
