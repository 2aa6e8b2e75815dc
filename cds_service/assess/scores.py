"""Disease activity scores of clinical/SPEC.md §1 as pure functions.

One function per formula. Inputs are in the canonical units of knowledge/concepts.toml (joint
counts, VAS in mm 0-100, ESR in mm/h, CRP in mg/L, morning stiffness in minutes); each function
converts what its formula needs (CRP mg/L -> mg/dL, VAS mm -> 0-10) with the factors of
knowledge/scores.toml. Coefficients, cut-offs and input limits live in knowledge/scores.toml;
`ScoreSpecs` is that file read once. A value outside its limits raises `InvalidInput` naming the
component and the reason (never the value: reasons may end up in logs).

Functions return the unrounded value; `categorise()` rounds to the score's decimals first, so
the figure a clinician sees is the figure that was categorised. Rounding is half up on the value
as written (9.35 -> 9.4), as a clinician rounds: round() keeps the binary 9.35 (9.3499...) at
9.3, which hid a PMR flare (PMR-AS >= 9.35, Binard 2008) and read SDAI 3.35 as remission.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from cds_service.knowledge import Knowledge, KnowledgeError, load_knowledge

SCORE_IDS = (
    "DAS28-ESR",
    "DAS28-CRP",
    "DAS28-ESR-3",
    "DAS28-CRP-3",
    "CDAI",
    "SDAI",
    "EULAR-RESPONSE",
    "PMR-AS-CRP",
    "PMR-AS-ESR",
    "PMR-FLARE",
)


class InvalidInput(ValueError):
    """An input is out of range (or missing); the score is not computed."""

    def __init__(self, component: str, reason: str) -> None:
        super().__init__(f"{component}: {reason}")
        self.component = component
        self.reason = f"{component} {reason}"


@dataclass(frozen=True)
class Band:
    category: str
    upper: float | None  # None: open-ended last band
    inclusive: bool = True


@dataclass(frozen=True)
class Limit:
    low: float
    high: float
    integer: bool = False
    low_exclusive: bool = False


@dataclass(frozen=True)
class ScoreSpecs:
    """knowledge/scores.toml, parsed and checked once."""

    limits: Mapping[str, Limit]
    coef: Mapping[str, Mapping[str, float]]
    bands: Mapping[str, tuple[Band, ...]]
    decimals: Mapping[str, int]
    enabled: Mapping[str, bool]
    sources: Mapping[str, str]
    eular: Mapping[str, Any]
    flare: Mapping[str, Any]
    visit: Mapping[str, Any]
    crp_mg_dl_per_mg_l: float
    vas_cm_per_mm: float


def specs_from_table(data: Mapping[str, Any]) -> ScoreSpecs:
    """Build ScoreSpecs from the parsed scores.toml; raise KnowledgeError when it is broken."""
    try:
        limits = {
            name: Limit(
                low=float(item["min"]),
                high=float(item["max"]),
                integer=bool(item.get("integer", False)),
                low_exclusive=bool(item.get("min_exclusive", False)),
            )
            for name, item in data["limits"].items()
        }
        coef: dict[str, dict[str, float]] = {}
        bands: dict[str, tuple[Band, ...]] = {}
        decimals: dict[str, int] = {}
        enabled: dict[str, bool] = {}
        sources: dict[str, str] = {}
        for score_id in SCORE_IDS:
            table = data[score_id]
            enabled[score_id] = bool(table.get("enabled", True))
            sources[score_id] = str(table["source"])
            if "coef" in table:
                coef[score_id] = {k: float(v) for k, v in table["coef"].items()}
            if "bands" in table:
                parsed = tuple(
                    Band(b["category"], b.get("upper"), bool(b.get("inclusive", True)))
                    for b in table["bands"]
                )
                if parsed[-1].upper is not None or any(b.upper is None for b in parsed[:-1]):
                    raise KnowledgeError(f"scores.toml {score_id}: only the last band is open")
                bands[score_id] = parsed
                decimals[score_id] = int(table.get("decimals", 2))
        return ScoreSpecs(
            limits=limits,
            coef=coef,
            bands=bands,
            decimals=decimals,
            enabled=enabled,
            sources=sources,
            eular=dict(data["EULAR-RESPONSE"]),
            flare=dict(data["PMR-FLARE"]),
            visit=dict(data["visit"]),
            crp_mg_dl_per_mg_l=float(data["units"]["crp_mg_dl_per_mg_l"]),
            vas_cm_per_mm=float(data["units"]["vas_cm_per_mm"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, KnowledgeError):
            raise
        raise KnowledgeError(f"scores.toml: missing or invalid entry {exc}") from exc


_SPECS_BY_KNOWLEDGE: dict[int, tuple[Knowledge, ScoreSpecs]] = {}


def score_specs(knowledge: Knowledge) -> ScoreSpecs:
    """ScoreSpecs of a loaded Knowledge, computed once per Knowledge object."""
    hit = _SPECS_BY_KNOWLEDGE.get(id(knowledge))
    if hit is not None and hit[0] is knowledge:
        return hit[1]
    if "scores" not in knowledge.files:
        raise KnowledgeError("scores.toml missing from the knowledge folder")
    specs = specs_from_table(knowledge.files["scores"])
    _SPECS_BY_KNOWLEDGE[id(knowledge)] = (knowledge, specs)
    return specs


@cache
def default_specs() -> ScoreSpecs:
    """The packaged scores.toml (for callers without a Knowledge at hand, e.g. tests)."""
    return score_specs(load_knowledge())


def _specs(specs: ScoreSpecs | None) -> ScoreSpecs:
    return specs if specs is not None else default_specs()


def check(component: str, value: float | int | None, specs: ScoreSpecs | None = None) -> float:
    """Return `value` as float if it is within the limits of `component`, else raise."""
    limit = (specs or default_specs()).limits[component]
    if (
        type(value) is float
        and limit.low < value <= limit.high  # the usual: within the limits (NaN: False)
        and (not limit.integer or value.is_integer())
    ):
        return value
    if value is None:
        raise InvalidInput(component, "missing")
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidInput(component, "not a number")
    v = float(value)
    if limit.integer and not v.is_integer():
        raise InvalidInput(component, "must be a whole number")
    if v < limit.low or (limit.low_exclusive and v == limit.low):
        op = ">" if limit.low_exclusive else ">="
        raise InvalidInput(component, f"must be {op} {limit.low:g}")
    if v > limit.high:
        raise InvalidInput(component, f"must be <= {limit.high:g}")
    return v


def round_half_up(value: float, decimals: int) -> float:
    """`value` rounded half up to `decimals`, after float noise below 1e-9 is dropped:
    9.35 -> 9.4, 11.05 -> 11.1, 2.5995 -> 2.6, 3.1998 -> 3.2. A value no score reaches
    (infinite, or beyond 1e12) is left to round()."""
    if 0.0 < value < 1e6 and 0 <= decimals <= 2:
        # the usual score: value·10**decimals (below 1e8, off by < 2e-8) lies within 0.5e-7
        # of the 9 decimals written below; unless its fraction is within 1e-6 of one half,
        # both round to the same integer, so the digits need not be written
        scaled = value * _SCALES[decimals]
        whole = int(scaled)
        fraction = scaled - whole
        if not _NEAR_HALF_LOW < fraction < _NEAR_HALF_HIGH:
            return (whole + 1 if fraction > 0.5 else whole) / _SCALES[decimals]
    if not math.isfinite(value) or abs(value) >= 1e12:
        return round(value, decimals)
    text = f"{value:.9f}"
    if not 0 <= decimals <= 9:
        step = Decimal(1).scaleb(-decimals)
        return float(Decimal(text).quantize(step, rounding=ROUND_HALF_UP))
    # the same as Decimal(text).quantize(...) in integers: the 9 decimals written are
    # |value| * 10**9; half a step is added and the rest dropped (ties away from zero)
    digits = text.replace(".", "")
    negative = digits[0] == "-"
    step = _STEPS[decimals]
    kept = (int(digits[1:] if negative else digits) + step // 2) // step
    # kept / 10**decimals is the float nearest kept·10**-decimals (int true division rounds
    # correctly), the float that float(f"{kept}e-{decimals}") reads
    shown = kept / _SCALES[decimals]
    return -shown if negative else shown


_STEPS = tuple(10 ** (9 - decimals) for decimals in range(10))
_SCALES = tuple(10**decimals for decimals in range(10))
_NEAR_HALF_LOW, _NEAR_HALF_HIGH = 0.5 - 1e-6, 0.5 + 1e-6


def categorise(score_id: str, value: float, specs: ScoreSpecs | None = None) -> str:
    """Category of a score value: the first band whose upper bound the rounded value meets.

    Rounds to the score's decimals first (knowledge/scores.toml), so 2.599 shown as "2.60"
    is "low", not "remission" (DAS28 remission is < 2.6).
    """
    s = _specs(specs)
    return category_of_shown(score_id, round_half_up(value, s.decimals[score_id]), s)


def category_of_shown(score_id: str, v: float, specs: ScoreSpecs | None = None) -> str:
    """Category of a value rounded already to the score's decimals (`round_score`)."""
    s = _specs(specs)
    for band in s.bands[score_id]:
        if band.upper is None:
            return band.category
        if v < band.upper or (band.inclusive and v == band.upper):
            return band.category
    raise AssertionError("unreachable: last band is open")  # pragma: no cover


def round_score(score_id: str, value: float, specs: ScoreSpecs | None = None) -> float:
    return round_half_up(value, _specs(specs).decimals[score_id])


def _joints(tjc28: float, sjc28: float, s: ScoreSpecs) -> tuple[float, float]:
    return check("tjc28", tjc28, s), check("sjc28", sjc28, s)


def das28_esr(
    tjc28: float, sjc28: float, esr: float, ptga_mm: float, specs: ScoreSpecs | None = None
) -> float:
    """DAS28-ESR = 0.56·√TJC28 + 0.28·√SJC28 + 0.70·ln(ESR mm/h) + 0.014·PtGA (0-100 mm).

    Source: Prevoo 1995, Arthritis Rheum 38:44-48; das-score.nl; seed 000 table 1 (whose text
    lost the square roots). ESR 0 is rejected (no logarithm).
    """
    s = _specs(specs)
    c = s.coef["DAS28-ESR"]
    t, w = _joints(tjc28, sjc28, s)
    e = check("esr", esr, s)
    g = check("ptga_mm", ptga_mm, s)
    return (
        c["tjc28"] * math.sqrt(t)
        + c["sjc28"] * math.sqrt(w)
        + c["ln_esr"] * math.log(e)
        + c["ptga_mm"] * g
        + c["constant"]
    )


def das28_crp(
    tjc28: float, sjc28: float, crp_mg_l: float, ptga_mm: float, specs: ScoreSpecs | None = None
) -> float:
    """DAS28-CRP = 0.56·√TJC28 + 0.28·√SJC28 + 0.36·ln(CRP mg/L + 1) + 0.014·PtGA + 0.96.

    Source: Fransen/Wells 2009 (Wells G et al., Ann Rheum Dis 68:954-960); das-score.nl
    DAS28-CRP(4). CRP in mg/L (the canonical unit).
    """
    s = _specs(specs)
    c = s.coef["DAS28-CRP"]
    t, w = _joints(tjc28, sjc28, s)
    r = check("crp", crp_mg_l, s)
    g = check("ptga_mm", ptga_mm, s)
    return (
        c["tjc28"] * math.sqrt(t)
        + c["sjc28"] * math.sqrt(w)
        + c["ln_crp_plus_1"] * math.log(r + 1.0)
        + c["ptga_mm"] * g
        + c["constant"]
    )


def das28_esr_3(tjc28: float, sjc28: float, esr: float, specs: ScoreSpecs | None = None) -> float:
    """DAS28-ESR-3 = [0.56·√TJC28 + 0.28·√SJC28 + 0.70·ln ESR]·1.08 + 0.16 (no PtGA).

    Source: das-score.nl "alternative validated formulae", DAS28(3) (checked 2026-11-23).
    """
    s = _specs(specs)
    c = s.coef["DAS28-ESR-3"]
    t, w = _joints(tjc28, sjc28, s)
    e = check("esr", esr, s)
    core = c["tjc28"] * math.sqrt(t) + c["sjc28"] * math.sqrt(w) + c["ln_esr"] * math.log(e)
    return core * c["multiplier"] + c["constant"]


def das28_crp_3(
    tjc28: float, sjc28: float, crp_mg_l: float, specs: ScoreSpecs | None = None
) -> float:
    """DAS28-CRP-3 = [0.56·√TJC28 + 0.28·√SJC28 + 0.36·ln(CRP mg/L + 1)]·1.10 + 1.15.

    Source: das-score.nl "alternative validated formulae", DAS28-CRP(3) (checked 2026-11-23).
    """
    s = _specs(specs)
    c = s.coef["DAS28-CRP-3"]
    t, w = _joints(tjc28, sjc28, s)
    r = check("crp", crp_mg_l, s)
    core = (
        c["tjc28"] * math.sqrt(t)
        + c["sjc28"] * math.sqrt(w)
        + c["ln_crp_plus_1"] * math.log(r + 1.0)
    )
    return core * c["multiplier"] + c["constant"]


def cdai(
    tjc28: float, sjc28: float, ptga_mm: float, prga_mm: float, specs: ScoreSpecs | None = None
) -> float:
    """CDAI = TJC28 + SJC28 + PtGA (0-10) + PrGA (0-10); range 0-76.

    Source: Aletaha 2005, Arthritis Res Ther 7:R796; seed 000 table 1. The global assessments
    arrive as 0-100 mm and are divided by 10.
    """
    s = _specs(specs)
    t, w = _joints(tjc28, sjc28, s)
    pt = check("ptga_mm", ptga_mm, s) * s.vas_cm_per_mm
    pr = check("prga_mm", prga_mm, s) * s.vas_cm_per_mm
    return t + w + pt + pr


def sdai(
    tjc28: float,
    sjc28: float,
    ptga_mm: float,
    prga_mm: float,
    crp_mg_l: float,
    specs: ScoreSpecs | None = None,
) -> float:
    """SDAI = TJC28 + SJC28 + PtGA (0-10) + PrGA (0-10) + CRP (mg/dL).

    Source: Smolen 2003, Rheumatology 42:244-257 (formula); Aletaha 2005 (cut-offs); seed 000.
    CRP arrives in mg/L (canonical) and is divided by 10: adding mg/L would inflate SDAI tenfold.
    """
    s = _specs(specs)
    r = check("crp", crp_mg_l, s) * s.crp_mg_dl_per_mg_l
    return cdai(tjc28, sjc28, ptga_mm, prga_mm, s) + r


def _pmr_common(
    pain_mm: float,
    physician_mm: float,
    stiffness_min: float,
    elevation: float,
    c: Mapping[str, float],
    s: ScoreSpecs,
) -> float:
    p = check("patient_pain_mm", pain_mm, s) * s.vas_cm_per_mm
    d = check("prga_mm", physician_mm, s) * s.vas_cm_per_mm
    m = check("morning_stiffness_min", stiffness_min, s)
    e = check("elevation_upper_limbs", elevation, s)
    return (
        c["pain_vas_0_10"] * p
        + c["physician_vas_0_10"] * d
        + c["morning_stiffness_min"] * m
        + c["elevation_upper_limbs"] * e
    )


def pmr_as_crp(
    crp_mg_l: float,
    pain_mm: float,
    physician_mm: float,
    stiffness_min: float,
    elevation: float,
    specs: ScoreSpecs | None = None,
) -> float:
    """CRP PMR-AS = CRP (mg/dL) + pain VAS (0-10) + physician VAS (0-10) + MST·0.1 + EUL (0-3).

    Source: Leeb & Bird 2004, Ann Rheum Dis 63:1279-1283; cut-offs Leeb 2007; seed 004.
    EUL: 0 above shoulder girdle, 1 up to, 2 below, 3 none. CRP mg/L is divided by 10.
    """
    s = _specs(specs)
    c = s.coef["PMR-AS-CRP"]
    r = check("crp", crp_mg_l, s) * s.crp_mg_dl_per_mg_l
    return c["crp_mg_dl"] * r + _pmr_common(pain_mm, physician_mm, stiffness_min, elevation, c, s)


def pmr_as_esr(
    esr: float,
    pain_mm: float,
    physician_mm: float,
    stiffness_min: float,
    elevation: float,
    specs: ScoreSpecs | None = None,
) -> float:
    """ESR PMR-AS = ESR (mm/h)·0.1 + pain VAS (0-10) + physician VAS (0-10) + MST·0.1 + EUL.

    Source: SPEC.md marks this form *verify*; used in the SEMAPHORE post hoc analysis (RMD Open
    2024) and as a BACHELOR secondary endpoint (seed 004). Ships disabled in scores.toml until
    checked against a primary source. ESR 0 is allowed here (no logarithm) but checked >= 0.
    """
    s = _specs(specs)
    c = s.coef["PMR-AS-ESR"]
    if isinstance(esr, int | float) and not isinstance(esr, bool) and esr <= 0:
        if esr < 0:
            raise InvalidInput("esr", "must be >= 0")
        e = 0.0
    else:
        e = check("esr", esr, s)
    return c["esr"] * e + _pmr_common(pain_mm, physician_mm, stiffness_min, elevation, c, s)


def eular_response(
    baseline_das28: float, current_das28: float, specs: ScoreSpecs | None = None
) -> str:
    """EULAR response (DAS28 version): "good" | "moderate" | "none".

    good: improvement > 1.2 and current <= 3.2; moderate: improvement > 1.2 and current > 3.2,
    or improvement > 0.6 and <= 1.2 with current <= 5.1; none otherwise.
    Source: van Gestel 1998, Arthritis Rheum 41:1845-1850; das-score.nl; seed 002.
    Both scores are rounded to 2 decimals (as shown) before the improvement is taken.
    """
    s = _specs(specs)
    p = s.eular
    base = round(check("das28", baseline_das28, s), 2)
    cur = round(check("das28", current_das28, s), 2)
    improvement = round(base - cur, 2)
    if improvement > p["good_improvement"]:
        return "good" if cur <= p["good_current_max"] else "moderate"
    if improvement > p["moderate_improvement"] and cur <= p["moderate_current_max"]:
        return "moderate"
    return "none"


def pmr_flare(current: float, previous: float | None, specs: ScoreSpecs | None = None) -> str:
    """PMR flare from CRP PMR-AS: "yes" | "no" | "indeterminate".

    yes: current >= 9.35, or current - previous >= 6.6 (Binard 2008; seed 004 writes ">").
    Without a previous score the rise is unknown: "no" only when the current score is below
    6.6 (no rise from a non-negative score could reach 6.6), otherwise "indeterminate".
    """
    s = _specs(specs)
    p = s.flare
    cur = round(current, 2)
    if cur >= p["score_min"]:
        return "yes"
    if previous is None:
        return "no" if cur < p["delta_min"] else "indeterminate"
    return "yes" if round(cur - round(previous, 2), 2) >= p["delta_min"] else "no"
