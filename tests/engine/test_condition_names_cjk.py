"""Japanese and Chinese condition names read by meaning ([_cjk_meaning] of conditions.toml): a
Condition coded only in a system the value sets do not map (JP Core's MEDIS disease exchange code,
a local code) is read by its display, and a Japanese or Chinese name is a compound (site, side,
stage, organism written into the name), so the concept's stems are found wherever they stand;
look-alikes (benign, in situ, -like, suspected, family history, vaccination, a newborn's or a
history state) are never the concept, and a name the negation qualifiers cut ("無症候性",
"・合併症なし") is not read as negated."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise
from tests.engine.condition_resources import active_condition

K = load_knowledge()
TODAY = date(2026, 11, 23)
MEDIS = "http://medis.or.jp/CodeSystem/master-disease-exCode"


def condition(display: str) -> dict:
    return active_condition({"coding": [{"system": MEDIS, "code": "ZZZZ", "display": display}]})


def facts(display: str):
    return normalise(PatientRecord(patient_id="p", conditions=[condition(display)]), [], K, TODAY)


@pytest.mark.parametrize(
    ("display", "concept"),
    [
        ("関節リウマチ・肩関節", "ra"),
        ("悪性関節リウマチ", "ra"),  # RA with vasculitis, 'malignant' as severity
        ("右下葉肺癌", "malignancy"),
        ("ＥＧＦＲ遺伝子変異陽性非小細胞肺癌", "malignancy"),
        ("左乳房悪性腫瘍", "malignancy"),
        ("急性骨髄性白血病", "malignancy"),
        ("上腕悪性軟部腫瘍", "malignancy"),
        ("びまん性大細胞型Ｂ細胞性リンパ腫", "lymphoma"),
        ("ＡＬＫ陰性未分化大細胞リンパ腫", "lymphoma"),  # a marker's 'negative', not a denial
        ("頬部基底細胞癌", "nmsc"),
        ("急性下壁心筋梗塞", "mi"),
        ("アテローム血栓性脳梗塞", "stroke"),
        ("被殻出血", "stroke"),
        ("冠攣縮性狭心症", "cad"),
        ("下肢閉塞性動脈硬化症", "pad"),
        ("慢性うっ血性心不全", "heart_failure"),
        ("腎血管性高血圧症", "hypertension"),
        ("２型糖尿病性腎症", "diabetes"),
        ("家族性高コレステロール血症", "dyslipidaemia"),
        ("左下肢深部静脈血栓症", "dvt"),
        ("大腿静脈血栓症", "dvt"),
        ("急性肺血栓塞栓症", "pe"),
        ("ＭＲＳＡ敗血症", "serious_infection"),
        ("グラム陰性桿菌敗血症", "serious_infection"),
        ("肺炎球菌性肺炎", "serious_infection"),
        ("粟粒結核", "tb_active"),
        ("潜在性結核感染症", "tb_latent"),
        ("胸部帯状疱疹", "herpes_zoster"),
        ("ＨＢＶキャリア", "hbv_chronic"),
        ("Ｂ型慢性肝炎", "hbv_chronic"),
        ("Ｃ型代償性肝硬変", "hcv_infection"),
        ("切迫早産", "pregnancy"),
        ("妊娠中の深在静脈血栓症", "pregnancy"),
        ("Ｓ状結腸憩室炎", "diverticulitis"),
        ("慢性腎臓病ステージＧ３ｂ", "ckd"),
        ("アルコール性肝硬変", "cirrhosis"),
        ("特発性肺線維症", "ild"),
        ("気管支喘息発作", "chronic_lung_disease"),
        ("尋常性乾癬", "psoriasis"),
        ("潰瘍性大腸炎・全大腸炎型", "ulcerative_colitis"),
        ("小腸大腸クローン病", "crohns"),
        ("真性赤血球増加症", "myelofibrosis"),
        ("無筋症性皮膚筋炎", "dermatomyositis"),  # listed: the 無 is part of the name
        # Chinese (Simplified, Traditional)
        ("慢性乙型病毒性肝炎", "hbv_chronic"),
        ("慢性丙型病毒性肝炎", "hcv_infection"),
        ("左肺上叶腺癌", "malignancy"),
        ("急性前壁心肌梗死", "mi"),
        ("腦出血", "stroke"),
        ("肺动脉栓塞", "pe"),
        ("强直性脊柱炎", "ankylosing_spondylitis"),
        ("第二型糖尿病併腎臟病變", "diabetes"),
        # Taiwan ICD-10-CM Chinese wording (and its simplified-character form)
        ("非創傷性蜘蛛網膜下腔出血", "stroke"),  # non-traumatic: a stroke
        ("大腸克隆氏病併膿瘍", "crohns"),
        ("潰瘍性（慢性）直腸炎併直腸出血", "ulcerative_colitis"),
        ("脾臟之異生性巨大細胞淋巴瘤ALK-陰性", "lymphoma"),  # the marker is negative
        ("非典型慢性骨髓性白血病、BCR/ABL陰性", "malignancy"),
        ("左側腎惡性腫瘤，腎盂除外", "malignancy"),  # 'except the renal pelvis'
        ("多部位類風濕性關節炎伴有類風濕因子", "ra"),
        ("背部皮膚之鱗狀細胞癌", "nmsc"),
        ("背部皮肤之鳞状细胞癌", "nmsc"),
        ("關節病型乾癬", "psoriatic_arthritis"),
        ("胸部帶狀疱疹，未伴有併發症", "herpes_zoster"),
        ("B型肝炎伴有肝昏迷", "hepatic_impairment_severe"),
        ("慢性舒張性(充血性)心脏衰竭", "heart_failure"),
        ("重度持續性气喘", "chronic_lung_disease"),
        ("未明示部位之蕈狀肉芽腫", "lymphoma"),
        ("尋常性干癣", "psoriasis"),
        ("干癣性脊椎炎", "psoriatic_arthritis"),
        ("其他特定形態之慢性缺血性心臟病", "cad"),  # 'other specified': no look-alike
        ("肺动脉鞍形栓塞", "pe"),
        # rheumatoid arthritis outside the joints (a CV risk factor of its own)
        ("類風濕性血管炎伴有類風濕性關節炎", "extra_articular_ra"),
        ("类风湿性肺疾病伴有类风湿性关节炎", "extra_articular_ra"),
        ("類風濕性肺疾病伴有類風濕性關節炎", "ild"),
        ("Felty氏症候群", "extra_articular_ra"),
        ("悪性関節リウマチ", "extra_articular_ra"),
        ("関節リウマチに伴う間質性肺炎", "extra_articular_ra"),
    ],
)
def test_japanese_and_chinese_compound_names_are_read_by_meaning(display, concept):
    (p,) = facts(display).problems
    assert concept in p.concepts and p.by_name and p.active


@pytest.mark.parametrize(
    ("display", "not_concept"),
    [
        ("悪性貧血", "malignancy"),
        ("悪性高血圧症", "malignancy"),
        ("悪性症候群", "malignancy"),
        ("胃上皮内癌", "malignancy"),
        ("子宮頸部異形成", "malignancy"),
        ("類白血病反応", "malignancy"),
        ("転移性石灰化", "malignancy"),
        ("遺伝性乳癌卵巣癌症候群", "malignancy"),
        ("大腸癌の疑い", "malignancy"),
        ("乳癌家族歴", "malignancy"),
        ("偽リンパ腫", "lymphoma"),
        ("肥満細胞症", "obesity"),
        ("酒さ様皮膚炎", "rosacea"),
        ("口囲皮膚炎", "rosacea"),
        ("水痘", "herpes_zoster"),
        ("単純ヘルペス", "herpes_zoster"),
        ("類乾癬", "psoriasis"),
        ("若年性関節リウマチ", "ra"),
        ("リウマチ熱", "ra"),
        ("肺炎球菌ワクチン接種", "serious_infection"),
        ("間質性肺炎", "serious_infection"),
        ("無菌性髄膜炎", "serious_infection"),
        ("偽性髄膜炎", "serious_infection"),
        ("非結核性抗酸菌症", "tb_active"),
        ("潜在性結核感染症", "tb_active"),
        ("妊娠反応陰性", "pregnancy"),
        ("不妊症", "pregnancy"),
        ("妊娠糖尿病", "diabetes"),
        ("境界型糖尿病", "diabetes"),
        ("肺高血圧症", "hypertension"),
        ("門脈圧亢進症", "hypertension"),
        ("心臓喘息", "chronic_lung_disease"),
        ("脂肪塞栓症候群", "pe"),
        ("羊水塞栓症", "pe"),
        ("外傷性くも膜下出血", "stroke"),
        ("熱中症", "stroke"),
        ("脊髄性間欠性跛行", "pad"),
        ("食道憩室", "diverticulitis"),
        ("ＨＢｓ抗体陽性", "hbv_chronic"),
        ("Ｂ型肝炎ワクチン接種", "hbv_chronic"),
        ("関節リウマチ母体より出生した児", "ra"),
        ("新生児敗血症", "serious_infection"),
        ("原发性胆汁性肝硬化", "cirrhosis"),
        ("肺动脉高压", "hypertension"),
        ("假性淋巴瘤", "lymphoma"),
        ("妊娠の可能性あり", "pregnancy"),
        ("妊娠可能年齢", "pregnancy"),
        ("冠心病待排", "cad"),
        ("癌胚抗原升高", "malignancy"),
        ("防癌体检", "malignancy"),
        ("糖尿病教育入院", "diabetes"),
        ("脳梗塞予防", "stroke"),
        ("乙肝表面抗体阳性", "hbv_chronic"),
        ("非糖尿病性低血糖性昏睡", "diabetes"),
        ("結核菌素试验阳性", "tb_active"),
        ("考虑肺炎", "serious_infection"),
        ("糖尿病内科", "diabetes"),
        ("がん相談支援センター", "malignancy"),
        ("乳癌手術", "malignancy"),
        ("肺癌化疗", "malignancy"),
        ("間質性肺氣腫", "ild"),  # air in the interstitium, not interstitial lung disease
        ("代償性肺氣腫", "chronic_lung_disease"),
        ("原發性肺性高血壓", "hypertension"),
        ("续发性肺动脉高血压", "hypertension"),
        ("高血壓性心臟病未伴有心臟衰竭", "heart_failure"),
        ("慢性嗜伊紅性肺炎", "serious_infection"),
        ("吸入油及精油所致之肺炎", "serious_infection"),
        ("人類間質肺炎病毒引起之急性細支氣管炎", "serious_infection"),  # the virus's name
        ("肺炎黴漿菌所致急性支氣管炎", "serious_infection"),
        ("伴有皮質下梗塞的常染色體顯性遺傳性腦動脈病變", "stroke"),  # CADASIL
        ("外傷性蜘蛛網膜下腔出血", "stroke"),
        ("C型肝炎未伴有肝昏迷", "hepatic_impairment_severe"),
        ("幼年型類風濕性關節炎", "ra"),
        ("類風濕因子陽性", "ra"),
        ("風濕性心臟病", "extra_articular_ra"),  # rheumatic (fever) heart disease
        ("リウマチ性心疾患", "extra_articular_ra"),
        ("幼年型類風濕性血管炎", "extra_articular_ra"),
        ("类干癣", "psoriasis"),
    ],
)
def test_japanese_and_chinese_look_alikes_are_not_the_concept(display, not_concept):
    concepts = set().union(*(p.concepts for p in facts(display).problems))
    assert not_concept not in concepts


def test_a_compound_the_negation_qualifiers_cut_is_unclassified_never_negated():
    f = facts("無症候性脳梗塞")  # 'silent' cerebral infarction: the 無 is no negation
    assert f.problems == []
    assert len(f.unclassified_conditions) == 1


@pytest.mark.parametrize(
    ("display", "concept"),
    [
        ("関節リウマチ・合併症なし", "ra"),
        ("血清反応陽性関節リウマチ・膝関節・合併症なし", "ra"),
        ("２型糖尿病・糖尿病性合併症なし", "diabetes"),
        ("2型糖尿病 无并发症", "diabetes"),
    ],
)
def test_without_complications_is_the_disease_not_its_denial(display, concept):
    (p,) = facts(display).problems
    assert concept in p.concepts and p.by_name and p.active


def test_a_chinese_negation_is_still_read_as_no_condition():
    f = facts("无高血压")
    assert f.problems == [] and f.unclassified_conditions == []


# "history of X" in Japanese and Chinese, read as the English "history of X" is (SPEC §6): X,
# recorded as past (inactive), whatever the problem list's clinicalStatus says; the rules decide
# which concepts count a history (a past VTE, cancer within 5 years) and which are active-only.
# A sequela of X (X後遺症) and "after an operation for X" (X術後) are read the same way.
@pytest.mark.parametrize(
    ("display", "concept"),
    [
        # Japanese
        ("脳梗塞後遺症", "stroke"),
        ("乳癌術後", "malignancy"),
        ("胃癌手術後", "malignancy"),
        ("過去の脳梗塞", "stroke"),
        ("深部静脈血栓症の既往", "dvt"),
        ("肺血栓塞栓症既往あり", "pe"),
        # Chinese, traditional characters
        ("腦梗塞後遺症", "stroke"),
        ("乳房惡性腫瘤之個人史", "malignancy"),
        ("非何杰金氏淋巴瘤之個人史", "lymphoma"),
        ("肺栓塞之個人史", "pe"),
        # Chinese, simplified characters
        ("脑梗死后遗症", "stroke"),
        ("乳腺癌术后", "malignancy"),
        ("深静脉血栓病史", "dvt"),
        ("曾患肺结核", "tb_active"),
        ("既往史：糖尿病", "diabetes"),
    ],
)
def test_history_sequela_and_after_surgery_are_the_concept_as_history(display, concept):
    (p,) = facts(display).problems
    assert concept in p.concepts and p.by_name
    assert not p.active  # a history, never the current condition


@pytest.mark.parametrize("display", ["妊娠糖尿病の既往", "早期分娩之個人史", "妊娠高血压病史"])
def test_a_past_pregnancy_is_no_pregnancy_now_nor_unclassified(display):
    f = facts(display)
    assert "pregnancy" not in set().union(*(p.concepts for p in f.problems))
    assert f.unclassified_conditions == []


@pytest.mark.parametrize(
    "display",
    [
        "脳梗塞後遺症の家族歴",  # family history
        "乳癌家族史",
        "糖尿病之家族史",
        "乳癌術後の疑い",  # suspected
        "疑似肺栓塞病史",
        "疑肺结核后遗症",
        "深部静脈血栓症の既往否定",  # ruled out
        "肺栓塞病史已排除",
        "乳癌術後検診",  # screening
        "大腸癌術後篩檢",
        "乳腺癌术后筛查",
    ],
)
def test_history_words_with_a_look_alike_are_not_the_concept(display):
    f = facts(display)
    assert f.problems == []
    assert f.unclassified_conditions == []  # known to be no current or past condition


@pytest.mark.parametrize("display", ["術後肺炎", "术后肺栓塞", "乳癌術後再発"])
def test_a_postoperative_condition_or_a_recurrence_is_not_read_as_history(display):
    f = facts(display)  # current conditions the name reader does not claim to understand
    assert all(p.active for p in f.problems)
    assert f.problems or f.unclassified_conditions


@pytest.mark.parametrize(
    ("display", "concept"),
    [
        # Taiwan ICD-10-CM J84.111 'idiopathic interstitial pneumonia, not otherwise specified':
        # the leading 沒有 belongs to 沒有其他特定 (NOS), it denies nothing
        ("沒有其他特定特發性間質性肺炎", "ild"),
        ("没有其他特定特发性间质性肺炎", "ild"),
        ("特發性間質性肺炎，沒有其他特定", "ild"),
        ("Idiopathic interstitial pneumonia, not otherwise specified", "ild"),
        ("其他特定形態之慢性缺血性心臟病", "cad"),  # 'other specified': untouched
    ],
)
def test_not_otherwise_specified_is_the_disease_never_its_denial(display, concept):
    f = facts(display)
    assert concept in set().union(*(p.concepts for p in f.problems))


def test_a_denial_after_the_unspecified_phrase_is_still_a_denial():
    f = facts("沒有特發性間質性肺炎")  # 'no idiopathic interstitial pneumonia'
    assert f.problems == []
    assert f.unclassified_conditions == []
