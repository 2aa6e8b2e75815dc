"""Fast constructors for the frozen dataclasses normalise builds by the hundred.

A frozen dataclass's generated __init__ sets each field through object.__setattr__; for
Observed (twelve fields) that costs as much as all the rest of reading a numeric result. The
constructors made here give the same object as calling the class (equal, same hash, repr,
dataclasses.replace/asdict, pickle; still frozen) without it: an instance of a plain "builder"
class of the same layout stores the fields, in field order, as ordinary attributes (the
interpreter's fastest store), then becomes an instance of the dataclass by assignment to its
`__class__` (allowed between classes of the same layout; checked once when the constructor is
made). They are only used when that holds: plain fields with plain defaults, no
__post_init__, no __slots__, a layout the assignment accepts; for any other class the
constructor calls the class itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, Field, fields, is_dataclass
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
    every = fields(cls)
    params = ", ".join(
        f"{f.name}=_d_{f.name}" if f.default is not MISSING else f.name for f in every
    )
    doc = f"{cls.__name__}(**values), without the frozen-dataclass __init__."
    builder = _builder(cls, f"*, {params}", every, {f.name for f in every}, doc)
    return cls if builder is None else builder


def fast_positional(cls: type[T], *names: str) -> Callable[..., T]:
    """A constructor taking the fields `names` by position, the other fields at their
    defaults: `make(a, b)` equals `cls(**{names[0]: a, names[1]: b})`.

    For the hottest loops. Fields left out must have plain defaults (a field with a default
    factory must be given). For a class that is not plain, the constructor calls the class."""
    every = fields(cls) if is_dataclass(cls) else ()
    known = {f.name for f in every}
    unknown = [n for n in names if n not in known]
    if unknown or len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__} has no fields {unknown} (or a name is repeated)")
    missing = [f.name for f in every if f.name not in names and f.default is MISSING]
    if missing:
        raise TypeError(f"{cls.__name__}: fields {missing} have no default")
    args = ", ".join(names)
    doc = f"{cls.__name__}({args}), without the frozen-dataclass __init__."
    if _plain(cls, names):
        builder = _builder(cls, args, every, set(names), doc)
        if builder is not None:
            return builder
    source = f"def make({args}):\n    return cls({', '.join(f'{n}={n}' for n in names)})\n"
    scope: dict[str, Any] = {"cls": cls}
    exec(source, scope)  # noqa: S102 - generated from the class's own field names, as dataclasses does
    make = scope["make"]
    make.__doc__ = f"{cls.__name__}({args})."
    return make


def _builder(
    cls: type[T], params: str, every: tuple[Field[Any], ...], given: set[str], doc: str
) -> Callable[..., T] | None:
    """A class whose call with `params` stores every field of `cls` (those in `given` from
    the call, the others at their defaults) and returns the instance as a `cls`; None when
    this Python refuses the `__class__` assignment for `cls` (tried once, here)."""
    scope: dict[str, Any] = {"cls": cls}
    lines = []
    for f in every:  # in field order, like the dataclass __init__
        if f.default is not MISSING:
            scope[f"_d_{f.name}"] = f.default
        lines.append(f"    self.{f.name} = {f.name if f.name in given else '_d_' + f.name}\n")
    source = f"def __init__(self, {params}):\n{''.join(lines)}    self.__class__ = cls\n"
    exec(source, scope)  # noqa: S102 - generated from the class's own field names, as dataclasses does
    builder = type(
        f"{cls.__name__}Builder",
        (),
        {"__init__": scope["__init__"], "__module__": __name__, "__doc__": doc},
    )
    try:
        probe = builder(**{f.name: None for f in every if f.name in given})
    except TypeError:  # another layout: not assignable
        return None
    return builder if type(probe) is cls else None
