"""The fast constructors of normalise give the very objects the dataclass itself would."""

from __future__ import annotations

import dataclasses
import functools
import pickle
from datetime import date

import pytest

from cds_service.model import Observed, Problem, Score, Unclassified
from cds_service.normalise.construct import fast_constructor, fast_positional

NUMERIC = ("concept", "when", "ref", "code", "value", "unit", "interpretation", "original")


def test_positional_observed_equals_the_class_built_one():
    make = fast_positional(Observed, *NUMERIC, "comparator", "comparable")
    args = ("crp", date(2026, 1, 2), "Observation/1", "http://loinc.org|1988-5", 12.0, "mg/L")
    args += (None, "1.2 mg/dL", "<", False)
    made = make(*args)
    expected = Observed(**dict(zip((*NUMERIC, "comparator", "comparable"), args, strict=True)))
    assert made == expected
    assert hash(made) == hash(expected)
    assert repr(made) == repr(expected)
    assert dataclasses.asdict(made) == dataclasses.asdict(expected)
    assert pickle.loads(pickle.dumps(made)) == expected
    assert made.derived_from == () and made.by_name is False  # defaults filled in
    assert dataclasses.replace(made, by_name=True).by_name is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.value = 1.0  # type: ignore[misc]


def test_keyword_constructor_equals_the_class_built_one():
    make = fast_constructor(Observed)
    values = {"concept": "crp", "when": date(2026, 1, 2), "ref": "Observation/1", "value": 3.0}
    assert make(**values) == Observed(**values)
    assert repr(make(**values)) == repr(Observed(**values))
    assert make(**values).comparable is True  # default filled in


def test_a_problem_is_a_value_as_a_frozen_dataclass_is():
    """Problem and Unclassified (msgspec Structs, built in C by normalise) keep the value
    semantics the rules and tests rely on: equal and hashed by their fields, shown by them,
    defaults, immutable."""
    fields = ("concepts", "ref", "active", "onset", "abatement", "recorded", "display", "code")
    args = (frozenset({"ra"}), "Condition/1", True, date(2020, 1, 2), None, None, "RA", "s|1")
    by_position = Problem(*args, False)
    by_name = Problem(**dict(zip(fields, args, strict=True)))
    assert by_position == by_name and hash(by_position) == hash(by_name)
    assert by_position != Problem(*args, True) and len({by_position, by_name}) == 1
    assert repr(by_name) == (
        "Problem(concepts=frozenset({'ra'}), ref='Condition/1', active=True, "
        "onset=datetime.date(2020, 1, 2), abatement=None, recorded=None, display='RA', "
        "code='s|1', by_name=False)"
    )
    bare = Problem(frozenset({"ra"}), "Condition/2", False)
    assert (bare.onset, bare.abatement, bare.recorded, bare.display, bare.code) == (None,) * 5
    assert bare.by_name is False
    with pytest.raises(AttributeError):
        bare.active = True  # type: ignore[misc]
    unknown = Unclassified("Condition/3", (("snomed", "123"),))
    assert unknown == Unclassified(ref="Condition/3", codes=(("snomed", "123"),), active=True)
    assert hash(unknown) == hash(Unclassified("Condition/3", (("snomed", "123"),)))
    assert repr(unknown) == (
        "Unclassified(ref='Condition/3', codes=(('snomed', '123'),), active=True)"
    )
    assert Unclassified("Condition/4").codes == ()


def test_positional_refuses_unknown_fields_and_fields_left_without_default():
    with pytest.raises(TypeError):
        fast_positional(Observed, "concept", "when", "ref", "nonsense")
    with pytest.raises(TypeError):
        fast_positional(Observed, "concept", "when")  # ref has no default


def test_positional_calls_a_class_that_is_not_plain():
    @dataclasses.dataclass(frozen=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    make = fast_positional(Checked, "value")
    assert make(3) == Checked(3)
    with pytest.raises(ValueError):
        make(-1)


def test_positional_is_fast_for_default_factory_fields_it_is_given():
    names = ("id", "value", "category", "when", "inputs", "evidence", "stale", "problem")
    make = fast_positional(Score, *names)
    args = ("CDAI", 12.5, "moderate", date(2026, 1, 2), {"tjc28": 4.0}, [], True, None)
    made = make(*args)
    expected = Score(**dict(zip(names, args, strict=True)))
    assert made == expected and repr(made) == repr(expected)
    assert made.recorded_total is None and made.mismatch is False  # defaults filled in
    assert "without the frozen-dataclass __init__" in (make.__doc__ or "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.value = 1.0  # type: ignore[misc]


def test_positional_refuses_to_leave_out_a_default_factory_field():
    with pytest.raises(TypeError):
        fast_positional(Score, "id", "value", "category", "when")  # inputs, evidence: factories


def test_fast_built_objects_are_of_the_class_with_its_fields_in_order():
    args = ("crp", date(2026, 1, 2), "Observation/1", "x|1", 1.0, "mg/L", None, "1 mg/L")
    made = fast_positional(Observed, *NUMERIC)(*args)
    assert type(made) is Observed
    assert list(vars(made)) == [f.name for f in dataclasses.fields(Observed)]
    assert vars(made) == vars(Observed(**dict(zip(NUMERIC, args, strict=True))))
    keyword = fast_constructor(Problem)(concepts=frozenset({"ra"}), ref="Condition/1", active=True)
    assert type(keyword) is Problem


def test_a_cached_property_works_on_a_fast_built_object():
    @dataclasses.dataclass(frozen=True)
    class Context:
        value: int
        label: str = "x"

        @functools.cached_property
        def scratch(self) -> dict[str, int]:
            return {"value": self.value}

    made = fast_positional(Context, "value")(3)
    assert made.scratch is made.scratch and made.scratch == {"value": 3}
    assert made == Context(3) and hash(made) == hash(Context(3))
