"""China's national ICD-10 editions (医保版 2.0 / 国家临床版 2.0) as Chinese charts send them: an
extension code ("I26.900x010") means the WHO category it extends unless its own Chinese name
says it is a look-alike ("I26.900x007 非血栓性肺栓塞症"), and the names of the tables decide
inside the buckets WHO leaves open (Z86.7). Codes and names: the 医保版 2.0 diagnosis table of
the NHSA CHS-DRG 1.1 grouper (conditions.toml [_sources] cn_yb2)."""

from __future__ import annotations

from datetime import date

import pytest
from jaki_support import complete_record, one_finding, run, with_problems

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise

K = load_knowledge()
CN = "urn:oid:2.16.156.10011.2.3.3.11"


def _facts(code: str, system: str = CN):
    resource = {
        "resourceType": "Condition",
        "id": "c1",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": system, "code": code}]},
    }
    return normalise(PatientRecord(patient_id="p", conditions=[resource]), [], K, date(2026, 12, 5))


def _concepts(code: str, system: str = CN) -> set[str]:
    return set().union(*(p.concepts for p in _facts(code, system).problems))


@pytest.mark.parametrize(
    ("code", "name", "not_this"),
    [
        ("I26.900x007", "非血栓性肺栓塞症", {"pe", "vte"}),
        ("I82.201", "腔静脉瘤栓", {"dvt", "vte"}),
        ("J84.102", "肺肉芽肿", {"ild", "chronic_lung_disease"}),
        ("M06.001", "复发性血清阴性对称性滑膜炎伴凹陷性水肿", {"ra"}),
        ("M06.002", "缓解性血清阴性对称性滑膜炎伴凹陷性水肿综合征", {"ra"}),
        ("M06.003", "滑膜炎-痤疮-脓疱疹-骨肥厚-骨炎综合征", {"ra"}),
        ("M06.000x001", "滑膜炎-痤疮-脓疱疹-骨肥厚-骨炎综合征 (临床版)", {"ra"}),
        ("M86.805", "骨残留异物性肉芽肿", {"serious_infection"}),
        ("E78.801", "脂肪肉芽肿病", {"dyslipidaemia"}),
        ("I10.x00x017", "假性高血压", {"hypertension"}),
    ],
)
def test_an_extension_that_names_a_look_alike_is_not_the_category(code, name, not_this):
    facts = _facts(code)
    assert not facts.problems, name
    assert not facts.unclassified_conditions, "known to be none, by its national name"


@pytest.mark.parametrize(
    ("code", "concept"),
    [
        ("I26.900x010", "pe"),  # 急性肺栓塞
        ("I26.900x017", "pe"),  # 感染性肺栓塞
        ("I82.203", "dvt"),  # 下腔静脉血栓形成
        ("J84.104", "ild"),  # 特发性肺间质纤维化
        ("M06.900", "ra"),
        ("M06.000", "ra"),  # 血清反应阴性的类风湿性关节炎
        ("I10.x00x008", "hypertension"),  # 良性高血压
    ],
)
def test_the_siblings_of_those_look_alikes_keep_their_category(code, concept):
    assert concept in _concepts(code)


@pytest.mark.parametrize("code", ["Z86.702", "Z86.703"])  # 脑出血个人史, 脑梗死个人史
def test_a_chinese_history_of_stroke_code_is_a_past_stroke(code):
    (problem,) = _facts(code).problems
    assert "stroke" in problem.concepts and not problem.active


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # the dagger part is no concept, the asterisk part names the infection
        ("B48.500+J17.2*", {"serious_infection"}),  # 肺孢子菌病 (Pneumocystis pneumonia)
        ("B45.101+G02.1*", {"serious_infection"}),  # 隐球菌性脑膜炎
        ("A01.002+G01*", {"serious_infection"}),  # 伤寒性脑膜炎
        # both parts count
        ("M33.103+J99.1*", {"dermatomyositis", "ild"}),  # 皮肌炎性肺间质纤维化
        ("M31.302+J99.1*", {"ild"}),  # 韦格纳肉芽肿病累及肺
        ("A17.000+G01*", {"tb_active", "serious_infection"}),  # 结核性脑膜炎
        ("M05.100+J99.0*", {"ra", "ild"}),  # 类风湿性肺病
        ("A18.000x018+M49.0*", {"tb_active"}),  # 脊椎结核并椎旁脓肿
        # as WHO writes the pair, and with blanks or full-width signs
        ("B48.5†J17.2*", {"serious_infection"}),
        ("B48.5 + J17.2 *", {"serious_infection"}),
        ("Ｂ４８．５＋Ｊ１７．２＊", {"serious_infection"}),
    ],
)
def test_a_dagger_asterisk_pair_counts_both_parts(code, expected):
    assert expected <= _concepts(code)


def test_a_pair_neither_part_of_which_is_a_concept_is_known_to_be_none():
    facts = _facts("A02.205+N16.0*")  # 沙门菌性肾小管-间质病变
    assert not facts.problems and not facts.unclassified_conditions


def test_a_pair_with_a_part_whose_display_decides_stays_unclassified():
    # WHO Z22.5 (carrier of hepatitis B or C) says nothing without its display: unclassified
    facts = _facts("A02.205+Z22.5")
    assert not facts.problems
    assert len(facts.unclassified_conditions) == 1


@pytest.mark.parametrize(
    ("system", "code"),
    [
        ("http://hl7.org/fhir/sid/icd-10", "B48.5"),
        ("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full", "B485"),
        (CN, "B48.500"),  # 肺孢子菌病, sent without its asterisk code
    ],
)
def test_who_pneumocystosis_is_a_serious_infection(system, code):
    # WHO ICD-10 files pneumocystosis under B48.5 (ICD-10-CM keeps B59)
    assert "serious_infection" in _concepts(code, system)


def _by_name(text: str) -> set[str]:
    resource = {"resourceType": "Condition", "id": "c1", "code": {"text": text}}
    facts = normalise(
        PatientRecord(patient_id="p", conditions=[resource]), [], K, date(2026, 12, 5)
    )
    return set().union(*(p.concepts for p in facts.problems))


@pytest.mark.parametrize(
    ("text", "not_this", "this"),
    [
        ("非血栓性肺栓塞症", {"pe", "vte"}, set()),  # the national name of I26.900x007
        ("非血栓性肺塞栓症", {"pe", "vte"}, set()),
        ("肺动脉瘤栓", {"pe", "vte"}, set()),  # tumour embolus
        ("类风湿性脊椎炎", {"ra"}, {"ankylosing_spondylitis"}),  # WHO M45 'rheumatoid spondylitis'
        ("類風濕性脊椎炎", {"ra"}, {"ankylosing_spondylitis"}),
    ],
)
def test_chinese_names_of_look_alikes_are_read_by_meaning(text, not_this, this):
    found = _by_name(text)
    assert not found & not_this and this <= found


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("急性肺栓塞", "pe"),
        ("肺血栓栓塞症", "pe"),
        ("类风湿性关节炎", "ra"),
        ("强直性脊柱炎", "ankylosing_spondylitis"),
    ],
)
def test_their_neighbours_keep_their_meaning(text, concept):
    assert concept in _by_name(text)


@pytest.mark.parametrize(
    ("code", "concept"),
    [
        ("C86.602", "lymphoma"),  # 原发性皮肤间变性大细胞淋巴瘤
        ("C86.603", "lymphoma"),  # 原发性皮肤CD30+间变性大细胞淋巴瘤
    ],
)
def test_a_national_code_that_names_its_meaning_inside_an_open_bucket_is_read(code, concept):
    assert concept in _concepts(code)


@pytest.mark.parametrize(
    "code",
    [
        "C86.601",  # 淋巴瘤样丘疹病 (lymphomatoid papulosis), inside open C86.6
        "I38.x01",  # 心脏瓣膜病 (valve disease), inside open I38 (endocarditis or not)
        "I38.x00x002",  # 老年性心脏瓣膜病
        "I38.x00x005",  # 心瓣膜破裂
        "I38.x02",  # 心脏瓣膜穿孔
        "I38.x03",  # 心脏瓣膜钙化
        "Z86.701",  # 病毒性心肌炎个人史, inside open Z86.7
    ],
)
def test_a_national_look_alike_inside_an_open_bucket_is_known_to_be_none(code):
    facts = _facts(code)
    assert not facts.problems and not facts.unclassified_conditions


@pytest.mark.parametrize("code", ["C86.600", "I38.x00x006", "Z86.700"])  # the buckets themselves
def test_the_open_buckets_themselves_stay_unclassified(code):
    facts = _facts(code)
    assert not facts.problems and len(facts.unclassified_conditions) == 1


def test_a_chinese_pneumocystis_pneumonia_coded_as_a_pair_stops_a_jak_inhibitor():
    facts = with_problems(complete_record(), *_facts("B48.500+J17.2*").problems)
    finding = one_finding(run("JAKI-SERIOUS-INFECTION", facts))
    assert finding.severity == "critical"


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        # the Chinese names of the national table, as text-only charts send them
        ("特发性肺间质纤维化", "ild"),
        ("弥漫性肺间质纤维化", "ild"),
        ("致纤维化肺泡炎", "ild"),
        ("脑血管意外", "stroke"),
        ("脑室出血", "stroke"),
        ("额叶出血", "stroke"),
        ("疱疹后三叉神经痛", "herpes_zoster"),
        ("孕27周", "pregnancy"),
        ("胎盘早期剥离", "pregnancy"),
        ("静脉血栓形成", "vte"),
        ("下肢静脉血栓形成", "vte"),
        ("下腔静脉栓塞", "dvt"),
    ],
)
def test_chinese_names_of_the_national_table_are_read(text, concept):
    assert concept in _by_name(text)


@pytest.mark.parametrize(
    "text",
    [
        "门静脉血栓形成",  # portal vein thrombosis: not VTE in the sense of the rules
        "肾静脉血栓形成",
        "下肢浅静脉血栓形成",
        "肺间质气肿",  # interstitial emphysema
        "新生儿脑室出血",
        "单纯疱疹后神经痛",
        "腔静脉瘤栓",
    ],
)
def test_their_look_alikes_are_not(text):
    found = _by_name(text)
    assert not found & {"vte", "dvt", "ild", "stroke", "herpes_zoster"}
