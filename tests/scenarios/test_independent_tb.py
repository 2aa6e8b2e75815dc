"""Independent clinical scenarios (issue 14): latent tuberculosis marked as treated by a
latent-TB regimen drug (isoniazid, rifampicin/rifampin, rifapentine), coded by RxNorm, ATC or
named in English, Japanese or Chinese; a stopped or erroneous course is not treatment; missing,
old or indeterminate tests are "order IGRA", never "no risk".

Sources: Sterling TR et al., Guidelines for the treatment of latent tuberculosis infection:
recommendations from the NTCA and CDC, 2020 (MMWR Recomm Rep 2020;69(1):1-11) for the regimens
3HP, 4R, 3HR, 6H/9H; the JAK-inhibitor labels (XELJANZ USPI 5.1 / SmPC 4.4: test for latent TB
before starting, treat it before use) for the rule itself."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios.chart import (
    ATC,
    ICD10CM,
    NEGATIVE,
    POSITIVE,
    RX,
    SCT,
    Scenario,
    add,
    check,
    coded,
    condition,
    days_ago,
    medication,
    quantity,
    tofacitinib,
    upadacitinib,
)

NTCA = (
    "Sterling 2020 (NTCA/CDC LTBI guidelines, MMWR Recomm Rep 69(1)): 3HP, 4R, 3HR, 6H/9H regimens"
)
LABEL = "XELJANZ USPI 5.1 / SmPC 4.4: test for latent TB; treat latent TB before starting"
INDETERMINATE = (
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
    "IND",
    "Indeterminate",
)


def _course(
    coding: list[tuple[str, str, str]] | None,
    text: str,
    *,
    status: str = "active",
    started_days_ago: int = 30,
) -> dict[str, Any]:
    med = medication(coding, text=text, dose_mg=300, status=status)
    med["authoredOn"] = days_ago(started_days_ago)
    return med


def _positive_igra(*meds: dict[str, Any], days: int = 40, conditions=()) -> Any:
    return add(
        drop_obs=("71773-6",),
        observations=[coded("71773-6", POSITIVE, days=days)],
        medications=list(meds),
        conditions=list(conditions),
    )


ISONIAZID_RX = [(RX, "197832", "isoniazid 300 MG Oral Tablet")]
RIFAMPIN_RX = [(RX, "198202", "Rifampin 300 MG Oral Capsule")]
RIFAPENTINE_RX = [(RX, "242671", "rifapentine 150 MG Oral Tablet")]

SCENARIOS = [
    Scenario(
        "positive IGRA, no latent-TB treatment: treat latent TB first",
        _positive_igra(),
        fires={"JAKI-TB-SCREEN": "warning"},
        source=LABEL,
    ),
    Scenario(
        "positive IGRA, isoniazid (RxNorm) started a month ago",
        _positive_igra(_course(ISONIAZID_RX, "isoniazid 300 mg daily")),
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, isoniazid coded by ATC J04AC01 only",
        _positive_igra(_course([(ATC, "J04AC01", "isoniazid")], "INH")),
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, rifampicin ATC J04AB02 (4R)",
        _positive_igra(_course([(ATC, "J04AB02", "rifampicin")], "rifampicin 600 mg")),
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, rifampin (RxNorm) 4R with tofacitinib: treated, strong CYP3A4 inducer",
        _positive_igra(_course(RIFAMPIN_RX, "rifampin 600 mg daily")),
        (tofacitinib(),),
        region="US",
        fires={"JAKI-DDI": "warning"},
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA + "; XELJANZ USPI 7 (strong CYP3A4 inducers: not recommended)",
    ),
    Scenario(
        "positive IGRA, 3HP: rifapentine ATC J04AB05 with isoniazid weekly",
        _positive_igra(
            _course([(ATC, "J04AB05", "rifapentine")], "rifapentine 900 mg weekly"),
            _course([(ATC, "J04AC01", "isoniazid")], "isoniazid 900 mg weekly"),
        ),
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, rifapentine by RxNorm (Priftin)",
        _positive_igra(_course(RIFAPENTINE_RX, "Priftin 150 mg tablets")),
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, イソニアジド (text only, Japanese hospital)",
        _positive_igra(_course(None, "イスコチン錠100mg (イソニアジド) 3錠 分1")),
        region="JP",
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, リファンピシン (text only)",
        _positive_igra(_course(None, "リファンピシンカプセル150mg 4カプセル")),
        region="JP",
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, 异烟肼 (text only, mainland China)",
        _positive_igra(_course(None, "异烟肼片 0.3g 每日一次")),
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, 利福平 (text only, Taiwan)",
        _positive_igra(_course(None, "利福平膠囊 300 毫克")),
        region="TW",
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, ヒドラ錠 (an isoniazid brand in Japan, text only)",
        _positive_igra(_course(None, "ヒドラ錠「オーツカ」50mg 6錠 分1")),
        region="JP",
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA + "; PMDA: ヒドラ錠「オーツカ」50mg (イソニアジド)",
    ),
    Scenario(
        "positive IGRA, hydralazine (ヒドララジン) is not isoniazid",
        _positive_igra(_course(None, "ヒドララジン塩酸塩錠25mg")),
        region="JP",
        fires={"JAKI-TB-SCREEN": "warning"},
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, Rifinah (rifampicin + isoniazid, 3HR) with tofacitinib",
        _positive_igra(_course(None, "Rifinah 300/150 tablets, two daily")),
        (tofacitinib(),),
        region="US",
        fires={"JAKI-DDI": "warning"},
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA + "; XELJANZ USPI 7 (strong CYP3A4 inducers)",
    ),
    Scenario(
        "positive IGRA, isoniazid course completed two years ago",
        _positive_igra(
            _course(ISONIAZID_RX, "isoniazid 300 mg", status="completed", started_days_ago=900),
            days=40,
        ),
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, isoniazid stopped after two weeks: not treated",
        _positive_igra(_course(ISONIAZID_RX, "isoniazid 300 mg", status="stopped")),
        fires={"JAKI-TB-SCREEN": "warning"},
        source=NTCA,
    ),
    Scenario(
        "positive IGRA, isoniazid entered in error: not treated",
        _positive_igra(_course(ISONIAZID_RX, "isoniazid 300 mg", status="entered-in-error")),
        fires={"JAKI-TB-SCREEN": "warning"},
        source=NTCA,
    ),
    Scenario(
        "latent TB (ICD-10-CM Z22.7) on rifampin",
        add(
            conditions=[condition(ICD10CM, "Z22.7", "Latent tuberculosis")],
            medications=[_course(RIFAMPIN_RX, "rifampin 600 mg")],
        ),
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA,
    ),
    Scenario(
        "latent TB (SNOMED 11999007) without treatment",
        add(conditions=[condition(SCT, "11999007", "Latent tuberculosis infection")]),
        fires={"JAKI-TB-SCREEN": "warning"},
        source=LABEL,
    ),
    Scenario(
        "TST 10 mm, no treatment: positive",
        add(drop_obs=("71773-6",), observations=[quantity("1648-5", 10, "mm")]),
        fires={"JAKI-TB-SCREEN": "warning"},
        source=LABEL + "; CDC: TST >= 5 mm positive on immunosuppression",
    ),
    Scenario(
        "negative IGRA 13 months ago: order a new one",
        add(drop_obs=("71773-6",), observations=[coded("71773-6", NEGATIVE, days=400)]),
        fires={"JAKI-TB-SCREEN": "warning"},
        source=LABEL,
    ),
    Scenario(
        "indeterminate IGRA only: order a new one, never 'no risk'",
        add(drop_obs=("71773-6",), observations=[coded("71773-6", INDETERMINATE)]),
        fires={"JAKI-TB-SCREEN": "warning"},
        source=LABEL,
    ),
]


# One order or statement whose text names two drugs (a 3HR course written out, a combination
# product): it counts for each drug it names, so the rifampicin is a strong CYP3A4 inducer for
# the interaction check as well as a latent-TB treatment.
DDI_LABEL = "XELJANZ USPI 7 / RINVOQ USPI 7 (strong CYP3A4 inducers: not recommended)"
SCENARIOS += [
    Scenario(
        f"positive IGRA, one order '{text}' with tofacitinib: treated, rifampicin interacts",
        _positive_igra(_course(coding, text)),
        (tofacitinib(),),
        region="US",
        fires={"JAKI-DDI": "warning"},
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA + "; " + DDI_LABEL,
    )
    for coding, text in (
        (None, "isoniazid 300 mg + rifampicin 600 mg"),
        (ISONIAZID_RX, "isoniazid 300 mg + rifampicin 600 mg daily (3HR)"),
        ([(RX, "6038", "isoniazid")], "isoniazid/rifampin 150/300 mg, two capsules"),
        (None, "异烟肼 0.3g + 利福平 0.45g 每日一次"),
        (None, "イソニアジド錠100mg 3錠、リファンピシンカプセル150mg 4カプセル"),
    )
]
_COMBINATION_CODE = _course([(ATC, "J04AM02", "")], "3HR tablets, two daily")
del _COMBINATION_CODE["medicationCodeableConcept"]["coding"][0]["display"]  # the code alone
SCENARIOS += [
    Scenario(
        "positive IGRA, ATC J04AM02 (rifampicin and isoniazid) code alone with tofacitinib",
        _positive_igra(_COMBINATION_CODE),
        (tofacitinib(),),
        region="US",
        fires={"JAKI-DDI": "warning"},
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA + "; WHO ATC J04AM02; " + DDI_LABEL,
    ),
    Scenario(
        "positive IGRA, 'isoniazid 300 mg + rifampin 600 mg' with upadacitinib",
        _positive_igra(_course(None, "isoniazid 300 mg + rifampin 600 mg")),
        (upadacitinib(15),),
        region="US",
        fires={"JAKI-DDI": "warning"},
        quiet=("JAKI-TB-SCREEN",),
        source=NTCA + "; " + DDI_LABEL,
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_latent_tb_treatment(make_app, scenario: Scenario) -> None:
    check(make_app, scenario)


def test_untreated_positive_igra_names_the_action(make_app) -> None:
    """The finding for an untreated positive test asks for latent-TB treatment, with the result."""
    from tests.scenarios.chart import sign

    result = sign(make_app(), _positive_igra(), tofacitinib())
    finding = result.findings["JAKI-TB-SCREEN"]
    assert finding["evidence"], finding
    assert "latent" in result.text.lower()
