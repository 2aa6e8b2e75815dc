"""Fast keyword constructors for the frozen dataclasses normalise builds by the hundred.

A frozen dataclass's generated __init__ sets each field through object.__setattr__; for
Observed (ten fields) that costs as much as all the rest of reading a numeric result. The
constructor made here fills the new instance's dict instead, which gives the same object as
calling the class (equal, same hash, repr, dataclasses.replace/asdict, pickle; still frozen).
It is only used when that holds: plain fields with plain defaults, no __post_init__, no
__slots__; for any other class the class itself is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def fast_constructor(cls: type[T]) -> Callable[..., T]:
    """A keyword-only constructor equivalent to `cls(**values)` for a plain frozen dataclass.

    The caller must pass every field without a default (as `cls(...)` would require)."""
    plain = (
        is_dataclass(cls)
        and not hasattr(cls, "__post_init__")
        and not hasattr(cls, "__slots__")
        and all(f.init and f.default_factory is MISSING for f in fields(cls))
    )
    if not plain:
        return cls
    defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    new = object.__new__

    def construct(**values: Any) -> T:
        item = new(cls)
        item.__dict__.update(defaults, **values)
        return item

    construct.__doc__ = f"{cls.__name__}(**values), without the frozen-dataclass __init__."
    return construct
