"""Fast constructors for the frozen dataclasses normalise builds by the hundred.

A frozen dataclass's generated __init__ sets each field through object.__setattr__; for
Observed (twelve fields) that costs as much as all the rest of reading a numeric result. The
constructors made here fill the new instance's dict instead, which gives the same object as
calling the class (equal, same hash, repr, dataclasses.replace/asdict, pickle; still frozen).
They are only used when that holds: plain fields with plain defaults, no __post_init__, no
__slots__; for any other class the class itself is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def _plain(cls: type, given: tuple[str, ...] = ()) -> bool:
    """No __post_init__, no __slots__, and no default factory but for the fields `given`
    (a constructor that is always passed those never needs the factory)."""
    return (
        is_dataclass(cls)
        and not hasattr(cls, "__post_init__")
        and not hasattr(cls, "__slots__")
        and all(f.init and (f.default_factory is MISSING or f.name in given) for f in fields(cls))
    )


def fast_constructor(cls: type[T]) -> Callable[..., T]:
    """A keyword-only constructor equivalent to `cls(**values)` for a plain frozen dataclass.

    The caller must pass every field without a default (as `cls(...)` would require)."""
    if not _plain(cls):
        return cls
    defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    new = object.__new__

    def construct(**values: Any) -> T:
        item = new(cls)
        item.__dict__.update(defaults, **values)
        return item

    construct.__doc__ = f"{cls.__name__}(**values), without the frozen-dataclass __init__."
    return construct


def fast_positional(cls: type[T], *names: str) -> Callable[..., T]:
    """A constructor taking the fields `names` by position, the other fields at their
    defaults: `make(a, b)` equals `cls(**{names[0]: a, names[1]: b})`.

    For the hottest loops: the instance dict is written as one literal (no keyword dict).
    Fields left out must have plain defaults (a field with a default factory must be given).
    For a class that is not plain, the constructor calls the class."""
    every = fields(cls) if is_dataclass(cls) else ()
    known = {f.name for f in every}
    unknown = [n for n in names if n not in known]
    if unknown or len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__} has no fields {unknown} (or a name is repeated)")
    missing = [f.name for f in every if f.name not in names and f.default is MISSING]
    if missing:
        raise TypeError(f"{cls.__name__}: fields {missing} have no default")
    args = ", ".join(names)
    if not _plain(cls, names):
        source = f"def make({args}):\n    return cls({', '.join(f'{n}={n}' for n in names)})\n"
        scope: dict[str, Any] = {"cls": cls}
    else:
        scope = {"cls": cls, "new": object.__new__, "set_attr": object.__setattr__}
        items = []
        for f in every:  # in field order, like the dict __init__ would make
            if f.name in names:
                items.append(f"{f.name!r}: {f.name}")
            else:
                scope[f"_d_{f.name}"] = f.default
                items.append(f"{f.name!r}: _d_{f.name}")
        source = (
            f"def make({args}):\n"
            "    item = new(cls)\n"
            f"    set_attr(item, '__dict__', {{{', '.join(items)}}})\n"
            "    return item\n"
        )
    exec(source, scope)  # noqa: S102 - generated from the class's own field names, as dataclasses does
    make = scope["make"]
    make.__doc__ = f"{cls.__name__}({args}), without the frozen-dataclass __init__."
    return make
