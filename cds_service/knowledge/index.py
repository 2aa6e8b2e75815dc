"""Value-set index: the look-up tables normalise uses, built once from valuesets/*.toml.

The TOML files in valuesets/ are written for people (one table per concept, each code with its
display and source); this module turns them into flat dicts keyed the way FHIR data arrive, so
that normalising a 600-resource record is a few thousand dict look-ups.

Code-system matching (decided here, documented in docs and in the report):
- A coding's `system` is reduced to a family: loinc, snomed, icd10, rxnorm, atc, cvx, or
  "local:<system>" for anything else (institution codes). URIs and OIDs of each family are
  listed in valuesets/systems.toml; an unlisted URI that contains the family's marker
  ("icd-10", "icd10", but not "pcs") is taken as that family, so national ICD-10 editions match.
- ICD-10-CM and WHO ICD-10 share one family: a code is compared without dot, spaces or case.
  An entry marked `descendants = true` also matches every longer code that starts with it
  (M05 matches M05.79 and M0579); otherwise matching is exact. A less specific code never
  matches a more specific entry: M05 does not match an entry M05.7 (the parent is listed
  explicitly where the clinical specification, section 6, asks for it: C44.9 besides C44.91).
- A dagger/asterisk pair ("A17.0+G01*", "B48.5†J17.2*", China's "M05.100+J99.0*") means
  what both its codes mean; it is known to be no concept only if each of its codes is.
- SNOMED CT, LOINC, RxNorm, ATC and CVX match exactly (ATC never by prefix: clinical
  specification, section 2).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cds_service.knowledge.meaning import MeaningIndex

# --------------------------------------------------------------------------- text


_DROP = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_DASHES = {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"}


@lru_cache(maxsize=16384)
def norm_text(text: str) -> str:
    """Text as compared: NFKC (full-width -> ASCII, half-width kana -> full-width), zero-width
    characters and soft hyphens removed, every hyphen/dash variant -> "-", white space collapsed,
    case folded. Memoised: records repeat the same names and units."""
    text = unicodedata.normalize("NFKC", text).translate(_DROP).translate(_DASHES)
    return " ".join(text.split()).casefold()


def norm_icd10(code: str) -> str:
    """ICD-10 code as compared: upper case, without dot, blanks or trailing dashes."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", code).upper() if ch.isalnum())


_PAIR_SIGNS = ("+", "\u2020")  # "+" or the dagger sign between the two codes of a pair
# a range of categories ("A00-B99", "C00－D48") sent as a code: no code at all
_RANGE = re.compile(
    r"[A-Za-z][0-9]{2}[^A-Za-z0-9]*[-\u2010-\u2015\u2212\uff0d~\u301c][^A-Za-z0-9]*[A-Za-z][0-9]"
)


def icd10_parts(code: str) -> list[str]:
    """The codes of an ICD-10 dagger/asterisk pair as compared ("A18.0+M49.0*",
    "B48.5†J17.2*", China's "M05.100+J99.0*" -> ["A180", "M490"] ...); one code alone -> [it];
    a range of categories ("A00-B99") -> [] (not a code)."""
    text = unicodedata.normalize("NFKC", code)
    if _RANGE.search(text):
        return []
    if not any(sign in text for sign in _PAIR_SIGNS):
        return [norm_icd10(text)]
    parts = [norm_icd10(part) for part in re.split("[+\u2020]", text)]
    return [part for part in parts if part]


def norm_code(code: str) -> str:
    return unicodedata.normalize("NFKC", code).translate(_DROP).strip()


# --------------------------------------------------------------------------- systems


@dataclass(frozen=True)
class Systems:
    """Code-system URI -> family ("loinc", "snomed", "icd10", "rxnorm", "atc", "cvx", ...)."""

    uris: dict[str, str]
    markers: tuple[tuple[str, str, tuple[str, ...]], ...]  # (marker, family, excluded markers)
    # families whose condition concepts are defined by whole categories (ICD-10): a well-formed
    # code outside all of them is classified as "no concept", not unknown
    by_category: frozenset[str] = frozenset()

    def family(self, system: str | None) -> str:
        if not system or not isinstance(system, str):
            return "local:"
        fam = self.uris.get(system)
        if fam is not None:
            return fam
        low = system.casefold()
        fam = self.uris.get(low.rstrip("/"))
        if fam is not None:
            return fam
        for marker, family, excluded in self.markers:
            if marker in low and not any(x in low for x in excluded):
                return family
        return "local:" + system


# --------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class ObsCode:
    concept: str
    bare_unit: str | None = None  # unit of a value sent without unit (0-10 scale codes: "cm")
    max: float | None = None  # highest value the code's scale allows (None: no scale)
    percent_of: str | None = None  # the value is a % of this concept's count (differential)


def jlac10_any_method(code: str) -> str | None:
    """The key of a 17-character JLAC10 code with its method digits (13-15) masked: analyte
    (5) + identification (4) + material (3) + method (3) + result identification (2), so that
    an entry marked any_method matches the same test measured by any method."""
    return code[:12] + "___" + code[15:] if len(code) == 17 else None


@dataclass(frozen=True)
class UnitRule:
    canonical: str
    factors: dict[str, float]  # lower-cased unit -> factor to canonical
    keep_unconvertible: bool = False


@dataclass(frozen=True)
class AnswerSet:
    codes: dict[tuple[str, str], str]  # (family, code) -> value
    texts: dict[str, str]  # normalised text -> value


# --------------------------------------------------------------------------- medications


@dataclass(frozen=True)
class Drug:
    id: str
    classes: frozenset[str]
    topical_classes: frozenset[str]
    target: str | None  # "jaki" | "tyk2" | "biologic" | None (not an order the service reviews)
    route: str | None  # usual route: "oral" | "sc" | "iv" | "topical"
    indications: tuple[str, ...] = ()  # labelled indications, most typical first
    prednisone_factor: float | None = None  # mg prednisone per mg of this steroid
    display: str = ""


@dataclass(frozen=True)
class MedCode:
    drug: str
    route: str | None = None  # route implied by this code (e.g. ATC D11AH09 -> topical)
    # strength of a product code (RxNorm SCD/SBD): mg per unit (tablet, capsule, vial) or
    # mg per mL (solution); None for ingredient codes
    unit_mg: float | None = None
    ml_mg: float | None = None
    # the other ingredients of a combination code (ATC J04AM02 rifampicin and isoniazid)
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vaccine:
    cvx: str
    live: bool
    display: str


# --------------------------------------------------------------------------- the index


@dataclass
class ValueSets:
    systems: Systems
    obs_codes: dict[tuple[str, str], ObsCode] = field(default_factory=dict)
    obs_answers: dict[str, str] = field(default_factory=dict)  # concept -> answer set name
    # normalised whole name -> concept, for results whose codes are all unknown (last resort)
    obs_names: dict[str, ObsCode] = field(default_factory=dict)
    canonical_units: dict[str, str] = field(default_factory=dict)  # concept -> canonical unit
    units: dict[str, UnitRule] = field(default_factory=dict)
    unit_aliases: dict[str, str] = field(default_factory=dict)  # lower -> lower canonical
    # spellings read before case folding (UCUM is case-sensitive: "G/L" giga, "g/L" grams)
    unit_exact: dict[str, str] = field(default_factory=dict)  # as sent -> lower canonical
    answers: dict[str, AnswerSet] = field(default_factory=dict)
    interpretation_codes: dict[str, str] = field(default_factory=dict)
    cond_exact: dict[tuple[str, str], str] = field(default_factory=dict)
    cond_prefix: dict[str, str] = field(default_factory=dict)  # icd10 category -> concept
    cond_names: dict[str, str] = field(default_factory=dict)
    cond_implies: dict[str, frozenset[str]] = field(default_factory=dict)  # transitive
    # ICD-10 categories of personal-history codes (Z85, Z86, Z87): history, never current
    cond_history_icd10: tuple[str, ...] = ()
    # SNOMED CT codes of the expansions whose display records a personal history ("History of
    # malignant neoplasm of breast (situation)") of a concept the ICD-10 history categories
    # name (conditions.toml [_history]): history, never current, as Z85/Z86 are
    cond_history_snomed: frozenset[str] = frozenset()
    # conditions.toml [_history] snomed_display / snomed_concepts, read with the expansions
    cond_history_rule: tuple[re.Pattern[str] | None, frozenset[str]] = (None, frozenset())
    # ICD-10 codes that do not say which concept they mean (conditions.toml [_by_display]):
    # normalised code -> whether longer codes are meant too; never "known to be none"
    cond_icd10_open: dict[str, bool] = field(default_factory=dict)
    # ICD-10 codes above a code that means a concept (loader._icd10_parents): never known to be
    # none, as the open codes above
    cond_icd10_parents: frozenset[str] = frozenset()
    # conditions.toml [_name_over_code]: concept -> the concepts of a code its name overrides
    # (a Condition saying 潜在性結核感染症 under A16.9 is latent TB, not active TB), and their union
    cond_name_over: dict[str, frozenset[str]] = field(default_factory=dict)
    cond_name_over_any: frozenset[str] = frozenset()
    # SNOMED CT roots of each condition concept ("this concept and all its descendants"), as
    # the generated expansions record them (valuesets/expansions/conditions.json)
    cond_roots: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cond_expansion_inputs: tuple[str, ...] = ()  # pinned inputs the expansions were built from
    # ids "a+b" of codes that mean several concepts at once (O22.3 DVT in pregnancy)
    cond_combinations: set[str] = field(default_factory=set)
    # valuesets/name_qualifiers.toml: status -> (prefixes, suffixes), longest first, in the
    # order they are tried; SNOMED CT semantic tags taken off the end of a name
    name_qualifiers: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=dict
    )
    semantic_tags: frozenset[str] = frozenset()
    # endings that speak of the disease's complications ("・合併症なし"), longest first
    name_not_about: tuple[str, ...] = ()
    name_unspecified: tuple[str, ...] = ()  # "not otherwise specified" phrases (no denial)
    # English clinical abbreviations of condition names (name_qualifiers.toml
    # [_meta.abbreviations]): normalised abbreviation -> words, and the pattern that finds them
    name_abbreviations: dict[str, str] = field(default_factory=dict)
    name_abbreviation_re: re.Pattern[str] | None = None
    # concepts whose "history of X" is no X at all (a past pregnancy): name_qualifiers.toml
    name_history_none: frozenset[str] = frozenset()
    # displays of the generated expansions (SNOMED CT without its semantic tag, ICD-10-CM),
    # normalised -> concept; only displays that name one concept (names recognised as such)
    cond_display_names: dict[str, str] = field(default_factory=dict)
    # displays of expansion codes that mean their concept only under their code (conditions.toml
    # [_display_not_a_name]: ICD-10-CM's "Galactorrhea" is O92.6 only inside chapter XV)
    cond_display_not_names: frozenset[str] = frozenset()
    # the concept definitions, for the display of a code the expansions do not list
    cond_meaning: MeaningIndex = field(default_factory=MeaningIndex)
    indication_concepts: dict[str, str] = field(default_factory=dict)  # condition -> indication
    indication_priority: tuple[str, ...] = ()
    drugs: dict[str, Drug] = field(default_factory=dict)
    med_codes: dict[tuple[str, str], MedCode] = field(default_factory=dict)
    med_names: dict[str, MedCode] = field(default_factory=dict)  # normalised name -> drug
    med_name_re: re.Pattern[str] | None = None
    route_words: dict[str, str] = field(default_factory=dict)  # normalised word -> route
    route_word_re: re.Pattern[str] | None = None
    route_codes: dict[tuple[str, str], str] = field(default_factory=dict)
    timing_codes: dict[str, float] = field(default_factory=dict)  # code -> administrations/day
    period_days: dict[str, float] = field(default_factory=dict)  # UCUM time unit -> days
    dose_units: dict[str, float] = field(default_factory=dict)  # lower unit -> mg factor
    unit_dose_forms: frozenset[str] = frozenset()  # lower units meaning "one tablet/capsule..."
    solid_form_words: tuple[str, ...] = ()  # dose-form words of oral solid products
    per_kg_units: dict[str, float] = field(default_factory=dict)  # "mg/kg" -> mg factor
    vaccines: dict[str, Vaccine] = field(default_factory=dict)
    vaccine_names: dict[str, str] = field(default_factory=dict)  # normalised name -> cvx
    observation_loinc: tuple[str, ...] = ()
    # Condition codes learnt from an institution's terminology (server expansions, an RF2
    # import, cached look-ups; cds_service/terminology): (family, code) -> concepts with the
    # implied broader ones; an empty set means "known to be under no concept". Consulted only
    # for codings the shipped value sets do not know; replaced or extended by the terminology
    # service, never by normalise.
    cond_terminology: dict[tuple[str, str], frozenset[str]] = field(
        default_factory=dict, repr=False
    )
    # text -> result of the name/route searches (records repeat the same drug texts); bounded
    _text_cache: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    # ("obs" | "cond" | "med", system, code) -> observation_coding / condition_concept /
    # medication_code, ("implied", concept) -> concepts_with_implied (records repeat a few
    # dozen codes); bounded
    _coding_cache: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)
    # memo of normalise.units.conversion_plan: (concept, bare unit, unit) -> plan; bounded
    unit_plans: dict[tuple[str, str | None, str | None], Any] = field(
        default_factory=dict, repr=False
    )

    # ------------------------------------------------------------------ look-ups

    def observation_code(self, system: str | None, code: str) -> ObsCode | None:
        return self.obs_codes.get((self.systems.family(system), norm_code(code)))

    def observation_coding(self, system: Any, code: str) -> tuple[ObsCode, str] | None:
        """(ObsCode, "system|code") of one Coding of an Observation code, or None; memoised
        per (system, code) when the system is a string or absent."""
        cacheable = system is None or type(system) is str
        if cacheable:
            found = self._coding_cache.get(("obs", system, code), _UNSEEN)
            if found is not _UNSEEN:
                return found
        family = self.systems.family(system)
        hit = self.obs_codes.get((family, code))
        if hit is None and not (code.isascii() and code.strip() == code):
            hit = self.obs_codes.get((family, norm_code(code)))
        if hit is None and family == "jlac10":
            masked = jlac10_any_method(norm_code(code).upper())
            hit = self.obs_codes.get((family, masked)) if masked else None
        found = (hit, f"{system or ''}|{code}") if hit is not None else None
        if cacheable:
            remember(self._coding_cache, ("obs", system, code), found)
        return found

    def condition_concept(self, system: str | None, code: str) -> str | None:
        """Condition concept of one coding; memoised per (system, code) when the system is a
        string or absent."""
        if system is not None and type(system) is not str:
            return self._condition_concept(system, code)
        key = ("cond", system, code)
        found = self._coding_cache.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = self._condition_concept(system, code)
            remember(self._coding_cache, key, found)
        return found

    def is_history_code(self, system: Any, code: str) -> bool:
        """The coding records a personal history (ICD-10 Z85/Z86/Z87, or a SNOMED CT "History
        of ..." situation of the same concepts): its concept is history, not a current
        condition."""
        family = self.systems.family(system)
        if family == "icd10":
            return bool(self.cond_history_icd10) and norm_icd10(code).startswith(
                self.cond_history_icd10
            )
        return family == "snomed" and norm_code(code) in self.cond_history_snomed

    def icd10_open(self, key: str) -> bool:
        """The ICD-10 code (normalised) is one whose meaning its display decides: neither a
        concept nor known to be none of them."""
        if key in self.cond_icd10_open:
            return True
        if ("icd10", key) in self.cond_exact:  # a code listed on its own ([_none]) is decided
            return False
        if key in self.cond_icd10_parents:  # I80 above I80.1: may be a DVT or not
            return True
        return any(self.cond_icd10_open.get(key[:end]) for end in range(3, len(key)))

    def _condition_concept(self, system: Any, code: str) -> str | None:
        family = self.systems.family(system)
        if family == "icd10":
            parts = icd10_parts(code)
            if not parts:
                return None
            if len(parts) == 1:
                return self._icd10_concept(parts[0])
            # a dagger/asterisk pair means what both its codes mean (A17.0+G01*: tuberculous
            # meningitis is tuberculosis and a meningitis; B48.5+J17.2*: Pneumocystis pneumonia)
            found: list[str] = []
            for part in parts:
                concept = self._icd10_concept(part)
                for one in concept.split("+") if concept else ():
                    if one not in found:
                        found.append(one)
            if len(found) > 1:
                return self.add_combination(found)
            return found[0] if found else None
        return self.cond_exact.get((family, norm_code(code)))

    def _icd10_concept(self, key: str) -> str | None:
        """Concept of one ICD-10 code as compared (norm_icd10): the most specific entry."""
        hit = self.cond_exact.get(("icd10", key))
        if hit is not None:
            return hit or None  # "": a code the value sets say is no concept
        for end in range(len(key) - 1, 2, -1):
            hit = self.cond_prefix.get(key[:end])
            if hit is not None:
                return hit or None
        return (self.cond_prefix.get(key) or None) if len(key) == 3 else None

    def terminology_concepts(self, family: str, code: str) -> frozenset[str] | None:
        """Concepts of a condition code learnt from the institution's terminology (see
        `cond_terminology`): None when it is not known there, an empty set when it is known to
        be under no concept."""
        return self.cond_terminology.get((family, norm_code(code)))

    def snomed_roots(self) -> dict[str, tuple[str, ...]]:
        """SNOMED CT codes that define each condition concept together with their
        descendants: concept -> codes (what a terminology server expands with is-a)."""
        return {concept: roots for concept, roots in sorted(self.cond_roots.items()) if roots}

    def concepts_with_implied(self, concept: str) -> frozenset[str]:
        key = ("implied", concept)
        found = self._coding_cache.get(key)
        if found is None:
            implied = self.cond_implies.get(concept, frozenset())
            # a combination id ("dvt+pregnancy") stands for its parts, not for itself
            found = implied if concept in self.cond_combinations else frozenset({concept}) | implied
            remember(self._coding_cache, key, found)
        return found

    def condition_name(self, text: str) -> str | None:
        """Condition concept named by a text (condition display or free text), memoised."""
        key = ("cond", text)
        found = self._text_cache.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = self.cond_names.get(norm_text(text))
            remember(self._text_cache, key, found)
        return found

    def expand_abbreviations(self, text: str) -> str:
        """A normalised (norm_text) condition name with its listed English abbreviations
        written out as whole words ("type 2 dm w/ hyperglycemia" -> "type 2 diabetes mellitus
        with hyperglycemia", "personal hx of pneumonia" -> "personal history of pneumonia");
        other text unchanged."""
        pattern = self.name_abbreviation_re
        if pattern is None or not text.isascii():
            return text
        words = self.name_abbreviations
        expanded = pattern.sub(lambda m: f" {words[m.group(0)]} ", text)
        return " ".join(expanded.split()) if expanded != text else text

    def condition_meaning(self, text: str, tag: str | None = None) -> str | None:
        """Concept id that a SNOMED CT style name means by the concepts' definitions
        (valuesets/conditions.toml), e.g. "Acute deep venous thrombosis (disorder)" -> dvt;
        look-alikes (family history, screening, suspected, negated...) give None. `tag`: the
        semantic tag the name was sent with when the caller took it off ("" for none)."""
        if self.name_abbreviation_re is not None and text.isascii():
            text = self.expand_abbreviations(norm_text(text))
        found = self.cond_meaning.concepts_of(unicodedata.normalize("NFKC", text), tag)
        if found is not None and "+" in found and found not in self.cond_combinations:
            self.add_combination(found.split("+"))
        return found

    def add_combination(self, parts: list[str]) -> str:
        """Register the id of a code that means several concepts at once ("dvt+pregnancy"):
        it stands only for its parts and what they imply, never for itself."""
        combo = "+".join(parts)
        implied = set(parts)
        for part in parts:
            implied |= self.cond_implies.get(part, frozenset())
        self.cond_implies[combo] = frozenset(implied)
        self.cond_combinations.add(combo)
        return combo

    def medication_code(self, system: str | None, code: str) -> MedCode | None:
        """Drug of one medication coding; memoised per (system, code) when the system is a
        string or absent."""
        if system is not None and type(system) is not str:
            return self._medication_code(system, code)
        key = ("med", system, code)
        found = self._coding_cache.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = self._medication_code(system, code)
            remember(self._coding_cache, key, found)
        return found

    def _medication_code(self, system: Any, code: str) -> MedCode | None:
        family = self.systems.family(system)
        key = norm_code(code)
        if family == "atc":
            key = key.upper().replace(" ", "")
        return self.med_codes.get((family, key))

    def medication_in_text(self, text: str) -> MedCode | None:
        """First drug name (generic or brand, any language) found in free text."""
        if not text or self.med_name_re is None:
            return None
        cache = self._text_cache
        key = ("med", text)
        if key in cache:
            return cache[key]
        hit = regex_hit(self.med_name_re, norm_text(text))
        found = self.med_names.get(hit) if hit else None
        remember(cache, key, found)
        return found

    def medications_in_text(self, text: str) -> tuple[MedCode, ...]:
        """Every distinct drug named in free text, in order of appearance (a combination
        product or an order naming several drugs: "isoniazid 300 mg + rifampicin 600 mg")."""
        if not text or self.med_name_re is None:
            return ()
        cache = self._text_cache
        key = ("meds", text)
        found = cache.get(key)
        if found is None:
            hits: dict[str, MedCode] = {}
            for m in self.med_name_re.finditer(norm_text(text)):
                name = next(g for g in m.groups() if g is not None)
                hit = self.med_names.get(name)
                if hit is not None and hit.drug not in hits:
                    hits[hit.drug] = hit
            found = tuple(hits.values())
            remember(cache, key, found)
        return found

    def route_in_text(self, text: str) -> str | None:
        if not text or self.route_word_re is None:
            return None
        cache = self._text_cache
        key = ("route", text)
        if key in cache:
            return cache[key]
        hit = regex_hit(self.route_word_re, norm_text(text))
        found = self.route_words.get(hit) if hit else None
        remember(cache, key, found)
        return found

    def answer(self, set_name: str, system: str | None, code: str) -> str | None:
        answers = self.answers.get(set_name)
        if answers is None:
            return None
        return answers.codes.get((self.systems.family(system), norm_code(code)))

    def answer_text(self, set_name: str, text: str) -> str | None:
        answers = self.answers.get(set_name)
        if answers is None or not text:
            return None
        key = norm_text(text).strip(" .。:：!！")
        return answers.texts.get(key)

    def unit_factor(self, concept: str, unit: str | None) -> float | None:
        rule = self.units.get(concept)
        if rule is None:
            return None
        return rule.factors.get(self.unit_key(unit))

    def unit_key(self, unit: Any) -> str:
        """canonical_unit_key with a cache (records repeat a handful of unit spellings)."""
        if not isinstance(unit, str):
            return ""
        cache = self._text_cache
        key = ("unit", unit)
        found = cache.get(key)
        if found is None:
            found = canonical_unit_key(unit, self.unit_aliases, self.unit_exact)
            remember(cache, key, found)
        return found


_CACHE_MAX = 20_000
_UNSEEN = object()  # a memo's "not looked up yet" (None is a valid memoised answer)


def remember(cache: dict[Any, Any], key: tuple[Any, ...], value: Any) -> None:
    """Store `value` in a memo of the index, emptying it first when it is full."""
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    cache[key] = value


def canonical_unit_key(
    unit: str | None, aliases: dict[str, str], exact: dict[str, str] | None = None
) -> str:
    """The lower-case UCUM key of a unit as sent; `exact` spellings are matched before case
    folding ("G/L" is 10*9/L, where the folded "g/l" is grams per litre)."""
    if not isinstance(unit, str):  # absent, or not text (as sent by a broken feed)
        return ""
    key = unicodedata.normalize("NFKC", unit).translate(_DROP).replace("µ", "u")
    key = key.replace("μ", "u").replace("×", "x").strip()
    if exact:
        found = exact.get(key.replace(" ", ""))
        if found is not None:
            return found
    key = key.casefold()
    key = key.replace(" ", "") if key not in aliases else key
    return aliases.get(key, key)


def build_names_regex(names: list[str]) -> re.Pattern[str] | None:
    """Names regex where Latin names are bounded: (?<![a-z0-9])(name)(?![a-z])."""
    if not names:
        return None
    latin = sorted({n for n in names if n.isascii()}, key=len, reverse=True)
    other = sorted({n for n in names if not n.isascii()}, key=len, reverse=True)
    alts = []
    if latin:
        alts.append(r"(?<![a-z0-9])(" + "|".join(map(re.escape, latin)) + r")(?![a-z])")
    if other:
        alts.append("(" + "|".join(map(re.escape, other)) + ")")
    return re.compile("|".join(alts))


def regex_hit(pattern: re.Pattern[str] | None, text: str) -> str | None:
    if pattern is None:
        return None
    m = pattern.search(text)
    if m is None:
        return None
    return next(g for g in m.groups() if g is not None)
