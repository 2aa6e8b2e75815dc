"""Condition concepts by meaning: the `definition` tables of valuesets/conditions.toml.

A definition says which SNOMED CT names mean a concept: `include` patterns, then `exclude`
patterns (each with its reason), then the look-alikes every concept is reviewed against
(family history, screening, suspected, ruled out or negated, risk, a diet or a membership,
contact, vaccination; a concept may `allow` the ones it is about). The expansion builder
(knowledge/expansion/conditions.py) applies them to the fully specified names of the SNOMED CT
Global Patient Set; at run time the same definitions read the display of a coding whose code
is not in the expansions (`MeaningIndex.concepts_of`), so a specific SNOMED CT code sent with
its display is recognised by what it says. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

GPS_TAGS = ("disorder", "finding", "situation", "event")
# SNOMED CT morphologic abnormalities (ICD-O histologies: "Adenocarcinoma, no subtype", "Carcinoma,
# metastatic"; and "Thrombus", "Embolus", "Infarct", "Abscess") are recorded as a Condition's code
# on real problem lists. A morphology names a histology without a site: it means a concept only
# where the histology alone says it, i.e. a malignant (or metastatic) neoplasm (malignancy, and
# lymphoma or non-melanoma skin cancer where the concept definition's names say so). The
# definitions that read them list this tag in their `tags`; no other does (a thrombus or an
# embolus is no DVT or PE without its site, an infarct no MI or stroke, an abscess no serious
# infection, a fibrosis no ILD).
MORPHOLOGY_TAG = "morphologic abnormality"

LIKE_REASON = "an X-like condition is not X"

# "negative" after one of these qualifies the disease the name goes on to name, it does not deny
# it: a tumour marker, receptor, gene or chromosome ("HER2-negative carcinoma of breast",
# "ALK-negative anaplastic large cell lymphoma", "Philadelphia chromosome negative chronic
# myeloid leukaemia", "Carcinoma of breast, ER negative", "triple negative breast cancer"), a
# stain or culture ("gram-negative sepsis", "culture-negative endocarditis"), a histology
# ("bacteriologically and histologically negative" tuberculosis is confirmed otherwise), an
# organism's test ("coagulase-negative Staphylococcus" sepsis), an angiogram ("angiogram-negative
# subarachnoid haemorrhage"); a marker may be spelled out
# ("anaplastic lymphoma kinase negative anaplastic large cell lymphoma", "human papillomavirus
# negative squamous cell carcinoma").
MARKERS_BEFORE_NEGATIVE = (
    "triple", "receptor", "oncogene", "mutation", "histologically", "gram", "culture", "2",
    "her2", "her 2", "erbb2", "er", "pr", "hr", "alk", "egfr", "ros1", "kras", "braf", "bcr-abl",
    "bcr-abl1", "abl1", "jak2", "calr", "mpl", "chromosome", "ph", "pd-l1", "p16", "hpv", "ebv",
    "idh", "idh1", "idh2", "tdt", r"cd\d", r"cd\d\d", r"cd-\d", r"cd-\d\d", "coagulase", "kinase",
    "bcr/abl", "species 1", "angiogram", "papillomavirus",
)  # fmt: skip
NEGATIVE = (
    "".join(f"(?<!\\b{m}{sep})" for m in MARKERS_BEFORE_NEGATIVE for sep in (" ", "-"))
    + r"\bnegative\b"
    # "negative for epidermal growth factor receptor expression": a marker named after it
    + r"(?! for (?:[\w-]+ ){0,6}?(?:expression|receptor|mutation|rearrangement|fusion)\b)"
)
MARKER_BEFORE_NEGATIVE_AT_END = re.compile(
    r"\b(?:" + "|".join(MARKERS_BEFORE_NEGATIVE) + r")[- ]?$"
)
# the same before a Japanese or Chinese "negative" (陰性 / 阴性): the marker is written in Latin
# letters inside the CJK name with no word boundary before it ("異生性巨大細胞淋巴瘤ALK-陰性" is
# ALK-negative anaplastic large cell lymphoma, "BCR/ABL陰性" a marker of the leukaemia)
MARKER_BEFORE_CJK_NEGATIVE_AT_END = re.compile(
    r"(?<![a-z0-9])(?:" + "|".join(MARKERS_BEFORE_NEGATIVE) + r")[- ]?$"
)
CJK_NEGATIVE_WORDS = frozenset({"陰性", "阴性"})
RISK_REASON = "risk of X is not X"
FAMILY_REASON = "family history of X is not X"
# "X with family history of Y": the family history qualifies the patient's X, named before it
# ("Supervision of high risk pregnancy with family history of diabetes mellitus" is the
# patient's pregnancy now, not a relative's); Y, named only after it, stays a relative's
FAMILY_QUALIFIES = re.compile(r"\b(?:with|due to|because of) (?:a )?(?:family history|fh)\b")
NEGATED_REASON = "ruled-out or negated X is not X"
# "X without Y" says Y is absent: a concept named only in what "without" governs is not asserted
# ("Pleurisy without effusion or active tuberculosis" is no tuberculosis, "Hypertensive heart
# disease with or without heart failure" no heart failure); one named before it is ("Type 2
# diabetes mellitus without complication", "Pulmonary embolism without acute cor pulmonale"), and
# so is one named after the phrase ends ("Ketoacidosis without coma due to diabetes mellitus",
# "Rupture of cardiac wall without hemopericardium ... following acute myocardial infarction",
# "pT1a: Tumor ... without microscopic extraocular extension (...) (uveal melanoma)"); "excluding"
# alike ("Other pleural effusion excluding mention of tuberculosis" is no tuberculosis, "Malignant
# neoplasm of skin of trunk, excluding scrotum" a malignancy)
WITHOUT_REASON = "X named only after 'without' or 'excluding' is absent"
WITHOUT = re.compile(r"\b(without|excluding)\b")
WITHOUT_ENDS = re.compile(
    r"\b(due to|following|after|caused by|secondary to|associated with|as|in|with|from)\b|[(,;:]"
)
# "X not due to / not associated with / not occurring in Y" says what X is not caused by or
# where it is not: X is there ("Cirrhosis of liver not due to alcohol", "Kaposi sarcoma not
# associated with acquired immunodeficiency syndrome", "Plasmacytoma, extramedullary (not
# occurring in bone)"); Y is not ("Galactorrhea not associated with childbirth" is no pregnancy)
NOT_CAUSED = re.compile(r"\bnot (?:due to|associated with|occurring in|caused by)\b")
SCREENING_REASON = "screening for X is not X"
# "Antenatal screening (for Y)": a screening done in a pregnancy (ICD-10 Z36, read as pregnancy by
# code) records the pregnancy, as an antenatal examination or visit does; Y, the screened-for
# condition, stays unasserted (a screening for pregnancy is still no pregnancy)
SCREENING_IN = re.compile(r"\b(antenatal|prenatal|antepartum) screening\b")
# "risk" that grades something else than the disease the name goes on to name: the diabetic's
# foot ("Diabetic foot at risk", "Diabetes mellitus - high risk foot", "At high risk of ulcer
# of left foot due to diabetes mellitus": the foot ulcer is at risk, the diabetes is present) or
# a retinopathy's grade ("High risk proliferative retinopathy due to diabetes mellitus"). The
# risk of the disease itself ("At risk of diabetes", "Diabetes risk score", "At risk of diabetic
# foot ulcer") stays a risk.
RISK_OF_ANOTHER = re.compile(
    r"\b(?:(?:low|moderate|medium|increased|high)[- ])?risk (?:diabetic )?(?:foot|feet)\b"
    r"|\b(?:foot|feet) at (?:(?:low|moderate|medium|increased|high) )?risk\b(?! of)"
    r"|\bat (?:(?:low|moderate|medium|increased|high) )?risk of (?:foot )?ulcer(?:ation)? of "
    r"(?:the )?(?:(?:right|left|both) )?(?:foot|feet) due to (?:diabetes|diabetic)"
    r"|\b(?:non-)?high[- ]risk (?:non[- ]?)?proliferative\b|\bretinopathy - high risk\b"
)
LOOKALIKES: tuple[tuple[str, str], ...] = (
    (
        r"\bfamily history\b|\bfh:|\bfamily hx\b"
        # SNOMED CT's "Maternal history of X" / "Paternal history of X": a parent's X
        r"|\b(maternal|paternal) history\b"
        # a UK "FH" without its colon ("FH angina male first degree age known")
        r"|^fh\b"
        # SNOMED CT's "History of X in child of subject", "X in mother of subject"
        r"|\b(mother|father|sister|brother|sibling|parent|child|son|daughter|relative"
        r"|family member)s? of subject\b"
        r"|\((in (the |a )?)?(mother|father|sister|brother|sibling|parent|grandmother|grandfather"
        r"|grandparent|aunt|uncle|cousin|son|daughter|relative|family member)s?\b[^)]*\)",
        FAMILY_REASON,
    ),
    # a disease a screening programme found is that disease ("Breast cancer detected by national
    # screening programme"); screening for it, or a screening that found none, is not
    (
        r"(?<!detected by )(?<!detected by national )(?<!detected at )(?<!detected on )"
        r"(?<!found by )(?<!found at )(?<!found on )\bscreening\b",
        SCREENING_REASON,
    ),
    (
        r"\bsuspected\b|\bpossible\b|\bprobable\b|\bquery\b|\?|\bdifferential\b"
        r"|\bquestionable\b(?! if\b)|\bcannot be assessed\b|\bunable to confirm\b|\bunconfirmed\b"
        r"|\b(time needed )?to decide\b|\bundecided\b"
        # a decision-support prompt ("AURAS-AF - consider the patient to have heart failure")
        r"|\bconsider (the )?patient to have\b",
        "suspected X is not X",
    ),
    (
        r"\bruled out\b|\brule out\b|\br/o\b|\bexcluded\b|\bno history\b|\bnever (had|diagnosed)\b"
        # "not amenable to photocoagulation": how the disease can be treated, not its absence
        r"|\bnot\b(?! (yet )?delivered)(?! resulting in)(?! done)(?! confirmed bacteriolog)"
        r"(?! amenable to)"
        # a malignancy "not in remission" / "not having achieved remission" (ICD-10-CM C90-C95
        # titles, "Leukemia, not in remission") is active, not absent
        r"(?! (having |yet )?(achieved? |in )(complete |partial |full )?remission)"
        # a grade or a variant, not an absence ("Macular edema not clinically significant due to
        # diabetes mellitus", "endocarditis of left atrioventricular (not morphologically mitral)
        # valve"); what a disease is not due to is read in _says (NOT_CAUSED)
        r"(?! morphologically)(?! clinically significant)"
        # an asthma or COPD control finding ("Asthma not disturbing sleep", "COPD does not
        # disturb sleep", "Asthma not limiting activities") states the disease, with no symptom
        r"(?! (disturbing|disturb|limiting|limit|interfering with|interfere with) "
        r"(sleep|activit|daily|work|school|exercise))"
        r"|\bno evidence\b|\babsent\b|\bdenie[sd]\b"
        r"|" + NEGATIVE + r"|\bwithout evidence\b(?! of end[- ]organ)|\bunlikely\b",
        NEGATED_REASON,
    ),
    (
        r"\brisk\b(?! pregnancy)|\bfear of\b|\bworr(y|ied) about\b|\bsusceptibility\b"
        r"|\bpredisposition\b",
        RISK_REASON,
    ),
    (
        # "on diet only" is diet-treated disease, not a diet
        r"(?<!controlled by )\bdiet\b(?![- ]controlled)(?! only\b)(?! alone\b)"
        r"|deficient knowledge|\bmember\b|difficulty (following|coping)",
        "a diet, a membership or a knowledge finding is not the disease",
    ),
    (r"\bcontact with\b|\bexposure to\b|\bexposed to\b|\bcontact\b", "contact with X is not X"),
    (
        # a zoonosis named after its animal ("bovine tuberculosis", "eastern equine
        # encephalitis", "equine morbillivirus pneumonia") is the patient's
        r"\b(bovine|ovine|caprine|porcine|equine)\b"
        r"(?! (tuberculosis|encephal|morbillivirus|papular|spongiform|influenza))"
        r"|\bof (sheep|cattle|goats?|swine|pigs|horses)\b",
        "a disease of animals is not the patient's",
    ),
    (r"[- ]like\b|\bmimick?ing\b|\bpseudo-", LIKE_REASON),
    (
        r"\bpoisoning\b|\badverse effect\b|\bunderdosing\b|\boverdose\b",
        "a drug poisoning or adverse effect is not the disease",
    ),
    (
        # what follows an immunisation is a complication of it, not immunity ("Sepsis following
        # immunization" is a sepsis)
        r"(?<!following )(?<!after )(?<!due to )"
        r"(?:\bvaccination\b|\bimmunization\b|\bimmunisation\b|\bvaccine\b)"
        r"|\bimmune to\b|\bimmunity (to|against)\b|\bvaccinated\b|\bimmuni[sz]ed\b",
        "vaccination or immunity against X is not X",
    ),
    (WITHOUT.pattern, WITHOUT_REASON),
)
_LOOKALIKES = tuple((re.compile(p), why) for p, why in LOOKALIKES)
_LIKE = re.compile(r"[- ]like\b")
# the one hyphenated word an "-like" ends ("fms-like", "warthin-like", "bcr-abl1-like")
_LIKE_WORD = re.compile(r"[\w'/.-]+-like\b")
# "X-like" before a word for a kind of illness: the name of a look-alike ("lymphoma-like
# lesion", "sepsis-like syndrome", "skin cancer-like illness")
_LIKE_CLASS = re.compile(
    r"[- ]like (syndromes?|illness|diseases?|disorders?|lesions?|reactions?|conditions?"
    r"|pictures?|presentations?|eruptions?|rash|symptoms?|features?|changes?|patterns?|states?"
    r"|episodes?|phenomen(on|a)|process|tumou?rs?|proliferations?|infiltrat\w*|growths?"
    r"|nodules?|masses|mass|findings?|appearances?|course)\b"
)
_MIMIC = re.compile(r"\bmimick?ing\b|\bpseudo-")
_TAG = re.compile(r"^(.*) \(([^()]*)\)$")

# The semantic tags of SNOMED CT (International Edition editorial guide, "Semantic tags"; a
# closed list). Only these end a fully specified name; any other trailing parenthetical is part
# of the name and is read with it: "Alopecia areata (& ophiasis)", "Bronchiolitis (<1 year)",
# "Hypertension (malignant)" (a severity: malignancy's definition excludes it by meaning).
SEMANTIC_TAGS = frozenset(
    {
        "administrative concept",
        "assessment scale",
        "attribute",
        "basic dose form",
        "body structure",
        "cell",
        "cell structure",
        "clinical drug",
        "context-dependent category",
        "core metadata concept",
        "disorder",
        "disposition",
        "dose form",
        "environment",
        "environment / location",
        "ethnic group",
        "event",
        "finding",
        "foundation metadata concept",
        "geographic location",
        "inactive concept",
        "intended site",
        "life style",
        "link assertion",
        "linkage concept",
        "medicinal product",
        "medicinal product form",
        "metadata",
        "morphologic abnormality",
        "namespace concept",
        "navigational concept",
        "number",
        "observable entity",
        "occupation",
        "organism",
        "owl metadata concept",
        "person",
        "physical force",
        "physical object",
        "procedure",
        "product",
        "product name",
        "qualifier value",
        "racial group",
        "real clinical drug",
        "record artifact",
        "regime/therapy",
        "release characteristic",
        "religion/philosophy",
        "role",
        "situation",
        "social concept",
        "special concept",
        "specimen",
        "staging scale",
        "state of matter",
        "substance",
        "supplier",
        "transformation",
        "tumor staging",
        "unit of presentation",
    }
)


@dataclass(frozen=True)
class Definition:
    concept: str
    include: tuple[re.Pattern[str], ...]
    exclude: tuple[tuple[re.Pattern[str], str], ...]
    codes: frozenset[str]
    not_codes: Mapping[str, str]
    tags: tuple[str, ...]
    roots: tuple[Mapping[str, str], ...]
    allow: frozenset[str] = frozenset()


def split_tag(name: str) -> tuple[str, str]:
    """(name without its semantic tag, as written; the tag, case folded, or ""). Only a SNOMED
    CT semantic tag is a tag: "Hypertension (malignant)" keeps its parenthetical,
    "Rheumatoid arthritis (Disorder)" loses it."""
    m = _TAG.match(name.strip())
    if m and (tag := " ".join(m.group(2).split()).casefold()) in SEMANTIC_TAGS:
        return m.group(1), tag
    return name, ""


def fsn_parts(name: str) -> tuple[str, str]:
    """(name without its semantic tag, case folded and with single spaces; the tag, case
    folded, or ""), as `split_tag` reads them."""
    text, tag = split_tag(name)
    return " ".join(text.split()).casefold(), tag


def load_definitions(data: Mapping[str, Any]) -> dict[str, Definition]:
    """The `definition` table of every concept of conditions.toml."""
    out: dict[str, Definition] = {}
    for concept, table in data.items():
        if concept.startswith("_") or not isinstance(table, Mapping):
            continue
        d = table.get("definition")
        if not d:
            continue
        out[concept] = Definition(
            concept=concept,
            include=tuple(re.compile(p) for p in d.get("include", [])),
            exclude=tuple((re.compile(x["match"]), x["reason"]) for x in d.get("exclude", [])),
            codes=frozenset(str(c) for c in d.get("codes", [])),
            not_codes={str(x["code"]): x["reason"] for x in d.get("not_codes", [])},
            tags=tuple(d.get("tags", GPS_TAGS)),
            roots=tuple(d.get("snomed_roots", [])),
            allow=frozenset(d.get("allow", [])),
        )
    return out


def judge(
    defs: Mapping[str, Definition], text: str, tag: str, code: str | None = None
) -> tuple[set[str], list[tuple[str, str]]]:
    """Concepts whose definition takes a name (lower-case `text`, semantic `tag`; "" when the
    name carries none), and (concept, reason) of those whose include matched but an exclusion
    or a look-alike ruled it out."""
    hits: set[str] = set()
    excluded: list[tuple[str, str]] = []
    for concept, d in defs.items():
        if code is not None and code in d.not_codes:
            if code in d.codes or any(p.search(text) for p in d.include):
                excluded.append((concept, d.not_codes[code]))
            continue
        if code is not None and code in d.codes:
            hits.add(concept)
            continue
        if (tag and tag not in d.tags) or not any(p.search(text) for p in d.include):
            continue
        why = next((r for p, r in d.exclude if p.search(text)), None)
        if why is None:
            why = next(
                (r for p, r in _LOOKALIKES if r not in d.allow and _says(p, r, d, text)), None
            )
        if why is not None:
            excluded.append((concept, why))
            continue
        hits.add(concept)
    return hits, excluded


def _says(pattern: re.Pattern[str], reason: str, d: Definition, text: str) -> bool:
    """The look-alike `pattern` applies to the name. "X-like" qualifies what follows it: an
    "X-like lymphoma" (hydroa vacciniforme-like lymphoma) is a lymphoma, a "lymphoma-like
    lesion" is not; so when the concept is named after the last "-like", that look-alike does
    not apply. "Risk" that grades another finding (RISK_OF_ANOTHER) is no risk of X; a family
    history that qualifies the concept named before it (FAMILY_QUALIFIES) is no relative's X."""
    if reason == WITHOUT_REASON:
        cut = WITHOUT.search(text)
        if cut is None:
            return False
        end = WITHOUT_ENDS.search(text, cut.end())
        stop = end.start() if end else len(text)
        said = text[: cut.start()] + " | " + text[stop:]
        return any(p.search(text[cut.end() : stop]) for p in d.include) and not any(
            p.search(said) for p in d.include
        )
    if reason == RISK_REASON:
        text = RISK_OF_ANOTHER.sub(" ", text)
    if reason == NEGATED_REASON and (cut := NOT_CAUSED.search(text)):
        before, after = text[: cut.start()], text[cut.end() :]
        if any(p.search(before) for p in d.include) and not any(p.search(after) for p in d.include):
            text = before
    if reason == SCREENING_REASON and any(
        any(p.search(m.group(1)) for p in d.include) for m in SCREENING_IN.finditer(text)
    ):  # the screening is of the pregnancy this concept names: not a screening for it
        text = SCREENING_IN.sub(r"\1", text)
    if reason == FAMILY_REASON and (cut := FAMILY_QUALIFIES.search(text)):
        before = text[: cut.start()]
        if any(p.search(before) for p in d.include) and not pattern.search(before):
            text = before
    if not pattern.search(text):
        return False
    if reason != LIKE_REASON or _MIMIC.search(text):
        return True
    after = [m.end() for m in _LIKE.finditer(text)]
    if not after or not any(p.search(text, after[-1]) for p in d.include):
        # named only before the last "-like": an "X-like syndrome / illness / lesion..." is a
        # look-alike; otherwise the "-like" word qualifies another word, and the disease named
        # outside it is the patient's ("acute myeloid leukemia with FMS-like tyrosine kinase-3
        # mutation", "papillary carcinoma, Warthin-like", "pneumonia caused by
        # pleuropneumonia-like organism")
        if _LIKE_CLASS.search(text):
            return True
        rest = _LIKE_WORD.sub(" ", text)
        return not any(p.search(rest) for p in d.include)
    return False


def resolve(matched: Iterable[str], implies: Mapping[str, frozenset[str]]) -> str:
    """One concept id for a name or code several definitions claim: claims that another claim
    implies are dropped (a lymphoma is a malignancy); two or more left make a combination
    "a+b" that stands for all of them (DVT in pregnancy: "dvt+pregnancy")."""
    matched = set(matched)
    kept = sorted(c for c in matched if not any(c in implies.get(o, ()) for o in matched))
    return "+".join(kept)


@dataclass(frozen=True)
class NotACondition:
    """Names that state a concept's disease but record something else than the patient having
    it: a role, a department, an audit or study, a questionnaire, a quality indicator, an
    adverse reaction to a product (scope "any": every name), a review, letter, referral,
    or test (scope "untagged": a name without a semantic tag, a codelist's preferred term or a
    display as EHRs send it), a procedure (scope "codelist": a codelist's term, which the
    expansion builder reads). valuesets/conditions.toml [_not_a_condition]: one
    definition that the expansion builder (its review) and the run-time display reader
    (MeaningIndex.concepts_of) both read."""

    any_name: tuple[tuple[re.Pattern[str], str], ...] = ()
    untagged: tuple[tuple[re.Pattern[str], str], ...] = ()
    codelist: tuple[tuple[re.Pattern[str], str], ...] = ()

    def why(self, text: str, untagged: bool, codelist: bool = False) -> str | None:
        """The reason a name (case folded, its tag taken off; `untagged`: it carried none;
        `codelist`: a codelist's preferred term, read by the expansion builder) records no
        condition of the patient, or None."""
        scopes = (
            (self.any_name, self.untagged, self.codelist)
            if codelist
            else (self.any_name, self.untagged)
            if untagged
            else (self.any_name,)
        )
        for cues in scopes:
            for pattern, reason in cues:
                if pattern.search(text):
                    return reason
        return None


def load_not_a_condition(data: Mapping[str, Any]) -> NotACondition:
    """[_not_a_condition] of conditions.toml: cues = [{kind, scope, reason, match}]."""
    table = data.get("_not_a_condition", {})
    scopes: dict[str, list[tuple[re.Pattern[str], str]]] = {
        "any": [],
        "untagged": [],
        "codelist": [],
    }
    for cue in table.get("cues", []):
        scope = cue.get("scope")
        if scope not in scopes or not cue.get("reason") or not cue.get("kind"):
            raise KeyError(f"[_not_a_condition] cue {cue.get('kind')!r}: scope, kind, reason")
        scopes[scope].append((re.compile(cue["match"]), f"{cue['reason']} ({cue['kind']})"))
    if any(scopes.values()) and not str(table.get("source", "")).strip():
        raise KeyError("[_not_a_condition]: missing source")
    return NotACondition(*(tuple(scopes[s]) for s in ("any", "untagged", "codelist")))


# A Read morphology term ("[M]Malignant lymphoma, diffuse NOS"), one named the way SNOMED CT
# names its morphologic abnormalities after ICD-O ("Thymoma, malignant", "Carcinoma,
# metastatic", "Spindle cell melanoma, type A") or one that says so ("Low grade B-cell lymphoma
# morphology") names a histology: it is read as a (morphologic abnormality), i.e. only by the
# definitions that read morphologies (a malignant neoplasm's histology is that malignancy;
# MORPHOLOGY_TAG in knowledge/meaning.py). SNOMED CT names a morphology without a subtype
# "Choriocarcinoma, no International Classification of Diseases for Oncology subtype" (or "...,
# no ICD-O subtype", "..., no subtype"): that "no" says which histology, not that it is absent.
UNTAGGED_MORPHOLOGY = re.compile(
    r"^\[m\]|^tumou?r cells\b|\bmorphology\b"
    r"|, (malignant|anaplastic|metastatic|undifferentiated|intermediate|trophoblastic)$"
    r"|, no (international classification of diseases for oncology |icd-o )?subtype$"
    r"|, (diffuse|intestinal|small cell|giant cell|fusiform cell|pleomorphic cell|stem cell"
    r"|b-cell|t-cell|t cell and null cell) type$|, type [ab]$"
)
UNEVEN_ALTERNATIVES = (
    "a term naming alternatives ('(A) or (B)') is not taken: not every alternative means it"
)
# a Read term's synonyms, "(& [carcinoma])": what the term also covers, so not evidence of it
_READ_SYNONYMS = re.compile(r"\s*\(&[^()]*\)")
_ALTERNATIVES = re.compile(r"\)\s*(?:&/)?or\s*\(")


def judge_untagged(
    defs: Mapping[str, Definition], whole: str, code: str | None = None, tag: str = ""
) -> tuple[set[str], list[tuple[str, str]]]:
    """judge() for a term without a semantic tag (the expansion builder's classify_untagged, and
    a display read at run time): a trailing parenthetical is part of the term, a Read synonym
    "(& ...)" is not evidence, and a term naming alternatives "(A) or (B)" means a concept only
    if every alternative means it; `tag` is the one the term's form implies (MORPHOLOGY_TAG for
    a histology), else ""."""
    if whole.startswith("(") and _ALTERNATIVES.search(whole):
        parts = [p.strip("()[] ") for p in _ALTERNATIVES.split(whole)]
        judged = [judge(defs, p, tag, code) for p in parts]
        excluded = [e for _, ex in judged for e in ex]
        common = set.intersection(*(h for h, _ in judged))
        named = set().union(*(h for h, _ in judged))
        excluded += [(c, UNEVEN_ALTERNATIVES) for c in sorted(named - common)]
        return common - {c for c, _ in excluded}, excluded
    head = " ".join(_READ_SYNONYMS.sub(" ", fsn_parts(whole)[0]).split())
    hits, excluded = judge(defs, head, tag, code)
    if head != whole:
        _, more = judge(defs, whole, tag, code)
        excluded += [(c, why) for c, why in more if (c, why) not in excluded]
        hits -= {c for c, _ in more}
    return hits, excluded


# a Japanese or Chinese name: kana or CJK ideographs (after NFKC, full-width letters are ASCII)
CJK_TEXT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class CjkMeaning:
    """[_cjk_meaning] of conditions.toml: how a Japanese or Chinese condition name means a
    concept. Such names are compounds without word boundaries (a site, laterality, stage or
    organism written into the disease's name: 右下葉肺癌, 関節リウマチ・肩関節, 下壁心筋梗塞), so
    each concept lists the stems that name its disease wherever they stand (`include`) and the
    compounds that name something else (`exclude`, each with its reason); `cues` are the
    look-alikes every name is reviewed against (suspected, family history, screening, negated,
    vaccination, contact, a history, sequela or post-treatment state, a newborn's condition)."""

    cues: tuple[tuple[re.Pattern[str], str], ...] = ()
    concepts: tuple[tuple[str, re.Pattern[str], tuple[tuple[re.Pattern[str], str], ...]], ...] = ()

    def hits(self, text: str) -> set[str]:
        """Concepts a Japanese or Chinese name (normalised text) means; none when a cue says
        the name does not assert a current condition."""
        if any(p.search(text) for p, _ in self.cues):
            return set()
        return {
            concept
            for concept, include, exclude in self.concepts
            if include.search(text) and not any(p.search(text) for p, _ in exclude)
        }


def load_cjk_meaning(data: Mapping[str, Any]) -> CjkMeaning:
    """[_cjk_meaning] of conditions.toml: source, cues = [{match, reason}] and one table per
    concept with include = [patterns] and exclude = [{match, reason}]."""
    table = data.get("_cjk_meaning", {})
    if not table:
        return CjkMeaning()
    if not str(table.get("source", "")).strip():
        raise KeyError("[_cjk_meaning]: missing source")

    def reasoned(items: Any, where: str) -> tuple[tuple[re.Pattern[str], str], ...]:
        out = []
        for item in items:
            if not item.get("match") or not item.get("reason"):
                raise KeyError(f"[_cjk_meaning]{where}: each entry needs match and reason")
            out.append((re.compile(item["match"]), str(item["reason"])))
        return tuple(out)

    concepts = []
    for concept, spec in table.items():
        if not isinstance(spec, Mapping):
            continue
        if concept not in data:
            raise KeyError(f"[_cjk_meaning.{concept}]: unknown concept")
        include = spec.get("include") or []
        if not include:
            raise KeyError(f"[_cjk_meaning.{concept}]: include patterns")
        concepts.append(
            (
                concept,
                re.compile("|".join(f"(?:{p})" for p in include)),
                reasoned(spec.get("exclude", []), f".{concept}.exclude"),
            )
        )
    return CjkMeaning(reasoned(table.get("cues", []), ".cues"), tuple(concepts))


@dataclass
class MeaningIndex:
    """The definitions, compiled once at start, for displays of unknown codes."""

    definitions: dict[str, Definition] = field(default_factory=dict)
    implies: dict[str, frozenset[str]] = field(default_factory=dict)
    not_a_condition: NotACondition = field(default_factory=NotACondition)
    cjk: CjkMeaning = field(default_factory=CjkMeaning)
    # every include pattern in one: most displays (fractures, allergies...) fail it at once
    _any: re.Pattern[str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        patterns = [p.pattern for d in self.definitions.values() for p in d.include]
        self._any = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    def concepts_of(self, name: str, tag: str | None = None) -> str | None:
        """Concept id (or combination "a+b") that a SNOMED CT style name means, or None.
        `tag`: the semantic tag the name was sent with, when the caller took it off (a
        "(procedure)" is no disorder); "" for a name sent without one. A name without a tag is
        read as the expansion builder reads a codelist's preferred term (judge_untagged:
        alternatives "(A) or (B)", Read synonyms). A name that records something else than the
        patient's condition (a role, a department, an audit, a questionnaire, a quality
        indicator, a reaction to a product; without a tag also a review, letter, referral,
        education, or a test without a result that asserts the condition: NotACondition)
        means no concept. A Japanese or Chinese name is read by [_cjk_meaning] (CjkMeaning)."""
        text, own = fsn_parts(name)
        tag = own if tag is None or own else tag
        if self.cjk.concepts and CJK_TEXT.search(text):
            found = self.cjk.hits(text)
            return resolve(found, self.implies) if found else None
        if len(text) < 4 or self._any is None or not self._any.search(text):
            return None
        if self.not_a_condition.why(text, not tag) is not None:
            return None
        if tag:
            hits, _ = judge(self.definitions, text, tag)
        else:
            hits, _ = judge_untagged(self.definitions, text)
        return resolve(hits, self.implies) if hits else None
