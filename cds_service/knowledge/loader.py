"""Load and validate the knowledge files (TOML) of this folder.

`load_knowledge()` reads every file once at start-up, validates it and returns a read-only
`Knowledge`. A broken file, an unknown concept id, an entry without source, or a code that maps
to two different concepts stops start-up with a `KnowledgeError` naming the file and the key.

Institutions change knowledge only through the service configuration:
- `overrides` ([rules.<ID>] of the config): replaces rule parameters, only those keys the rule's
  table lists in `configurable = [...]`, with a value of the same kind as the default.
- `local_codes` ([codes] of the config): adds codes to the value sets, in this shape::

      [codes.observations.crp]            # kind . concept (or drug, or cvx)
      codes = [{ system = "urn:oid:1.2.392.200119.4.504", code = "5C070000002327101" }]
      [codes.conditions.ra]
      codes = [{ system = "http://hl7.org/fhir/sid/icd-10", code = "M06", descendants = true }]
      [codes.medications.tofacitinib]
      codes = [{ system = "urn:oid:1.2.392.100495.20.2.74", code = "3999034F1021" }]
      names = ["ゼルヤンツ錠"]
      [codes.vaccines.187]
      names = ["帯状疱疹ワクチン(組換え)"]

  Every added entry gets the source "institution configuration".
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cds_service.knowledge.index import (
    AnswerSet,
    Drug,
    MedCode,
    ObsCode,
    Systems,
    UnitRule,
    Vaccine,
    ValueSets,
    build_names_regex,
    canonical_unit_key,
    jlac10_any_method,
    norm_code,
    norm_icd10,
    norm_text,
)

HERE = Path(__file__).parent
LOCAL_SOURCE = "institution configuration"
ORDER_TARGETS = ("jaki", "tyk2", "biologic")
ROUTES = (
    "oral",
    "topical",
    "iv",
    "sc",
    "im",
    "inhaled",
    "nasal",
    "ophthalmic",
    "rectal",
    "vaginal",
)


class KnowledgeError(ValueError):
    """A knowledge file (or an institution's override) is broken; start-up must stop."""


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc


@dataclass(frozen=True)
class Knowledge:
    """All knowledge files, by file stem (and valuesets/<stem>), as plain dicts."""

    concepts: dict[str, Any]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule id -> parameters
    valuesets: ValueSets | None = None  # look-up index built from valuesets/*.toml

    def rule(self, rule_id: str) -> dict[str, Any]:
        try:
            return self.rules[rule_id]
        except KeyError as exc:
            raise KnowledgeError(f"no rule parameters for {rule_id}") from exc

    @property
    def vs(self) -> ValueSets:
        if self.valuesets is None:
            raise KnowledgeError("knowledge loaded without value sets")
        return self.valuesets


def load_knowledge(
    directory: Path | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    local_codes: Mapping[str, Any] | None = None,
) -> Knowledge:
    """Read every *.toml under `directory` (default: this package folder), validate it, apply
    the institution's rule overrides and local codes, and build the value-set index.

    `rules_*.toml` files hold tables keyed by rule id; they are merged into `rules`.
    """
    base = directory or HERE
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(base.rglob("*.toml")):
        key = path.relative_to(base).with_suffix("").as_posix()
        files[key] = _read(path)
    rules: dict[str, dict[str, Any]] = {}
    for key, data in files.items():
        if key.startswith("rules_"):
            for rule_id, params in data.items():
                if rule_id in rules:
                    raise KnowledgeError(f"rule {rule_id} defined twice ({key})")
                rules[rule_id] = params
    if overrides:
        rules = apply_overrides(rules, overrides)
    concepts = files.get("concepts", {})
    if concepts:
        check_concept_references(files, concepts)
    valuesets = None
    if any(k.startswith("valuesets/") for k in files):
        if local_codes:
            files = add_local_codes(files, local_codes)
        valuesets = build_valuesets(files, concepts)
    return Knowledge(concepts=concepts, files=files, rules=rules, valuesets=valuesets)


def observation_loinc_codes(knowledge: Knowledge) -> list[str]:
    """Every LOINC code mapped to an observation concept (for the discovery prefetch template)."""
    return list(knowledge.vs.observation_loinc)


# --------------------------------------------------------------------------- references

_REFERENCE_KEYS = ("concepts", "classes")


def check_concept_references(files: Mapping[str, Any], concepts: Mapping[str, Any]) -> None:
    """Every concept id a rule file names (keys `concepts`, `classes`, `*_concepts`,
    `*_classes`) exists in concepts.toml: a typo would otherwise silently never match."""
    known: set[str] = set()
    for section in concepts.values():
        if isinstance(section, Mapping):
            known.update(section)

    def walk(node: Any, where: str) -> None:
        if not isinstance(node, Mapping):
            return
        for key, value in node.items():
            at = f"{where}.{key}"
            if isinstance(value, list) and any(
                key == name or key.endswith("_" + name) for name in _REFERENCE_KEYS
            ):
                for item in value:
                    if isinstance(item, str) and item not in known:
                        raise KnowledgeError(f"{at}: unknown concept {item!r} (concepts.toml)")
            walk(value, at)

    for file_key, data in files.items():
        if file_key.startswith("rules_"):
            walk(data, f"{file_key}.toml")


# --------------------------------------------------------------------------- overrides


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return default is None or isinstance(value, type(default))


def apply_overrides(
    rules: dict[str, dict[str, Any]], overrides: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Rules with the institution's values for the keys each rule marks configurable."""
    out = dict(rules)
    for rule_id, params in overrides.items():
        if rule_id not in rules:
            raise KnowledgeError(f"config rules.{rule_id}: unknown rule id")
        if not isinstance(params, Mapping):
            raise KnowledgeError(f"config rules.{rule_id}: expected a table")
        allowed = rules[rule_id].get("configurable", [])
        merged = copy.deepcopy(rules[rule_id])
        for key, value in params.items():
            if key not in allowed:
                raise KnowledgeError(
                    f"config rules.{rule_id}.{key}: not configurable"
                    f" (configurable: {', '.join(allowed) or 'none'})"
                )
            if key in merged and not _same_kind(merged[key], value):
                raise KnowledgeError(
                    f"config rules.{rule_id}.{key}: expected {type(merged[key]).__name__},"
                    f" got {type(value).__name__}"
                )
            merged[key] = value
        out[rule_id] = merged
    return out


# --------------------------------------------------------------------------- local codes

_KIND_FILES = {
    "observations": "valuesets/observations",
    "conditions": "valuesets/conditions",
    "medications": "valuesets/medications",
    "vaccines": "valuesets/vaccines",
}


def add_local_codes(
    files: dict[str, dict[str, Any]], local_codes: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Files with the institution's codes appended (source "institution configuration")."""
    files = copy.deepcopy(files)
    for kind, entries in local_codes.items():
        file_key = _KIND_FILES.get(kind)
        if file_key is None:
            raise KnowledgeError(
                f"config codes.{kind}: unknown kind (known: {', '.join(_KIND_FILES)})"
            )
        if not isinstance(entries, Mapping):
            raise KnowledgeError(f"config codes.{kind}: expected a table")
        data = files.setdefault(file_key, {})
        for target, spec in entries.items():
            where = f"config codes.{kind}.{target}"
            if not isinstance(spec, Mapping):
                raise KnowledgeError(f"{where}: expected a table")
            if kind == "vaccines":
                _add_local_vaccine(data, str(target), spec, where)
                continue
            table = data.setdefault(str(target), {})
            local = table.setdefault("local", [])
            for i, item in enumerate(spec.get("codes", [])):
                if not isinstance(item, Mapping) or "code" not in item or "system" not in item:
                    raise KnowledgeError(f"{where}.codes[{i}]: needs system and code")
                local.append({**item, "source": LOCAL_SOURCE})
            if spec.get("names"):
                names = table.setdefault("names", {})
                names.setdefault("local", []).extend(str(n) for n in spec["names"])
                names.setdefault("source", LOCAL_SOURCE)
            unknown = set(spec) - {"codes", "names"}
            if unknown:
                raise KnowledgeError(f"{where}.{sorted(unknown)[0]}: unknown key")
    return files


def _add_local_vaccine(data: dict[str, Any], cvx: str, spec: Mapping[str, Any], where: str) -> None:
    for item in data.setdefault("vaccine", []):
        if item.get("cvx") == cvx:
            item.setdefault("names", []).extend(str(n) for n in spec.get("names", []))
            return
    if "live" not in spec:
        raise KnowledgeError(f"{where}: a new CVX code needs live = true|false")
    data["vaccine"].append(
        {
            "cvx": cvx,
            "display": str(spec.get("display", cvx)),
            "live": bool(spec["live"]),
            "names": [str(n) for n in spec.get("names", [])],
            "source": LOCAL_SOURCE,
        }
    )


# --------------------------------------------------------------------------- validation helpers


def _source(entry: Mapping[str, Any], sources: Mapping[str, str], where: str, default=None) -> str:
    src = entry.get("source", default)
    if not isinstance(src, str) or not src.strip():
        raise KnowledgeError(f"{where}: missing source")
    return sources.get(src, src)


def _entries(table: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    items = table.get(key, [])
    if not isinstance(items, list):
        raise KnowledgeError(f"{where}.{key}: expected a list")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not str(item.get("code", "")).strip():
            raise KnowledgeError(f"{where}.{key}[{i}]: needs a code")
    return items


def _strength(item: Mapping[str, Any], key: str, where: str) -> float | None:
    """A product strength (`mg` per unit or `mg_per_ml`) of a medication code entry."""
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise KnowledgeError(f"{where}.{key}: expected a positive number")
    return float(value)


def _put(index: dict, key: Any, value: Any, where: str, what: str) -> None:
    old = index.get(key)
    if old is not None and old != value:
        raise KnowledgeError(
            f"{where}: {what} {key[-1] if isinstance(key, tuple) else key!r}"
            f" already maps to {_label(old)}, not {_label(value)}"
        )
    index[key] = value


def _label(value: Any) -> str:
    for attr in ("concept", "drug"):
        if hasattr(value, attr):
            return str(getattr(value, attr))
    return str(value)


_SYSTEM_KEYS = {
    "loinc": "loinc",
    "jlac10": "jlac10",
    "snomed": "snomed",
    "icd10cm": "icd10",
    "icd10": "icd10",
    "rxnorm": "rxnorm",
    "atc": "atc",
    "cvx": "cvx",
}


def _family_of_entry(vs: ValueSets, key: str, entry: Mapping[str, Any]) -> str:
    if key == "local":
        return vs.systems.family(str(entry["system"]))
    return _SYSTEM_KEYS[key]


# --------------------------------------------------------------------------- build


def build_valuesets(
    files: Mapping[str, Mapping[str, Any]], concepts: Mapping[str, Any]
) -> ValueSets:
    """Validate valuesets/*.toml against concepts.toml and build the look-up index."""
    obs_concepts = set(concepts.get("observation", {}))
    cond_concepts = set(concepts.get("condition", {}))
    med_classes = set(concepts.get("medication_class", {}))
    if not obs_concepts or not cond_concepts or not med_classes:
        raise KnowledgeError("concepts.toml: needs [observation], [condition], [medication_class]")
    vs = ValueSets(systems=_systems(files.get("valuesets/systems", {})))
    _answers(vs, files.get("valuesets/answers", {}))
    _units(vs, files.get("valuesets/units", {}), obs_concepts, concepts)
    _observations(vs, files.get("valuesets/observations", {}), obs_concepts)
    _conditions(vs, files.get("valuesets/conditions", {}), cond_concepts)
    _medications(vs, files.get("valuesets/medications", {}), med_classes, cond_concepts)
    _vaccines(vs, files.get("valuesets/vaccines", {}))
    _tests(files.get("tests", {}))
    return vs


def _systems(data: Mapping[str, Any]) -> Systems:
    uris: dict[str, str] = {}
    markers: list[tuple[str, str, tuple[str, ...]]] = []
    by_category: set[str] = set()
    for family, table in data.items():
        where = f"valuesets/systems.toml [{family}]"
        _source(table, {}, where)
        for uri in table.get("uris", []):
            _put(uris, uri, family, where, "system")
            uris.setdefault(uri.casefold().rstrip("/"), family)
        for marker in table.get("markers", []):
            markers.append((marker.casefold(), family, tuple(table.get("exclude", []))))
        if table.get("conditions_by_category") is True:
            by_category.add(family)
    return Systems(uris=uris, markers=tuple(markers), by_category=frozenset(by_category))


def _answers(vs: ValueSets, data: Mapping[str, Any]) -> None:
    sources = data.get("_sources", {})
    for name, table in data.items():
        if name == "_sources":
            continue
        where = f"valuesets/answers.toml [{name}]"
        default = _source(table, sources, where)
        codes: dict[tuple[str, str], str] = {}
        for i, item in enumerate(_entries(table, "codes", where)):
            _source(item, sources, f"{where}.codes[{i}]", default)
            if "value" not in item:
                raise KnowledgeError(f"{where}.codes[{i}]: needs a value")
            fam = (
                vs.systems.family(item.get("system"))
                if "://" in str(item.get("system", ""))
                else str(item.get("system", ""))
            )
            _put(codes, (fam, norm_code(str(item["code"]))), item["value"], where, "code")
        texts: dict[str, str] = {}
        if table.get("texts"):
            _source({"source": table.get("texts_source")}, sources, f"{where}.texts")
        for value, words in table.get("texts", {}).items():
            for word in words:
                _put(texts, norm_text(word), value, f"{where}.texts.{value}", "text")
        if name == "interpretation":
            vs.interpretation_codes = {code: v for (_, code), v in codes.items()}
        else:
            vs.answers[name] = AnswerSet(codes=codes, texts=texts)


def _units(vs: ValueSets, data: Mapping[str, Any], obs: set[str], concepts: Mapping) -> None:
    aliases = data.get("aliases", {})
    _source(aliases, {}, "valuesets/units.toml [aliases]")
    vs.unit_aliases = {k.casefold(): v.casefold() for k, v in aliases.get("map", {}).items()}
    for concept, spec in concepts.get("observation", {}).items():
        vs.canonical_units[concept] = spec.get("unit", "")
    for concept, table in data.items():
        if concept == "aliases":
            continue
        where = f"valuesets/units.toml [{concept}]"
        if concept not in obs:
            raise KnowledgeError(f"{where}: unknown observation concept")
        _source(table, {}, where)
        factors: dict[str, float] = {}
        for unit, factor in table.get("factors", {}).items():
            if not isinstance(factor, int | float) or factor <= 0:
                raise KnowledgeError(f"{where}.factors.{unit}: expected a positive number")
            factors[canonical_unit_key(unit, vs.unit_aliases)] = float(factor)
        canonical = table.get("canonical", vs.canonical_units[concept])
        if canonical == "coded":
            canonical = next((u for u, f in table.get("factors", {}).items() if f == 1), "")
        vs.units[concept] = UnitRule(
            canonical=canonical,
            factors=factors,
            keep_unconvertible=bool(table.get("keep_unconvertible", False)),
        )


def _observations(vs: ValueSets, data: Mapping[str, Any], obs: set[str]) -> None:
    sources = data.get("_sources", {})
    loinc: list[str] = []
    for concept, table in data.items():
        if concept == "_sources":
            continue
        where = f"valuesets/observations.toml [{concept}]"
        if concept not in obs:
            raise KnowledgeError(f"{where}: unknown observation concept")
        answers = table.get("answers", "qualitative")
        if answers not in vs.answers:
            raise KnowledgeError(f"{where}.answers: unknown answer set {answers!r}")
        vs.obs_answers[concept] = answers
        for key in ("loinc", "snomed", "jlac10", "local"):
            for i, item in enumerate(_entries(table, key, where)):
                _source(item, sources, f"{where}.{key}[{i}]")
                family = _family_of_entry(vs, key, item)
                code = norm_code(str(item["code"]))
                bare = item.get("bare_unit")
                if bare is not None and vs.unit_factor(concept, bare) is None:
                    raise KnowledgeError(f"{where}.{key}[{i}].bare_unit: {bare!r} not convertible")
                percent_of = item.get("percent_of")
                if percent_of is not None and percent_of not in obs:
                    raise KnowledgeError(f"{where}.{key}[{i}].percent_of: unknown {percent_of!r}")
                entry = ObsCode(
                    concept=concept, bare_unit=bare, max=item.get("max"), percent_of=percent_of
                )
                if item.get("any_method") is True:
                    masked = jlac10_any_method(code.upper()) if family == "jlac10" else None
                    if masked is None:
                        raise KnowledgeError(f"{where}.{key}[{i}]: any_method needs a JLAC10 code")
                    _put(vs.obs_codes, (family, masked), entry, f"{where}.{key}[{i}]", "code")
                _put(vs.obs_codes, (family, code), entry, f"{where}.{key}[{i}]", "code")
                if family == "loinc" and code not in loinc:
                    loinc.append(code)
    vs.observation_loinc = tuple(loinc)


def _conditions(vs: ValueSets, data: Mapping[str, Any], conds: set[str]) -> None:
    sources = data.get("_sources", {})
    implies = data.get("_implies", {})
    for concept, implied in implies.items():
        if concept == "source":
            continue
        for c in [concept, *implied]:
            if c not in conds:
                raise KnowledgeError(f"valuesets/conditions.toml [_implies].{concept}: unknown {c}")
        vs.cond_implies[concept] = frozenset(implied)
    ind = data.get("_indications", {})
    for cond, indication in ind.get("map", {}).items():
        if cond not in conds:
            raise KnowledgeError(f"valuesets/conditions.toml [_indications].map.{cond}: unknown")
        vs.indication_concepts[cond] = indication
    vs.indication_priority = tuple(ind.get("priority", []))
    for concept, table in data.items():
        if concept.startswith("_"):
            continue
        where = f"valuesets/conditions.toml [{concept}]"
        if concept not in conds:
            raise KnowledgeError(f"{where}: unknown condition concept")
        for key in ("snomed", "icd10cm", "icd10", "local"):
            for i, item in enumerate(_entries(table, key, where)):
                at = f"{where}.{key}[{i}]"
                _source(item, sources, at)
                family = _family_of_entry(vs, key, item)
                if family == "icd10" and "range" in item:
                    for cat in _icd10_range(item, at):
                        _put(vs.cond_prefix, cat, concept, at, "ICD-10 category")
                        _put(vs.cond_exact, ("icd10", cat), concept, at, "code")
                    continue
                if family == "icd10":
                    code = norm_icd10(str(item["code"]))
                    if item.get("descendants"):
                        _put(vs.cond_prefix, code, concept, at, "ICD-10 category")
                    _put(vs.cond_exact, ("icd10", code), concept, at, "code")
                else:
                    _put(vs.cond_exact, (family, norm_code(str(item["code"]))), concept, at, "code")
        names = table.get("names", {})
        if names:
            _source(names, sources, f"{where}.names")
        for lang, words in names.items():
            if lang == "source":
                continue
            for word in words:
                _put(vs.cond_names, norm_text(word), concept, f"{where}.names.{lang}", "name")


def _icd10_range(item: Mapping[str, Any], where: str) -> list[str]:
    """3-character ICD-10 categories of range = ["C00", "C96"], without those in except."""
    try:
        lo, hi = (norm_icd10(str(x)) for x in item["range"])
        if lo[0] != hi[0] or len(lo) != 3 or len(hi) != 3:
            raise ValueError
        first, last = int(lo[1:]), int(hi[1:])
    except (ValueError, TypeError) as exc:
        raise KnowledgeError(f"{where}.range: expected two categories like ['C00', 'C96']") from exc
    skip = {norm_icd10(str(x)) for x in item.get("except", [])}
    cats = [f"{lo[0]}{n:02d}" for n in range(first, last + 1)]
    return [c for c in cats if c not in skip]


def _medications(
    vs: ValueSets, data: Mapping[str, Any], classes: set[str], conds: set[str]
) -> None:
    sources = data.get("_sources", {})
    routes = data.get("_routes", {})
    _source(routes, sources, "valuesets/medications.toml [_routes]")
    for route, words in routes.get("words", {}).items():
        if route not in ROUTES:
            raise KnowledgeError(f"valuesets/medications.toml [_routes].words.{route}: unknown")
        for word in words:
            _put(vs.route_words, norm_text(word), route, "[_routes].words", "route word")
    vs.route_word_re = build_names_regex(list(vs.route_words))
    for item in routes.get("codes", []):
        fam = vs.systems.family(item["system"]) if "://" in item["system"] else item["system"]
        vs.route_codes[(fam, str(item["code"]))] = item["route"]
    timing = data.get("_timing", {})
    _source(timing, sources, "valuesets/medications.toml [_timing]")
    vs.timing_codes = {k.upper(): float(v) for k, v in timing.get("codes", {}).items()}
    vs.period_days = {k: float(v) for k, v in timing.get("period_days", {}).items()}
    dose = data.get("_dose_units", {})
    _source(dose, sources, "valuesets/medications.toml [_dose_units]")
    vs.dose_units = {k.casefold(): float(v) for k, v in dose.get("mass", {}).items()}
    vs.unit_dose_forms = frozenset(norm_text(u) for u in dose.get("unit_forms", []))
    vs.solid_form_words = tuple(norm_text(u) for u in dose.get("solid_forms", []))
    vs.per_kg_units = {k.casefold(): float(v) for k, v in dose.get("per_kg", {}).items()}
    names: list[str] = []
    for drug_id, table in data.items():
        if drug_id.startswith("_"):
            continue
        where = f"valuesets/medications.toml [{drug_id}]"
        drug_classes = frozenset(table.get("classes", []))
        topical = frozenset(table.get("topical_classes", []))
        for c in drug_classes | topical:
            if c not in classes:
                raise KnowledgeError(f"{where}.classes: unknown medication class {c!r}")
        target = table.get("target")
        if target is not None and target not in ORDER_TARGETS:
            raise KnowledgeError(f"{where}.target: not one of {ORDER_TARGETS}")
        route = table.get("route")
        if route is not None and route not in ROUTES:
            raise KnowledgeError(f"{where}.route: not one of {ROUTES}")
        for ind in table.get("indications", []):
            if ind not in conds:
                raise KnowledgeError(f"{where}.indications: unknown condition {ind!r}")
        factor = table.get("prednisone_factor")
        if factor is not None:
            _source({"source": table.get("factor_source")}, sources, f"{where}.factor_source")
        vs.drugs[drug_id] = Drug(
            id=drug_id,
            classes=drug_classes,
            topical_classes=topical,
            target=target,
            route=route,
            indications=tuple(table.get("indications", [])),
            prednisone_factor=float(factor) if factor is not None else None,
            display=str(table.get("display", drug_id)),
        )
        for key in ("rxnorm", "atc", "local"):
            for i, item in enumerate(_entries(table, key, where)):
                at = f"{where}.{key}[{i}]"
                _source(item, sources, at)
                family = _family_of_entry(vs, key, item)
                code = norm_code(str(item["code"]))
                if family == "atc":
                    code = code.upper()
                entry = MedCode(
                    drug=drug_id,
                    route=item.get("route"),
                    unit_mg=_strength(item, "mg", at),
                    ml_mg=_strength(item, "mg_per_ml", at),
                )
                _put(vs.med_codes, (family, code), entry, at, "code")
        table_names = table.get("names", {})
        if table_names:
            _source(table_names, sources, f"{where}.names")
        for lang, words in table_names.items():
            if lang == "source":
                continue
            implied = "topical" if lang == "topical" else None
            for word in words:
                key = norm_text(word)
                _put(vs.med_names, key, MedCode(drug_id, implied), f"{where}.names.{lang}", "name")
                names.append(key)
    vs.med_name_re = build_names_regex(names)


def _vaccines(vs: ValueSets, data: Mapping[str, Any]) -> None:
    sources = data.get("_sources", {})
    for i, item in enumerate(data.get("vaccine", [])):
        where = f"valuesets/vaccines.toml vaccine[{i}]"
        _source(item, sources, where)
        cvx = str(item.get("cvx", "")).strip()
        if not cvx or not isinstance(item.get("live"), bool):
            raise KnowledgeError(f"{where}: needs cvx and live = true|false")
        _put(
            vs.vaccines, cvx, Vaccine(cvx, item["live"], str(item.get("display", ""))), where, "CVX"
        )
        for name in item.get("names", []):
            _put(vs.vaccine_names, norm_text(name), cvx, f"{where}.names", "name")


def _tests(data: Mapping[str, Any]) -> None:
    for test_id, table in data.items():
        if test_id.startswith("_"):
            continue
        where = f"tests.toml [{test_id}]"
        _source(table, data.get("_sources", {}), where)
        if not table.get("codes") and not table.get("text"):
            raise KnowledgeError(f"{where}: needs codes or text")
        for i, item in enumerate(table.get("codes", [])):
            if not item.get("code") or not item.get("system"):
                raise KnowledgeError(f"{where}.codes[{i}]: needs system and code")
