"""The card catalogue: texts per language from cards/templates/<lang>.toml, loaded once.

Texts are data so that a clinician can review or translate them without reading Python.
Every language file has the same keys and the same {placeholders} per key (tests check it).
"""

from __future__ import annotations

import math
import string
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from cards.language import LANGUAGES

TEMPLATES = Path(__file__).parent / "templates"
_FORMATTER = string.Formatter()
# sections a machine word is looked up in for its label, in order
LABEL_SECTIONS = ("drug", "concept", "test", "value", "category")


class CatalogueError(ValueError):
    """A template file is missing or broken; start-up must stop."""


def placeholders(template: str) -> frozenset[str]:
    """Names of the {fields} a template uses."""
    return frozenset(name for _, name, _, _ in _FORMATTER.parse(template) if name)


def format_number(value: float | int) -> str:
    """Numbers for people: 45.0 -> "45", 5.4213 -> "5.42", 0.0312 -> "0.031", 150000 -> "150,000".

    Whole numbers from 10,000 up are grouped by thousands (platelet and cell counts).
    """
    if type(value) is int and -(10**15) < value < 10**15:  # the usual counts, first
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if type(value) is float and -1e15 < value < 1e15:  # then finite results (not NaN)
        if value.is_integer():
            whole = int(value)
            return f"{whole:,}" if abs(whole) >= 10_000 else str(whole)
        # two fixed specs: a nested one ({value:.{digits}f}) formats twice as slowly
        text = f"{value:.2f}" if value >= 0.1 or value <= -0.1 else f"{value:.3f}"
        return text.rstrip("0").rstrip(".")
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        whole = int(value)
        return f"{whole:,}" if abs(whole) >= 10_000 else str(whole)
    digits = 2 if abs(value) >= 0.1 else 3
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def dose_interval(per_day: float) -> tuple[int, str] | None:
    """(n, "d" | "wk") when one administration every n days or weeks, else None."""
    if per_day <= 0 or per_day >= 1:
        return None
    days = 1 / per_day
    weeks = days / 7
    if abs(weeks - round(weeks)) < 0.02 and round(weeks) >= 1:
        return int(round(weeks)), "wk"
    if abs(days - round(days)) < 0.02:
        return int(round(days)), "d"
    return None


@dataclass(frozen=True)
class Catalogue:
    """The texts of one language, with lookups that never fail on a missing label."""

    language: str
    data: dict[str, Any]
    rule_fields: dict[str, frozenset[str]]  # rule id -> placeholders of its `facts`
    # every label of LABEL_SECTIONS in one table, the first section's label winning (made
    # once per catalogue by `_load`; None: `label` reads the sections in turn)
    labels: dict[str, str] | None = None
    # rule id -> (text, facts or None, its placeholders, whether they name a dose in words),
    # made once per catalogue from `data` and `rule_fields`
    rules: dict[str, tuple[str, str | None, tuple[str, ...], bool]] = field(init=False)

    def __post_init__(self) -> None:
        rules = {
            rid: (
                entry["text"],
                entry.get("facts") or None,
                tuple(self.rule_fields.get(rid, ())),
                not _DOSE_FIELDS.isdisjoint(self.rule_fields.get(rid, ())),
            )
            for rid, entry in self.data.get("rule", {}).items()
        }
        object.__setattr__(self, "rules", rules)

    def get(self, section: str, key: str) -> str:
        """A template by section and key (both must exist: checked by tests)."""
        return self.data[section][key]

    def fill(self, section: str, key: str, **values: Any) -> str:
        return self.data[section][key].format(**values)

    def label(self, value: str) -> str:
        """A human label for a machine word: drug, concept, test, value; else the word itself."""
        if self.labels is not None:
            found = self.labels.get(value)
            if found is not None:
                return found
        else:
            for section in LABEL_SECTIONS:
                found = self.data[section].get(value)
                if found is not None:
                    return found
        if ":" in value:  # evidence labels such as "condition:dvt"
            return self.label(value.split(":", 1)[1])
        return value

    def unit(self, unit: str | None) -> str:
        if not unit:
            return ""
        return self.data["unit"].get(unit, unit)

    def drug(self, drug: str | None, fallback: str | None = None) -> str:
        if drug and drug in self.data["drug"]:
            return self.data["drug"][drug]
        return drug or fallback or "?"

    def value(self, value: Any) -> str:
        """One parameter or evidence value in this language."""
        kind = type(value)  # the usual kinds first
        if kind is str:
            return self.label(value)
        if kind is float or kind is int:
            return format_number(value)
        if isinstance(value, bool):
            return self.data["value"]["true" if value else "false"]
        if isinstance(value, int | float):
            return format_number(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            return self.label(value)
        if isinstance(value, list | tuple | set | frozenset):
            items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
            return self.get("meta", "list_separator").join(self.value(v) for v in items)
        return str(value)

    def dose_text(self, dose_mg: float, per_day: float | None) -> str:
        """'5 mg twice daily', '400 mg every 8 weeks' in this language."""
        dose = f"{format_number(dose_mg)} {self.unit('mg')}"
        if per_day is None:
            return dose
        freq = self.data["frequency"]
        key = format_number(per_day)
        if key in freq:
            return freq[key].format(dose=dose)
        interval = dose_interval(per_day)
        if interval == (1, "wk"):
            return freq["weekly"].format(dose=dose)
        if interval:
            which = "every_weeks" if interval[1] == "wk" else "every_days"
            return freq[which].format(dose=dose, n=interval[0])
        return freq["other"].format(dose=dose, per_day=key)

    def _with_doses(self, params: dict[str, Any]) -> dict[str, Any]:
        """The finding's parameters plus `labelled_dose` and `ordered_dose` in words ("5 mg
        once daily"): a dose without its frequency misleads (5 mg twice daily vs once)."""
        extra: dict[str, str] = {}
        for name, mg, per_day in (
            ("labelled_dose", "dose_mg", "per_day"),
            ("ordered_dose", "ordered_dose_mg", "ordered_per_day"),
        ):
            if isinstance(params.get(mg), int | float) and name not in params:
                frequency = params.get(per_day)
                numeric = isinstance(frequency, int | float) and frequency
                extra[name] = self.dose_text(
                    float(params[mg]), float(frequency) if numeric else None
                )
        return {**params, **extra} if extra else params

    def rule_short(self, rule_id: str) -> str:
        entry = self.data["rule"].get(rule_id)
        return entry["short"] if entry else rule_id

    def param(self, key: str, value: Any) -> str:
        """A finding parameter for a phrase: units and concepts in this language."""
        if key == "unit" and isinstance(value, str):
            return self.unit(value)
        return self.value(value)

    def rule_text(self, rule_id: str, params: dict[str, Any]) -> str:
        """The rule's line: its `facts` filled with the finding's parameters, then `text`.

        `facts` is left out when the finding lacks a parameter it needs (or the parameter is
        empty): a card never shows an unfilled {placeholder}, and `text` alone still says what
        the rule means and what to do.
        """
        prepared = self.rules.get(rule_id)
        if prepared is None:
            return rule_id
        text, facts, needed, doses = prepared
        if facts is not None:
            if doses:  # the doses in words only where used
                params = self._with_doses(params)
            values: dict[str, str] = {}
            for k in needed:
                value = params.get(k)
                if value is None or value in _EMPTY:  # not given: `facts` is left out
                    break
                kind = type(value)  # `param`, the usual kinds first
                if kind is str and k != "unit":
                    values[k] = self.label(value)
                elif kind is float or kind is int:
                    values[k] = format_number(value)
                else:
                    values[k] = self.param(k, value)
            else:
                filled = facts.format(**values)
                text = f"{filled} {text}" if self.data["meta"]["sentence_space"] else filled + text
        if params.get("topical") is True and params.get("original_severity") in (
            "warning",
            "critical",
        ):
            severity = self.data["severity"][params["original_severity"]]
            note = self.data["card"]["topical_note"].format(severity=severity)
            text = f"{text} {note}" if self.data["meta"]["sentence_space"] else text + note
        return text


_EMPTY = ("", [], ())  # a finding parameter a phrase cannot show (nor None)
_DOSE_FIELDS = frozenset({"labelled_dose", "ordered_dose"})  # made by `_with_doses`


def _load(language: str) -> Catalogue:
    path = TEMPLATES / f"{language}.toml"
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{path.name}: {exc}") from exc
    fields = {
        rid: placeholders(entry.get("facts", "")) for rid, entry in data.get("rule", {}).items()
    }
    labels: dict[str, str] = {}
    for section in reversed(LABEL_SECTIONS):  # the first section's label wins
        labels.update(data.get(section, {}))
    return Catalogue(language=language, data=data, rule_fields=fields, labels=labels)


@cache
def catalogue(language: str) -> Catalogue:
    """The catalogue of `language` (one of LANGUAGES; anything else gets English). Cached."""
    return _load(language if language in LANGUAGES else "en")


def all_catalogues() -> dict[str, Catalogue]:
    return {lang: catalogue(lang) for lang in LANGUAGES}
