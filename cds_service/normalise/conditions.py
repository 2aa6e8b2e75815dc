"""Conditions -> `Problem`s with concept ids (SNOMED CT, ICD-10-CM, WHO ICD-10, or names).

- verificationStatus refuted or entered-in-error: excluded (R4 CodeableConcept or STU3 code);
- active = clinicalStatus active / recurrence / relapse; inactive / remission / resolved are
  kept as history (prior DVT, cancer within 5 years) with active = False; without
  clinicalStatus a Condition is active unless it has an abatement;
- onset (onsetDateTime / onsetPeriod.start / onsetString), abatement (abatementDateTime /
  abatementPeriod.end / abatementString), recorded (recordedDate, STU3 assertedDate, DSTU2
  dateRecorded);
- problem-list items and encounter diagnoses are read alike (category is not a filter);
- a Condition whose codes are all unknown (or that has text only) is read by its text and
  displays (read_name): a listed name, after a SNOMED CT semantic tag and the qualifier words of
  valuesets/name_qualifiers.toml are taken off; "no X", "family history of X", "screening for
  X", "suspected X" are not X; "history of X" is X, inactive; such Problems carry by_name;
- every coding counts: the concepts of all codings are united (a SNOMED CT code unknown to the
  value sets beside a known ICD-10 code is recognised by the ICD-10 code);
- a Condition none of whose codes or names is in the value sets gives no `Problem`; unless one
  of its codes is known to be no concept (a well-formed ICD-10 code outside every concept's
  categories and not one whose display decides, conditions.toml [_by_display]) it is reported
  as `Unclassified` with its (system family, code) pairs, so that the pipeline can resolve
  them and rules that conclude from absence can say how many there are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from cds_service.fhir_json import UNSET, Condition, Raw, raw_json
from cds_service.knowledge.index import (
    ValueSets,
    icd10_parts,
    norm_code,
    norm_text,
    remember,
)
from cds_service.knowledge.meaning import (
    CJK_NEGATIVE_WORDS,
    MARKER_BEFORE_CJK_NEGATIVE_AT_END,
    MARKER_BEFORE_NEGATIVE_AT_END,
    MORPHOLOGY_TAG,
    RISK_OF_ANOTHER,
    SCREENING_IN,
    SEMANTIC_TAGS,
)
from cds_service.model import Problem, Unclassified
from cds_service.normalise.fhir import (
    MEMO_LONGEST,
    SEEN_DAYS,
    codings,
    concept_text,
    concept_texts,
    first_date,
    parse_date,
    ref_of,
    status_code,
)

EXCLUDED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
ACTIVE = frozenset({"active", "recurrence", "relapse"})
INACTIVE = frozenset({"inactive", "remission", "resolved"})
_NO_CODE = Raw(b"")  # a Condition without a code, as the typed read compares texts
_COMPARED = 8  # texts of one member (codes: of one length) compared in place, per chart
_STATED = ACTIVE | INACTIVE


# category (a letter and two digits; ICD-10-CM's C4A, C7A, C7B, D3A, M1A, O9A, Z3A and FY2026's
# QA0), then up to 4 CM characters or a national extension (国家临床版 "M05.900x001"); a
# 4-character MEDIS disease exchange code sent under an ICD-10 system ("G6KM") is no ICD-10 code
_ICD10_SHAPE = re.compile(r"[A-Z](?:[0-9][0-9AB]|A0)[0-9A-Z]{0,8}")


@dataclass(frozen=True)
class Classified:
    """What the codings and texts of one CodeableConcept say."""

    concepts: frozenset[str]  # with implied broader concepts
    matched: str | None  # "system|code" of the first coding that matched
    unknown: tuple[tuple[str, str], ...]  # (family, code) of codings that matched nothing
    known_none: bool  # some coding (or the name) is known to be none of the concepts
    by_name: bool = False  # recognised by its display / text, not by a code
    history: bool = False  # the name says "history of X": X, inactive


@dataclass(frozen=True)
class NameRead:
    """A condition name read with the words around it (valuesets/name_qualifiers.toml)."""

    concept: str
    status: str  # "asserted" | "history" | "negated" | "family" | "screening" | "suspected"


_UNSEEN = object()  # memo: "not read yet" (None is a valid answer)
_TRAILING = " .。;；:：,，、!！"
_JOINERS = " :：-"  # between a qualifier word and the name


def _strip_tag(vs: ValueSets, text: str) -> str:
    """The text without a trailing SNOMED CT semantic tag ("... (disorder)")."""
    if text.endswith(")"):
        start = text.rfind("(")
        if start > 0 and text[start + 1 : -1].strip() in vs.semantic_tags:
            return text[:start].rstrip()
    return text


def _tag_of(text: str) -> str:
    """The SNOMED CT semantic tag a display ends with, case folded ("" when none)."""
    text = text.rstrip()
    if not text.endswith(")"):
        return ""
    start = text.rfind("(")
    return " ".join(text[start + 1 : -1].split()).casefold() if start > 0 else ""


def _take(text: str, prefixes: tuple[str, ...], suffixes: tuple[str, ...]) -> str | None:
    """The text without one of the qualifier words at its start or end, or None. A Latin word
    must stand apart ("no dvt", not "nodular ...")."""
    for word in prefixes:
        if text.startswith(word) and len(text) > len(word):
            rest = text[len(word) :]
            if word[-1].isascii() and word[-1].isalnum() and rest[0] not in _JOINERS:
                continue
            rest = rest.lstrip(_JOINERS)
            if rest:
                return rest
    for word in suffixes:
        if text.endswith(word) and len(text) > len(word):
            rest = text[: -len(word)]
            if word[0].isascii() and word[0].isalnum() and rest[-1] not in _JOINERS:
                continue
            if word == "negative" and MARKER_BEFORE_NEGATIVE_AT_END.search(rest):
                continue  # "Carcinoma of breast, ER negative": a marker, not a denial
            if word in CJK_NEGATIVE_WORDS and MARKER_BEFORE_CJK_NEGATIVE_AT_END.search(rest):
                continue  # "淋巴瘤ALK-陰性": the marker is negative, not the lymphoma
            rest = rest.rstrip(_JOINERS + ",，")
            if rest:
                return rest
    return None


def read_name(vs: ValueSets, text: str) -> NameRead | None:
    """The condition a display / text names, with what the words around the name say; None
    when no listed name is left after at most three qualifiers are taken off (memoised)."""
    key = ("condname", text)
    found = vs._text_cache.get(key, _UNSEEN)
    if found is _UNSEEN:
        found = _read_name(vs, text)
        if (
            found is not None
            and found.status == "history"
            and vs.name_history_none.intersection(found.concept.split("+"))
        ):  # "personal history of pregnancy complications": no pregnancy now, nor a past one
            found = NameRead(found.concept, "negated")
        remember(vs._text_cache, key, found)
    return found


def display_concept(vs: ValueSets, text: str) -> str | None:
    """The concept a Condition's display / text alone means as this stage reads it (for
    measuring recognition on code lists: scripts/evaluate_conditions.py --code-list): the
    name with the words around it ("X prophylaxis", "suspected X": no X); a past X where the
    concept definitions count it (a past DVT or cancer does, a past pneumonia is no serious
    infection), as the expansions read a "History of X" code."""
    name = read_name(vs, text)
    if name is None:
        return None
    if name.status == "asserted":
        return name.concept
    if name.status == "history":
        return vs.condition_meaning(text)
    return None


def _read_name(vs: ValueSets, text: str) -> NameRead | None:
    """A listed name (the whole text), else the whole text as an expansion display (what its
    code means; history when it starts or ends with a history word: "Personal history of
    nicotine dependence" is former smoker, in the past), else a listed name or expansion
    display left after qualifier words are taken off, else what the definitions read in it."""
    # "Personal Hx of Pneumonia", "Type 2 DM w/o Complications": abbreviations written out first
    whole = vs.expand_abbreviations(_strip_tag(vs, norm_text(text)).strip(_TRAILING))
    for ending in vs.name_not_about:  # "X・合併症なし": X without complications, not "no X"
        if whole.endswith(ending) and len(whole) > len(ending):
            whole = whole[: -len(ending)].strip(_TRAILING)
            break
    whole = _unspecified_off(vs.name_unspecified, whole)
    # a morphology ("Embolus (morphologic abnormality)") names a histology without a site: it
    # is read with its tag by the definitions, as the expansions read its code, never as the
    # listed name or shipped display its text happens to share ("Embolus", "Emphysema")
    # the semantic tag it was sent with ("" for none): a "(procedure)" is no disorder, and a name
    # without a tag is read as a codelist's preferred term (MeaningIndex.concepts_of)
    tag = _tag_of(text)
    tag = tag if tag in SEMANTIC_TAGS else ""
    morphology = tag == MORPHOLOGY_TAG
    names = {} if morphology else vs.cond_names
    displays = {} if morphology else vs.cond_display_names
    concept = names.get(whole)
    if concept is not None:
        return NameRead(concept, "asserted")
    concept = displays.get(whole)
    if concept is not None:  # a shipped code's own display means what its code means
        history = vs.name_qualifiers.get("history", ((), ()))
        return NameRead(concept, "history" if _take(whole, *history) is not None else "asserted")
    statuses: list[str] = []
    current = whole
    for _ in range(3):
        taken = next(
            (
                (status, rest)
                for status, (prefixes, suffixes) in vs.name_qualifiers.items()
                # "Diabetic foot at risk": the foot is at risk, the diabetes is asserted
                if status != "risk" or not RISK_OF_ANOTHER.search(current)
                # "Antenatal screening": a screening in a pregnancy, not a screening for one
                if status != "screening" or not SCREENING_IN.search(current)
                if (rest := _take(current, prefixes, suffixes)) is not None
            ),
            None,
        )
        if taken is None:
            break
        status, rest = taken
        statuses.append(status)
        current = _strip_tag(vs, rest).strip(_TRAILING)
        concept = names.get(current) or displays.get(current)
        if concept is not None:
            return NameRead(concept, _status(statuses))
    concept = vs.condition_meaning(current, tag)  # what the name means by the definitions
    return NameRead(concept, _status(statuses)) if concept is not None else None


def _unspecified_off(phrases: tuple[str, ...], text: str) -> str:
    """`text` without a "not otherwise specified" phrase at its start or end (沒有其他特定X is
    X NOS, not "no X"); a Latin-script phrase only where it stands as words."""
    for phrase in phrases:
        if len(text) <= len(phrase):
            continue
        words = phrase.isascii()  # CJK names have no spaces: no word boundary to look for
        if text.startswith(phrase) and not (words and text[len(phrase)].isalnum()):
            return text[len(phrase) :].strip(_TRAILING)
        if text.endswith(phrase) and not (words and text[-len(phrase) - 1].isalnum()):
            return text[: -len(phrase)].strip(_TRAILING)
    return text


def _status(statuses: list[str]) -> str:
    """What qualifier words say together: any denial wins; else history; else asserted."""
    denying = [s for s in statuses if s != "history"]
    return denying[0] if denying else "history" if statuses else "asserted"


def classify(vs: ValueSets, code: Any) -> Classified:
    """Concepts of a CodeableConcept: the union over all its codings, else its names."""
    found: set[str] = set()
    matched: str | None = None
    unknown: list[tuple[str, str]] = []
    known_none = False
    history_codes = current_codes = 0  # matched codings that record a history / not
    for coding in codings(code):
        value = coding.get("code")
        if not isinstance(value, str) or not value.strip():
            continue
        system = coding.get("system")
        concept = vs.condition_concept(system, value)
        if concept is not None:
            found |= vs.concepts_with_implied(concept)
            matched = matched or f"{system or ''}|{value}"
            if vs.is_history_code(system, value):
                history_codes += 1
            else:
                current_codes += 1
            continue
        family, code_key, by_category = _unknown_coding(vs, system, value)
        learnt = vs.terminology_concepts(family, value) if vs.cond_terminology else None
        if learnt is not None:  # the institution's terminology knows it
            if learnt:
                found |= learnt
                matched = matched or f"{system or ''}|{value}"
            else:
                known_none = True
            continue
        if by_category:
            known_none = True
        else:
            unknown.append((family, code_key))
    by_name = history = False
    if not found and not known_none:  # every code unknown, or text only: the name, if any
        for text in concept_texts(code):
            name = read_name(vs, text)
            if name is None:
                continue
            if name.status in ("asserted", "history"):
                found |= vs.concepts_with_implied(name.concept)
                by_name, history = True, name.status == "history"
            else:  # "no X", "family history of X", "suspected X"...: not X
                known_none = True
            break
    if found and not found.isdisjoint(vs.cond_name_over_any):
        # the Condition's own words name a concept that wins over its code's ([_name_over_code]:
        # latent TB filed under a tuberculosis code)
        for text in concept_texts(code):
            name = read_name(vs, text)
            if name is None or name.status not in ("asserted", "history"):
                continue
            over = vs.cond_name_over.get(name.concept, frozenset())
            if not found.isdisjoint(over):
                found = (found - over) | vs.concepts_with_implied(name.concept)
                by_name, history = True, name.status == "history"
                break
    if history_codes and not current_codes:  # Z85.3 history of breast cancer: not current
        history = True
    unknown_codes = tuple(dict.fromkeys(unknown))
    return Classified(frozenset(found), matched, unknown_codes, known_none, by_name, history)


def _unknown_coding(vs: ValueSets, system: Any, value: str) -> tuple[str, str, bool]:
    """(family, code as compared, known to be no concept by its ICD-10 category) of a coding
    the value sets do not map; memoised per (system, code) (records repeat their codes)."""
    cacheable = system is None or type(system) is str
    key = ("condunknown", system, value)
    found = vs._coding_cache.get(key) if cacheable else None
    if found is None:
        family = vs.systems.family(system if isinstance(system, str) else None)
        # a dagger/asterisk pair is known to be none only if each of its codes is
        parts = icd10_parts(value)
        by_category = (
            family in vs.systems.by_category
            and bool(parts)
            and all(_ICD10_SHAPE.fullmatch(icd) and not vs.icd10_open(icd) for icd in parts)
        )
        found = (family, norm_code(value), by_category)
        if cacheable:
            remember(vs._coding_cache, key, found)
    return found


def condition_concepts(vs: ValueSets, code: Any) -> tuple[frozenset[str], str | None]:
    """Concepts (with implied broader ones) of a CodeableConcept, and the system|code matched."""
    found = classify(vs, code)
    return found.concepts, found.matched


def normalise_conditions(
    resources: list[dict[str, Any]], vs: ValueSets, distinct: bool = False
) -> tuple[list[Problem], list[Unclassified]]:
    """Problems of the relevant Conditions, and the Conditions that map to no known concept.
    A Condition sent twice (the same id) is read once; `distinct`: no id is twice in
    `resources` (PatientRecord.distinct), so that this is not checked per Condition."""
    out: list[Problem] = []
    unclassified: list[Unclassified] = []
    seen: set[str] = set()
    memo: dict[tuple[Any, ...], Classified] = {}  # this record's codes, read once
    typed_memo: dict[bytes, tuple[Classified, str | None]] = {}  # the same, by JSON text
    verifications: list[tuple[Raw, str | None]] = []  # this chart's status texts, read
    clinicals: list[tuple[Raw, str | None]] = []
    codes_by_size: dict[int, list[tuple[Raw, tuple[Classified, str | None]]]] = {}
    days = SEEN_DAYS
    for index, resource in enumerate(resources):
        if type(resource) is Condition:  # decoded typed (fhir_json): the same reading
            rid = resource.id
            ref = "Condition/" + rid if type(rid) is str and rid else f"Condition[{index}]"
            if not distinct:
                if ref in seen:
                    continue
                seen.add(ref)
            # each JSON text (`Raw`) first compared in place with the few this chart sent
            # before, else copied and looked up (no copy per Condition for the usual texts)
            status = resource.verificationStatus
            if status is not UNSET:
                for before, sent in verifications:  # `_status_sent`, inlined
                    if before == status:
                        verification = sent
                        break
                else:
                    verification = _status_sent(verifications, status)
                if verification in EXCLUDED_VERIFICATION:
                    continue
            if (code := resource.code) is UNSET:
                code = _NO_CODE
            known = codes_by_size.get(size := len(code))
            if known is None:
                known = codes_by_size[size] = []
            for text, seen_read in known:
                if text == code:
                    read = seen_read
                    break
            else:
                key = bytes(code)  # the code as sent (JSON text)
                read = typed_memo.get(key)
                if read is None:
                    read = typed_memo[key] = _read_code(vs, key)
                if len(known) < _COMPARED:
                    known.append((code, read))
            found, display = read
            if not found.concepts and found.known_none:
                continue
            status = resource.clinicalStatus
            clinical = None
            if status is not UNSET:
                for before, sent in clinicals:  # `_status_sent`, inlined
                    if before == status:
                        clinical = sent
                        break
                else:
                    clinical = _status_sent(clinicals, status)
            if (
                resource.abatementDateTime is UNSET
                and resource.abatementPeriod is UNSET
                and resource.abatementString is UNSET
            ):
                abatement = None  # the usual: none sent
            else:
                abatement = _first_day(
                    resource.abatementDateTime,
                    _member(resource.abatementPeriod, "end"),
                    _member(resource.abatementPeriod, "start"),
                    resource.abatementString,
                )
            if clinical in _STATED:
                active = clinical in ACTIVE
            else:
                active = abatement is None and resource.abatementBoolean is not True
            active = active and not found.history
            if not found.concepts:
                unclassified.append(Unclassified(ref, found.unknown, active))
                continue
            onset = resource.onsetDateTime
            if type(onset) is str:
                onset = days.get(onset, _UNSEEN)
                if onset is _UNSEEN:
                    onset = parse_date(resource.onsetDateTime)
            else:
                onset = None
            if onset is None and (
                resource.onsetPeriod is not UNSET or resource.onsetString is not UNSET
            ):
                onset = _first_day(_member(resource.onsetPeriod, "start"), resource.onsetString)
            recorded = resource.recordedDate
            recorded = parse_date(recorded) if type(recorded) is str else None
            if recorded is None and (
                resource.assertedDate is not UNSET or resource.dateRecorded is not UNSET
            ):
                recorded = _first_day(resource.assertedDate, resource.dateRecorded)
            out.append(
                Problem(
                    found.concepts,
                    ref,
                    active,
                    onset,
                    abatement,
                    recorded,
                    display,
                    found.matched,
                    found.by_name,
                )
            )
            continue
        if not isinstance(resource, dict):
            continue
        ref = ref_of(resource, index, "Condition")
        if ref in seen:  # the same Condition sent twice (prefetch and search)
            continue
        seen.add(ref)
        if status_code(resource.get("verificationStatus")) in EXCLUDED_VERIFICATION:
            continue
        code = resource.get("code")
        key = _classify_key(code)
        if key is None:
            found = classify(vs, code)
        else:
            found = memo.get(key)  # type: ignore[assignment]
            if found is None:
                found = memo[key] = classify(vs, code)
        if not found.concepts and found.known_none:
            continue  # known to be none of the concepts
        active, abatement = _activity(resource)
        active = active and not found.history
        if not found.concepts:
            unclassified.append(Unclassified(ref, found.unknown, active))
            continue
        out.append(
            Problem(
                concepts=found.concepts,
                ref=ref,
                active=active,
                onset=first_date(resource, "onsetDateTime", "onsetPeriod.start", "onsetString"),
                abatement=abatement,
                recorded=first_date(resource, "recordedDate", "assertedDate", "dateRecorded"),
                display=concept_text(code),
                code=found.matched,
                by_name=found.by_name,
            )
        )
    return out, unclassified


def _member(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


def _first_day(*values: Any) -> date | None:
    """`first_date` over member values already read."""
    for value in values:
        if value is not None and value is not UNSET:
            found = parse_date(value)
            if found is not None:
                return found
    return None


def _read_code(vs: ValueSets, text: bytes) -> tuple[Classified, str | None]:
    """(classify, concept_text) of a Condition.code sent as the JSON text `text` (b"" when
    absent). Remembered in the value sets while no code has been learnt from the
    institution's terminology (then the reading is a pure function of the text and the
    shipped value sets); with learnt codes, read again (the caller's per-record memo)."""
    if vs.cond_terminology:
        concept = raw_json(text) if text else None
        return classify(vs, concept), concept_text(concept)
    key = ("cond-code", text)
    found = vs._coding_cache.get(key)
    if found is None:
        concept = raw_json(text) if text else None
        found = (classify(vs, concept), concept_text(concept))
        if len(text) <= MEMO_LONGEST:
            remember(vs._coding_cache, key, found)
    return found  # type: ignore[no-any-return]


_STATUSES: dict[bytes, str | None] = {}  # `_status_of` per JSON text
_STATUSES_MAX = 1024  # emptied when full (the usual charts send a handful)


def _status_sent(sent: list[tuple[Raw, str | None]], text: Raw) -> str | None:
    """`status_code` of a status member sent as the JSON text `text`: compared in place with
    the few texts of that member this chart sent before (`sent`, added to), else copied out
    and looked up in the memo."""
    for before, status in sent:
        if before == text:
            return status
    key = bytes(text)
    status = _STATUSES.get(key, _UNSEEN)
    if status is _UNSEEN:
        status = _status_of(key)
    if len(sent) < _COMPARED:
        sent.append((text, status))
    return status  # type: ignore[no-any-return]


def _status_of(text: bytes) -> str | None:
    """`status_code` of a status member sent as the JSON text `text` (memoised)."""
    found = status_code(raw_json(text))
    if len(text) <= MEMO_LONGEST:
        if len(_STATUSES) >= _STATUSES_MAX:
            _STATUSES.clear()
        _STATUSES[text] = found
    return found


def _classify_key(code: Any) -> tuple[str | None, ...] | None:
    """Everything `classify` reads of a CodeableConcept of the usual shape (its text, each
    coding's system, code and display), as a key of the per-record memo; None for any other
    shape (read without the memo). Records repeat the same diagnosis codes many times."""
    if type(code) is not dict:
        return None
    found = code.get("coding")
    text = code.get("text")
    if type(found) is not list or not (text is None or type(text) is str):
        return None
    key: list[str | None] = [text]
    for coding in found:
        if type(coding) is not dict:
            return None
        system, value, display = coding.get("system"), coding.get("code"), coding.get("display")
        if not (
            (system is None or type(system) is str)
            and (value is None or type(value) is str)
            and (display is None or type(display) is str)
        ):
            return None
        key += (system, value, display)
    return tuple(key)


def _activity(resource: dict[str, Any]) -> tuple[bool, date | None]:
    """(active, abatement date) of a Condition (see the module text)."""
    clinical = status_code(resource.get("clinicalStatus"))
    abatement = first_date(
        resource,
        "abatementDateTime",
        "abatementPeriod.end",
        "abatementPeriod.start",
        "abatementString",
    )
    if clinical in _STATED:
        return clinical in ACTIVE, abatement
    return abatement is None and resource.get("abatementBoolean") is not True, abatement
