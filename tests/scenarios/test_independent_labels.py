"""Independent clinical scenarios (issue 14): label figures per region, written from the label
texts (EU SmPC section 4.2, US PI sections 2 and 8, Japanese 添付文書 section 6/7, Taiwanese
仿單) at and around every age, renal and phase threshold. Each scenario names the label section
its expectation comes from; docs/labels.md lists where each figure was read."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios.chart import (
    ATC,
    ICD10CM,
    RX,
    SCT,
    Chart,
    Scenario,
    add,
    baricitinib,
    baseline_labs,
    birth_date_for_age,
    check,
    condition,
    days_ago,
    draft,
    infliximab,
    medication,
    quantity,
    sign,
    tofacitinib,
    upadacitinib,
)

RA = (SCT, "69896004", "Rheumatoid arthritis")
AD = (SCT, "24079001", "Atopic dermatitis")
UC = (SCT, "64766004", "Ulcerative colitis")
CD = (SCT, "34000006", "Crohn's disease")
AA = (SCT, "68225006", "Alopecia areata")
PSO = (SCT, "9014002", "Psoriasis")

RINVOQ_US = (
    "RINVOQ USPI 2.4 (AD: 15 mg from 65; adolescents >= 40 kg may go to 30 "
    "mg), 2.5 (UC induction 45 mg 8 weeks, maintenance 15/30 mg), 2.6 (CD "
    "induction 45 mg 12 weeks), 2.2 (RA 15 mg)"
)
RINVOQ_EU = (
    "RINVOQ SmPC 4.2 (AD: 15 mg for >= 65 and adolescents; UC induction 45 "
    "mg 8 weeks, a further 8 weeks if no adequate benefit; maintenance "
    "15/30 mg)"
)
RINVOQ_JP = (
    "リンヴォック錠 電子添文 6. 用法及び用量 "
    "(アトピー性皮膚炎: 12歳以上かつ体重30kg以上の小児 15 mg)"
)
OLUMIANT_US = (
    "OLUMIANT USPI 2.2 (RA 2 mg once daily), 2.4 (AA 2 mg, 4 mg if "
    "inadequate), 2.5 / 8.6 (renal: eGFR 30-60 RA 1 mg; < 30 not "
    "recommended)"
)
OLUMIANT_EU = (
    "Olumiant SmPC 4.2 (4 mg; 2 mg recommended from age 65; CrCl 30-60: 2 "
    "mg; CrCl < 30 not recommended)"
)
OLUMIANT_JP = (
    "オルミエント錠 電子添文 6./7. (4 mg, 患者の状態に応じて 2 mg; "
    "中等度腎機能障害 eGFR 30-60: 2 mg; < 30 投与しない)"
)
XELJANZ_US = (
    "XELJANZ USPI 2.3 Table 1 (moderate/severe renal impairment, Child-Pugh"
    " B: 5 mg once daily; Child-Pugh C not recommended), 8.6/12.3 (moderate"
    " = CLcr 30-50), 2.1 (RA 5 mg BID or XR 11 mg)"
)
XELJANZ_EU = (
    "XELJANZ SmPC 4.2 (RA 5 mg BID; UC induction 10 mg BID; severe renal "
    "impairment CrCl < 30: 5 mg once daily; Child-Pugh B 5 mg once daily, C"
    " contraindicated)"
)
CIBINQO_EU = (
    "CIBINQO SmPC 4.2 (100 mg for patients 65 and over; moderate renal "
    "impairment eGFR 30-<60: dose halved)"
)
CIBINQO_US = "CIBINQO USPI 2.2 (100 mg, may increase to 200 mg; no age-based limit)"
JYSELECA_EU = (
    "Jyseleca SmPC 4.2 (RA 200 mg; >= 65: 100 mg recommended; CrCl 15-<60: "
    "100 mg; CrCl < 15 not recommended)"
)
SOTYKTU = (
    "SOTYKTU USPI 2.1, 8.7 (6 mg once daily; no laboratory floors; severe "
    "hepatic impairment not recommended)"
)


def _crcl(value: float) -> Chart:
    """24-hour creatinine clearance on file (LOINC 2164-2, mL/min)."""
    return add(observations=[quantity("2164-2", value, "mL/min")])


def _egfr(value: float, **kw: Any) -> Chart:
    return add(
        drop_obs=("98979-8",),
        observations=[quantity("98979-8", value, "mL/min/{1.73_m2}")],
        **kw,
    )


def _aged(years: int, *, birthday_today: bool = False) -> Chart:
    if birthday_today:
        return Chart(birth_date=birth_date_for_age(years), observations=baseline_labs())
    return Chart(age=years)


def _on_upadacitinib(weeks: float, mg: float = 45) -> Chart:
    """Already on upadacitinib (the active order of the induction), started `weeks` ago."""
    current = medication(
        [(RX, "2196098", f"upadacitinib {mg:g} MG 24HR Extended Release Oral Tablet")],
        text=f"upadacitinib {mg:g} mg",
        dose_mg=mg,
    )
    current["authoredOn"] = days_ago(int(weeks * 7))
    return add(medications=[current])


def _abrocitinib(mg: float, reason=AD) -> dict[str, Any]:
    return draft(
        [(ATC, "D11AH08", "abrocitinib")],
        text=f"abrocitinib {mg:g} mg tablet",
        dose_mg=mg,
        reason=reason,
    )


def _filgotinib(mg: float, reason=RA) -> dict[str, Any]:
    return draft(
        [(ATC, "L04AF04", "filgotinib")],
        text=f"filgotinib {mg:g} mg tablet",
        dose_mg=mg,
        reason=reason,
    )


def _deucravacitinib() -> dict[str, Any]:
    return draft(
        [(ATC, "L04AF07", "deucravacitinib")],
        text="deucravacitinib 6 mg tablet",
        dose_mg=6,
        reason=PSO,
    )


def _hepatic(text: str, code: tuple[str, str, str] | None = None) -> Chart:
    system, value, display = code or (None, None, None)
    return add(conditions=[condition(system, value, display, text=text)])


SCENARIOS = [
    # ---------------------------------------------------------------- upadacitinib, age (AD)
    Scenario(
        "US upadacitinib 30 mg for atopic dermatitis at 67: above label (15 mg from 65)",
        _aged(67),
        (upadacitinib(30, reason=AD),),
        region="US",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_US,
    ),
    Scenario(
        "US upadacitinib 30 mg for atopic dermatitis, 65th birthday today",
        _aged(65, birthday_today=True),
        (upadacitinib(30, reason=AD),),
        region="US",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_US,
    ),
    Scenario(
        "US upadacitinib 30 mg for atopic dermatitis at 64: labelled",
        _aged(64),
        (upadacitinib(30, reason=AD),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_US,
    ),
    Scenario(
        "US upadacitinib 15 mg for atopic dermatitis at 67: labelled",
        _aged(67),
        (upadacitinib(15, reason=AD),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_US,
    ),
    Scenario(
        "EU upadacitinib 30 mg for atopic dermatitis at 67: above label",
        _aged(67),
        (upadacitinib(30, reason=AD),),
        region="EU",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_EU,
    ),
    Scenario(
        "EU upadacitinib 30 mg for atopic dermatitis at 16: adolescents 15 mg",
        _aged(16),
        (upadacitinib(30, reason=AD),),
        region="EU",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_EU,
    ),
    Scenario(
        "US upadacitinib 30 mg for atopic dermatitis at 16: labelled (>= 40 kg may go to 30 mg)",
        _aged(16),
        (upadacitinib(30, reason=AD),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_US,
    ),
    Scenario(
        "JP upadacitinib 30 mg for atopic dermatitis at 16: 小児 15 mg",
        _aged(16),
        (upadacitinib(30, reason=AD),),
        region="JP",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_JP,
    ),
    # ---------------------------------------------------------------- upadacitinib, phase (UC, CD)
    Scenario(
        "US upadacitinib 45 mg UC induction, new start: labelled",
        Chart(),
        (upadacitinib(45, reason=UC),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_US,
    ),
    Scenario(
        "US upadacitinib 45 mg UC at week 7 of induction: labelled",
        _on_upadacitinib(7),
        (upadacitinib(45, reason=UC),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_US,
    ),
    Scenario(
        "US upadacitinib 45 mg UC at week 10: maintenance is 15 or 30 mg",
        _on_upadacitinib(10),
        (upadacitinib(45, reason=UC),),
        region="US",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_US,
    ),
    Scenario(
        "EU upadacitinib 45 mg UC at week 10: extended induction is labelled",
        _on_upadacitinib(10),
        (upadacitinib(45, reason=UC),),
        region="EU",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_EU,
    ),
    Scenario(
        "EU upadacitinib 45 mg UC at week 20: above the maintenance dose",
        _on_upadacitinib(20),
        (upadacitinib(45, reason=UC),),
        region="EU",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_EU,
    ),
    Scenario(
        "US upadacitinib 30 mg UC maintenance at week 20: labelled",
        _on_upadacitinib(20, mg=30),
        (upadacitinib(30, reason=UC),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_US,
    ),
    Scenario(
        "US upadacitinib 45 mg Crohn's induction at week 10: labelled (12 weeks)",
        _on_upadacitinib(10),
        (upadacitinib(45, reason=CD),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_US,
    ),
    Scenario(
        "US upadacitinib 45 mg, RA and UC on file, no reason on the order: not 'above label'",
        add(conditions=[condition(SCT, "64766004", "Ulcerative colitis (disorder)")]),
        (upadacitinib(45),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_US,
    ),
    Scenario(
        "US upadacitinib 30 mg at 67, RA and AD on file, no reason: above label for both",
        add(age=67, conditions=[condition(SCT, "24079001", "Atopic dermatitis (disorder)")]),
        (upadacitinib(30),),
        region="US",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_US,
    ),
    Scenario(
        "EU tofacitinib 10 mg BID, RA and UC on file, order for RA: critical",
        add(conditions=[condition(SCT, "64766004", "Ulcerative colitis (disorder)")]),
        (tofacitinib(10, 2, reason=RA),),
        region="EU",
        fires={"JAKI-DOSE-MAX": "critical"},
        source=XELJANZ_EU,
    ),
    Scenario(
        "US upadacitinib 45 mg for RA: above label (15 mg)",
        Chart(),
        (upadacitinib(45, reason=RA),),
        region="US",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_US,
    ),
    # ---------------------------------------------------------------- baricitinib
    Scenario(
        "US baricitinib 4 mg for RA: labelled 2 mg",
        Chart(),
        (baricitinib(4, reason=RA),),
        region="US",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=OLUMIANT_US,
    ),
    Scenario(
        "US baricitinib 2 mg for RA: labelled",
        Chart(),
        (baricitinib(2, reason=RA),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=OLUMIANT_US,
    ),
    Scenario(
        "US baricitinib 4 mg for alopecia areata: labelled (2 mg, up to 4 mg)",
        Chart(),
        (baricitinib(4, reason=AA),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=OLUMIANT_US,
    ),
    Scenario(
        "EU baricitinib 4 mg for RA at 66: 2 mg recommended from 65",
        _aged(66),
        (baricitinib(4, reason=RA),),
        region="EU",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=OLUMIANT_EU,
    ),
    Scenario(
        "EU baricitinib 4 mg for RA at 64: labelled",
        _aged(64),
        (baricitinib(4, reason=RA),),
        region="EU",
        quiet=("JAKI-DOSE-MAX",),
        source=OLUMIANT_EU,
    ),
    Scenario(
        "EU baricitinib 2 mg for RA at 80: labelled",
        _aged(80),
        (baricitinib(2, reason=RA),),
        region="EU",
        quiet=("JAKI-DOSE-MAX",),
        source=OLUMIANT_EU,
    ),
    Scenario(
        "EU baricitinib 4 mg, CrCl 45 mL/min: 2 mg",
        _crcl(45),
        (baricitinib(4, reason=RA),),
        region="EU",
        fires={"JAKI-RENAL-DOSE": "warning"},
        source=OLUMIANT_EU,
    ),
    Scenario(
        "EU baricitinib 4 mg, CrCl exactly 60 mL/min: no adjustment",
        _crcl(60),
        (baricitinib(4, reason=RA),),
        region="EU",
        quiet=("JAKI-RENAL-DOSE",),
        source=OLUMIANT_EU,
    ),
    Scenario(
        "EU baricitinib 2 mg, CrCl exactly 30 mL/min: labelled reduced dose",
        _crcl(30),
        (baricitinib(2, reason=RA),),
        region="EU",
        quiet=("JAKI-RENAL-DOSE",),
        source=OLUMIANT_EU,
    ),
    Scenario(
        "EU baricitinib 2 mg, CrCl 29 mL/min: not recommended",
        _crcl(29),
        (baricitinib(2, reason=RA),),
        region="EU",
        fires={"JAKI-RENAL-DOSE": "critical"},
        source=OLUMIANT_EU,
    ),
    Scenario(
        "US baricitinib 2 mg for RA, eGFR 45: 1 mg",
        _egfr(45),
        (baricitinib(2, reason=RA),),
        region="US",
        fires={"JAKI-RENAL-DOSE": "warning"},
        source=OLUMIANT_US,
    ),
    Scenario(
        "JP baricitinib 4 mg, eGFR 45: 2 mg",
        _egfr(45),
        (baricitinib(4, reason=RA),),
        region="JP",
        fires={"JAKI-RENAL-DOSE": "warning"},
        source=OLUMIANT_JP,
    ),
    Scenario(
        "JP baricitinib 4 mg for RA at 80: no age limit in the insert",
        _aged(80),
        (baricitinib(4, reason=RA),),
        region="JP",
        quiet=("JAKI-DOSE-MAX",),
        source=OLUMIANT_JP,
    ),
    # ---------------------------------------------------------------- tofacitinib
    Scenario(
        "US tofacitinib 5 mg BID, CrCl 40: 5 mg once daily",
        _crcl(40),
        (tofacitinib(5, 2, reason=RA),),
        region="US",
        fires={"JAKI-RENAL-DOSE": "warning"},
        source=XELJANZ_US,
    ),
    Scenario(
        "US tofacitinib 5 mg BID, CrCl 49 (moderate impairment): 5 mg once daily",
        _crcl(49),
        (tofacitinib(5, 2, reason=RA),),
        region="US",
        fires={"JAKI-RENAL-DOSE": "warning"},
        source=XELJANZ_US,
    ),
    Scenario(
        "US tofacitinib 5 mg BID, CrCl 51: mild, no change",
        _crcl(51),
        (tofacitinib(5, 2, reason=RA),),
        region="US",
        quiet=("JAKI-RENAL-DOSE",),
        source=XELJANZ_US,
    ),
    Scenario(
        "EU tofacitinib 5 mg BID, CrCl 40: no adjustment in moderate impairment",
        _crcl(40),
        (tofacitinib(5, 2, reason=RA),),
        region="EU",
        quiet=("JAKI-RENAL-DOSE",),
        source=XELJANZ_EU,
    ),
    Scenario(
        "EU tofacitinib 5 mg BID, CrCl 25: 5 mg once daily",
        _crcl(25),
        (tofacitinib(5, 2, reason=RA),),
        region="EU",
        fires={"JAKI-RENAL-DOSE": "warning"},
        source=XELJANZ_EU,
    ),
    Scenario(
        "US tofacitinib 5 mg once daily, CrCl 25: already the labelled dose",
        _crcl(25),
        (tofacitinib(5, 1, reason=RA),),
        region="US",
        quiet=("JAKI-RENAL-DOSE",),
        source=XELJANZ_US,
    ),
    Scenario(
        "TW tofacitinib 5 mg BID, CrCl 40: 5 mg once daily",
        _crcl(40),
        (tofacitinib(5, 2, reason=RA),),
        region="TW",
        fires={"JAKI-RENAL-DOSE": "warning"},
        source="捷抑炎 仿單 2.1 (中度或重度腎功能不全: 5 毫克每日一次)",
    ),
    Scenario(
        "US tofacitinib 5 mg BID, Child-Pugh B: 5 mg once daily",
        add(
            conditions=[
                condition(ICD10CM, "K74.60", "Unspecified cirrhosis of liver"),
                condition(None, None, text="Child-Pugh B"),
            ]
        ),
        (tofacitinib(5, 2, reason=RA),),
        region="US",
        fires={"JAKI-HEPATIC": "warning"},
        source=XELJANZ_US,
    ),
    Scenario(
        "EU tofacitinib, hepatic failure (SNOMED 59927004, Child-Pugh C): contraindicated",
        _hepatic("Hepatic failure", (SCT, "59927004", "Hepatic failure")),
        (tofacitinib(5, 2, reason=RA),),
        region="EU",
        fires={"JAKI-HEPATIC": "critical"},
        source=XELJANZ_EU,
    ),
    Scenario(
        "cirrhosis (ICD-10-CM K74.60) without a Child-Pugh class: not assessed, never 'no risk'",
        _hepatic(
            "Unspecified cirrhosis of liver",
            (ICD10CM, "K74.60", "Unspecified cirrhosis of liver"),
        ),
        (tofacitinib(5, 2, reason=RA),),
        region="US",
        quiet=("JAKI-HEPATIC",),
        source=XELJANZ_US,
    ),
    Scenario(
        "US tofacitinib 10 mg BID for RA: critical",
        Chart(),
        (tofacitinib(10, 2, reason=RA),),
        region="US",
        fires={"JAKI-DOSE-MAX": "critical"},
        source=XELJANZ_US,
    ),
    Scenario(
        "US tofacitinib XR 11 mg once daily for RA: labelled",
        Chart(),
        (tofacitinib(11, 1, reason=RA),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=XELJANZ_US,
    ),
    Scenario(
        "EU tofacitinib 10 mg BID for UC induction: labelled",
        Chart(),
        (tofacitinib(10, 2, reason=UC),),
        region="EU",
        quiet=("JAKI-DOSE-MAX",),
        source=XELJANZ_EU,
    ),
    Scenario(
        "JP tofacitinib 10 mg BID for RA: above label",
        Chart(),
        (tofacitinib(10, 2, reason=RA),),
        region="JP",
        fires={"JAKI-DOSE-MAX": "critical"},
        source="ゼルヤンツ錠 電子添文 6. 用法及び用量 (関節リウマチ 1回5 mg 1日2回)",
    ),
    # ---------------------------------------------------------------- abrocitinib
    Scenario(
        "EU abrocitinib 200 mg at 66: 100 mg from 65",
        _aged(66),
        (_abrocitinib(200),),
        region="EU",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=CIBINQO_EU,
    ),
    Scenario(
        "EU abrocitinib 200 mg at 40: labelled",
        _aged(40),
        (_abrocitinib(200),),
        region="EU",
        quiet=("JAKI-DOSE-MAX",),
        source=CIBINQO_EU,
    ),
    Scenario(
        "US abrocitinib 200 mg at 66: labelled (no age step in the USPI)",
        _aged(66),
        (_abrocitinib(200),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=CIBINQO_US,
    ),
    Scenario(
        "EU abrocitinib 200 mg, eGFR 45: dose halved",
        _egfr(45),
        (_abrocitinib(200),),
        region="EU",
        fires={"JAKI-RENAL-DOSE": "warning"},
        source=CIBINQO_EU,
    ),
    # ---------------------------------------------------------------- filgotinib
    Scenario(
        "EU filgotinib 200 mg, CrCl 45: 100 mg",
        _crcl(45),
        (_filgotinib(200),),
        region="EU",
        fires={"JAKI-RENAL-DOSE": "warning"},
        source=JYSELECA_EU,
    ),
    Scenario(
        "EU filgotinib 100 mg, CrCl exactly 15: labelled reduced dose",
        _crcl(15),
        (_filgotinib(100),),
        region="EU",
        quiet=("JAKI-RENAL-DOSE",),
        source=JYSELECA_EU,
    ),
    Scenario(
        "EU filgotinib 100 mg, CrCl 14: not recommended",
        _crcl(14),
        (_filgotinib(100),),
        region="EU",
        fires={"JAKI-RENAL-DOSE": "critical"},
        source=JYSELECA_EU,
    ),
    Scenario(
        "EU filgotinib 200 mg for RA at 70: 100 mg recommended from 65",
        _aged(70),
        (_filgotinib(200),),
        region="EU",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=JYSELECA_EU,
    ),
    # ---------------------------------------------------------------- deucravacitinib (TYK2)
    Scenario(
        "deucravacitinib with ANC 800/uL: no JAK laboratory floor applies",
        add(drop_obs=("751-8",), observations=[quantity("751-8", 0.8, "10*3/uL")]),
        (_deucravacitinib(),),
        region="US",
        quiet=("JAKI-LAB-ANC", "JAKI-DOSE-MAX", "JAKI-RENAL-DOSE"),
        source=SOTYKTU,
    ),
    Scenario(
        "deucravacitinib in hepatic failure: not recommended",
        _hepatic("Hepatic failure", (SCT, "59927004", "Hepatic failure")),
        (_deucravacitinib(),),
        region="US",
        fires={"JAKI-HEPATIC": "critical"},
        source=SOTYKTU,
    ),
]


def _lab(code: str, value: float, unit: str) -> Chart:
    return add(drop_obs=(code,), observations=[quantity(code, value, unit)])


def _ritlecitinib() -> dict[str, Any]:
    return draft(
        [(ATC, "L04AF08", "ritlecitinib")], text="ritlecitinib 50 mg", dose_mg=50, reason=AA
    )


def _peficitinib(mg: float) -> dict[str, Any]:
    return draft(
        [(ATC, "L04AF06", "peficitinib")], text=f"peficitinib {mg:g} mg", dose_mg=mg, reason=RA
    )


CIBINQO_LABS = (
    "CIBINQO SmPC 4.2 (do not start: platelets < 150 x 10^3/mm3, ALC < 0.5, ANC < 1.2 x "
    "10^3/mm3, Hb < 10 g/dL); CIBINQO USPI 2.x (ANC < 1000, Hb < 8 g/dL)"
)


def _reason_text(order: dict[str, Any], text: str) -> dict[str, Any]:
    """The order's reason as free text only, as East Asian order entry often sends it."""
    order["reasonCode"] = [{"text": text}]
    return order


ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
LANGUAGE_SCENARIOS = [
    Scenario(
        "JP upadacitinib 45 mg, reason 潰瘍性大腸炎 (text): induction, labelled",
        Chart(),
        (_reason_text(upadacitinib(45), "潰瘍性大腸炎"),),
        region="JP",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_JP,
    ),
    Scenario(
        "EU upadacitinib 45 mg, reason 溃疡性结肠炎 (text): induction, labelled",
        Chart(),
        (_reason_text(upadacitinib(45), "溃疡性结肠炎"),),
        region="EU",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_EU,
    ),
    Scenario(
        "US upadacitinib 30 mg at 67, reason アトピー性皮膚炎 (text): above label",
        Chart(age=67),
        (_reason_text(upadacitinib(30), "アトピー性皮膚炎"),),
        region="US",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_US,
    ),
    Scenario(
        "US upadacitinib 45 mg, reason WHO ICD-10 K51.9: induction, labelled",
        Chart(),
        (upadacitinib(45, reason=(ICD10_WHO, "K51.9", "Ulcerative colitis")),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
        source=RINVOQ_US,
    ),
    Scenario(
        "JP upadacitinib 30 mg at 16, reason WHO ICD-10 L20.9: 小児 15 mg",
        Chart(age=16),
        (upadacitinib(30, reason=(ICD10_WHO, "L20.9", "アトピー性皮膚炎")),),
        region="JP",
        fires={"JAKI-DOSE-MAX": "warning"},
        source=RINVOQ_JP,
    ),
]

LAB_SCENARIOS = [
    Scenario(
        "EU abrocitinib, platelets 140 x10^3/uL: do not start",
        _lab("777-3", 140, "10*3/uL"),
        (_abrocitinib(100),),
        region="EU",
        fires={"JAKI-LAB-PLT": "critical"},
        source=CIBINQO_LABS,
    ),
    Scenario(
        "EU abrocitinib, platelets exactly 150 x10^3/uL: not below",
        _lab("777-3", 150, "10*3/uL"),
        (_abrocitinib(100),),
        region="EU",
        quiet=("JAKI-LAB-PLT",),
        source=CIBINQO_LABS,
    ),
    Scenario(
        "EU abrocitinib, ANC 1100/uL: below the SmPC 1200",
        _lab("751-8", 1.1, "10*3/uL"),
        (_abrocitinib(100),),
        region="EU",
        fires={"JAKI-LAB-ANC": "critical"},
        source=CIBINQO_LABS,
    ),
    Scenario(
        "US abrocitinib, ANC 1100/uL: above the USPI 1000",
        _lab("751-8", 1.1, "10*3/uL"),
        (_abrocitinib(100),),
        region="US",
        quiet=("JAKI-LAB-ANC",),
        source=CIBINQO_LABS,
    ),
    Scenario(
        "EU abrocitinib, Hb 9.5 g/dL: below the SmPC 10",
        _lab("718-7", 9.5, "g/dL"),
        (_abrocitinib(100),),
        region="EU",
        fires={"JAKI-LAB-HB": "critical"},
        source=CIBINQO_LABS,
    ),
    Scenario(
        "US ritlecitinib, platelets 90 x10^3/uL: do not start",
        _lab("777-3", 90, "10*3/uL"),
        (_ritlecitinib(),),
        region="US",
        fires={"JAKI-LAB-PLT": "critical"},
        source="LITFULO USPI 2.x (platelets < 100,000/mm3, ALC < 500/mm3: do not start)",
    ),
    Scenario(
        "EU tofacitinib, Hb 8.5 g/dL: below the tofacitinib floor 9",
        _lab("718-7", 8.5, "g/dL"),
        (tofacitinib(),),
        region="EU",
        fires={"JAKI-LAB-HB": "critical"},
        source=XELJANZ_EU,
    ),
    Scenario(
        "EU baricitinib, Hb 85 g/L (= 8.5 g/dL): above the floor 8",
        _lab("718-7", 85, "g/L"),
        (baricitinib(4),),
        region="EU",
        quiet=("JAKI-LAB-HB",),
        source=OLUMIANT_EU,
    ),
    Scenario(
        "EU baricitinib, Hb 75 g/L: below the floor 8 g/dL",
        _lab("718-7", 75, "g/L"),
        (baricitinib(4),),
        region="EU",
        fires={"JAKI-LAB-HB": "critical"},
        source=OLUMIANT_EU,
    ),
    Scenario(
        "EU tofacitinib, Hb 5.3 mmol/L (= 8.5 g/dL): below 9",
        _lab("718-7", 5.3, "mmol/L"),
        (tofacitinib(),),
        region="EU",
        fires={"JAKI-LAB-HB": "critical"},
        source=XELJANZ_EU,
    ),
    Scenario(
        "JP peficitinib 150 mg, Child-Pugh B: 50 mg",
        add(conditions=[condition(None, None, text="Child-Pugh B")]),
        (_peficitinib(150),),
        region="JP",
        fires={"JAKI-HEPATIC": "warning"},
        source="スマイラフ錠 電子添文 7. (中等度の肝機能障害: 50 mg 1日1回)",
    ),
    Scenario(
        "JP peficitinib 200 mg: above the labelled 150 mg",
        Chart(),
        (_peficitinib(200),),
        region="JP",
        fires={"JAKI-DOSE-MAX": "warning"},
        source="スマイラフ錠 電子添文 6. (150 mg 1日1回, 状態に応じて 100 mg)",
    ),
    Scenario(
        "TW upadacitinib 30 mg for RA: no Taiwanese figure on file, nothing on the card",
        Chart(),
        (upadacitinib(30, reason=RA),),
        region="TW",
        quiet=("JAKI-DOSE-MAX",),
        source="issue 14: an unconfirmed figure stays off the card",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS + LAB_SCENARIOS + LANGUAGE_SCENARIOS, ids=str)
def test_label_figures(make_app, scenario: Scenario) -> None:
    result = check(make_app, scenario)
    assert "not configured" not in result.text.lower()


def test_cirrhosis_without_class_is_not_assessed(make_app) -> None:
    """Cirrhosis without a Child-Pugh class: the hepatic rule says what is missing."""
    chart = SCENARIOS[
        [s.name for s in SCENARIOS].index(
            "cirrhosis (ICD-10-CM K74.60) without a Child-Pugh class: not assessed, never 'no risk'"
        )
    ].chart
    result = sign(make_app(label_region="US"), chart, tofacitinib(5, 2, reason=RA))
    assert "JAKI-HEPATIC" in result.not_assessed


def test_unstated_indication_is_one_info_line(make_app) -> None:
    """45 mg upadacitinib with RA and UC on file and no reason on the order: no warning card;
    the card asks for the indication on its last line."""
    chart = add(conditions=[condition(SCT, "64766004", "Ulcerative colitis (disorder)")])
    result = sign(make_app(label_region="US"), chart, upadacitinib(45))
    assert "JAKI-DOSE-MAX" in result.not_assessed
    assert all(card["indicator"] == "info" for card in result.cards), result.text
    last = [line for line in result.cards[-1]["detail"].split("\n") if line.strip()][-1]
    assert "indication" in last, last


@pytest.mark.parametrize(
    ("language", "labelled"),
    [
        ("en", "5 mg once daily"),
        ("ja", "5 mg 1日1回"),
        ("zh-TW", "5 mg 每日一次"),
        ("zh-CN", "5 mg 每日一次"),
    ],
)
def test_renal_dose_names_the_frequency(make_app, language: str, labelled: str) -> None:
    """Tofacitinib 5 mg twice daily at CrCl 40 (USPI 2.3): the card names the labelled dose with
    its frequency; "labelled dose 5 mg" against an order of 5 mg twice daily says nothing."""
    result = sign(
        make_app(label_region="US"), _crcl(40), tofacitinib(5, 2, reason=RA), language=language
    )
    lines = [line for line in result.text.split("\n") if labelled in line]
    assert any(" 40 " in line or "40 mL" in line for line in lines), result.text


def test_dose_above_label_names_both_frequencies(make_app) -> None:
    """Tofacitinib 10 mg twice daily for RA: ordered and labelled doses with their frequency."""
    result = sign(make_app(), Chart(), tofacitinib(10, 2, reason=RA))
    assert "Ordered 10 mg twice daily; labelled 5 mg twice daily" in result.text, result.text


def test_infliximab_weight_based_dose_is_read(make_app) -> None:
    """Infliximab 5 mg/kg every 8 weeks (REMICADE label 2.x / SmPC 4.2: 3-5 mg/kg by weight): the
    weight-based dose is read, never reported as unreadable, and no JAK dose rule speaks."""
    result = sign(make_app(), add(), infliximab(reason=RA))
    assert not [r for r in result.findings if r.startswith("JAKI-") and r != "JAKI-COMBINATION"]
    assert "unreadable" not in result.text.lower()
