"""Questions in staff's own words: back-off, abbreviations, typos, evidence for "nothing
found", place and year steering, near-duplicates, long questions, months and figures."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from pypinyin import lazy_pinyin
from sqlmodel import Session, select

from index.api import RankingSettings
from index.search.near_copies import first_distinct
from index.search.searcher import _DocumentPlaces
from index.search.vocabulary import AbbreviationTable, TypoTable, component_words
from index.store.models import Passage
from index.text.normalize import index_form
from index.text.periods import month_ranges
from index.text.places import gazetteer
from tests.conftest import open_library, write_corpus

# The other work of a year, as every report has it: the passages the question is not about.
OTHER_WORK = (
    "二、燃气安全\n燃气管道老化更新改造全面开工，入户安检覆盖全部居民用户，隐患当日整改。\n"
    "三、物业管理\n推行物业服务信息公开，业主满意度测评覆盖全部住宅小区，投诉办结率明显提高。\n"
    "四、建筑市场\n开展建筑施工安全专项检查，查处违法分包转包行为，农民工工资专户全面落实。\n"
    "五、住房保障\n发放市场租房补贴，公租房实物配租有序推进，保障性租赁住房建设加快。\n"
    "六、城市管理\n整治背街小巷环境，新增公共停车位，推进垃圾分类和公共厕所提升改造。\n"
)
BEIJING = (
    "北京市住房和城乡建设委员会2023年工作总结\n"
    "一、老旧小区改造\n"
    "2023年，全市新开工改造老旧小区300个，完工100个，惠及居民5万户。\n" + OTHER_WORK
)
SHANDONG = (
    "山东省住房和城乡建设厅2023年工作总结\n"
    "一、老旧小区改造\n"
    "2023年，全省新开工改造老旧小区2900个，完工1800个，惠及居民40万户。\n" + OTHER_WORK
)
SHANDONG_2022 = (
    "山东省住房和城乡建设厅2022年工作总结\n"
    "一、老旧小区改造\n"
    "2022年，全省新开工改造老旧小区2600个，完工1500个，惠及居民36万户。\n" + OTHER_WORK
)


def first_text(library, question: str) -> str:
    hits = library.search(question, k=3)
    assert hits, question
    return hits[0].passage.text


@pytest.fixture
def provinces(tmp_path):
    corpus = write_corpus(tmp_path, {"北京2023.txt": BEIJING, "山东2023.txt": SHANDONG, "山东2022.txt": SHANDONG_2022})
    return open_library(tmp_path, corpus)


def test_a_place_in_the_question_prefers_that_places_reports(provinces):
    assert "全省新开工改造老旧小区2900个" in first_text(provinces, "山东2023年老旧小区开工了多少个")
    assert "全市新开工改造老旧小区300个" in first_text(provinces, "北京2023年老旧小区开工了多少个")


def test_a_place_no_report_is_about_is_said_before_the_nearest_passages(provinces):
    answer = provinces.answer("福州老旧小区开工了多少个", k=3)
    assert answer.hits and answer.missing_places == ("福州市",)


def test_a_year_prefers_its_passages_and_relative_years_count_from_the_newest_report(provinces):
    assert "2600个" in first_text(provinces, "山东2022年老旧小区开工了多少个")
    answer = provinces.answer("山东去年老旧小区开工了多少个", k=3)
    assert answer.relative_years == (("去年", 2022),)  # the newest report is about 2023
    assert "2600个" in answer.hits[0].passage.text
    assert provinces.answer("山东2019年老旧小区开工了多少个", k=3).missing_years == (2019,)


def test_a_question_in_traditional_script_and_full_width_digits_is_steered_alike(provinces):
    question = "山東２０２２年老舊小區開工了多少個"
    parsed = provinces.parse(question)
    assert parsed.folded == index_form(parsed.text) == "山东2022年老旧小区开工了多少个"
    answer = provinces.answer(parsed, k=3)
    assert "2600个" in answer.hits[0].passage.text  # the place and year were read from the folded text
    assert provinces.answer("廣州老舊小區開工了多少個", k=3).missing_places == ("广州市",)


def test_steering_off_ranks_by_words_alone(tmp_path):
    corpus = write_corpus(tmp_path, {"北京2023.txt": BEIJING, "山东2023.txt": SHANDONG})
    steered = open_library(tmp_path / "a", corpus)
    plain = open_library(tmp_path / "b", corpus, ranking=RankingSettings(place_boost=0.0))
    question = "北京老旧小区开工了多少个"
    assert steered.search(question)[0].score > plain.search(question)[0].score


def test_abbreviations_are_mined_from_the_corpus_terms():
    assert component_words("老旧小区改造") == ["老旧", "小区", "改造"]
    assert component_words("保障性租赁住房") == ["保障性", "租赁", "住房"]
    table = AbbreviationTable({"老旧小区改造": 30, "旧城改造": 3, "加装电梯": 12, "电梯": 40})
    assert [e.term for e in table.expand("旧改")] == ["老旧小区改造", "旧城改造"]
    assert table.expand("加梯")[0].term == "加装电梯"
    assert table.expand("电梯") == ()  # a word the corpus uses is not an abbreviation
    assert table.expand("改旧") == ()  # the order of the characters counts


def test_an_abbreviation_the_corpus_never_writes_is_searched_as_its_term(seed_index):
    answer = seed_index.answer("物管投诉有多少", k=3)
    assert answer.rewrites == (("物管", "物业管理"),)
    assert any("物业管理" in h.passage.text for h in answer.hits)
    assert ("物管", seed_index.abbreviations(["物管"])[0][1][0].term) == ("物管", "物业管理")


def test_a_one_character_typo_is_corrected_and_said(seed_index):
    answer = seed_index.answer("加状电梯累计完成了多少台", k=3)
    assert ("加状电梯", "加装电梯") in answer.rewrites
    assert "加装电梯" in answer.hits[0].passage.text
    right = seed_index.search("加装电梯累计完成了多少台", k=3)
    assert answer.hits[0].passage.id == right[0].passage.id


def test_typos_need_the_same_sound_in_short_words():
    table = TypoTable({"加装电梯": 5, "燃气管道": 4, "事业": 9})
    assert table.correct("加状电梯").term == "加装电梯"  # zhuang = zhuang
    assert table.correct("加快电梯").term == "加装电梯"  # four characters: three agree
    assert table.correct("燃气管道", same_sound=True) is None  # a corpus term needs no correction
    assert table.correct("失业") is None  # two characters: too many neighbours


class _NoPrefilter(set):
    """Stands for a typo table's intact parts so that no word is turned away early."""

    def isdisjoint(self, other) -> bool:
        return False


def test_the_typo_prefilter_never_changes_a_correction(seed_index):
    frequencies = seed_index.serving.interpreter.frequencies
    table, unfiltered = TypoTable(frequencies), TypoTable(frequencies)
    unfiltered.intact = _NoPrefilter()
    terms = [t for t in frequencies if 3 <= len(t) <= 8]
    characters = sorted({c for t in terms for c in t})
    rng = random.Random(11)
    words = []
    for term in rng.sample(terms, min(400, len(terms))):  # one character changed anywhere
        position = rng.randrange(len(term))
        words.append(term[:position] + rng.choice(characters) + term[position + 1 :])
    words += ["".join(rng.choices(characters, k=rng.randint(3, 6))) for _ in range(300)]  # mostly no term
    by_sound: dict[str, list[str]] = {}
    for character in characters:
        by_sound.setdefault(lazy_pinyin(character)[0], []).append(character)
    for term in (t for t in terms if len(t) == 3):  # the middle one replaced by a same-sounding character
        words += [term[0] + c + term[2] for c in by_sound[lazy_pinyin(term[1])[0]] if c != term[1]][:2]
    assert sum(table.correct(w) is not None for w in words) > 50  # the words do meet corrections
    assert any(len(w) == 3 and table.correct(w) is not None for w in words)
    for word in words:
        for same_sound in (False, True):
            assert table.correct(word, same_sound) == unfiltered.correct(word, same_sound), word
            assert table.may_correct(word) or unfiltered.correct(word, same_sound) is None, word


def test_a_question_word_the_corpus_never_uses_does_not_sink_the_answer(seed_index):
    # 筹 is never a word of the reports (they write 筹集); the rest of the question decides.
    hits = seed_index.search("保租房一共筹了多少套", k=3)
    assert hits and any("保障性租赁住房" in h.passage.text for h in hits)


@pytest.mark.parametrize(
    "question",
    [
        "幼儿园保育费有补贴吗",
        "护照在哪里办",
        "本周末有没有台风",
        "延迟退休的政策是什么",
        "个税汇算清缴截止时间",
        "电动车上牌去哪里办",  # 电动自行车 is a field term, but 上牌 is an action no report names
    ],
)
def test_questions_sharing_only_everyday_words_with_the_reports_find_nothing(seed_index, question):
    assert seed_index.search(question) == []


def test_an_unseen_everyday_verb_does_not_sink_a_question_the_reports_answer(seed_index):
    hits = seed_index.search("老旧小区改造听说完成了多少", k=3)  # 听说: never in the reports
    assert hits and all("老旧小区" in h.passage.text for h in hits)


def test_everyday_words_carry_less_evidence_than_field_terms(seed_index):
    interpreter = seed_index.serving.interpreter
    assert interpreter.specificity("燃气") > 0.8 and interpreter.specificity("排查") > 0.8
    assert interpreter.specificity("时间") < 0.3 and interpreter.specificity("周末") < 0.3


def test_the_synonym_table_maps_a_word_the_reports_do_not_use(seed_index):
    # The seed reports write 公厕, never 公共厕所.
    assert "公厕" in first_text(seed_index, "公共厕所改造了多少座")


def test_a_long_rambling_question_is_searched_by_its_key_concepts(seed_index):
    question = (
        "我想问一下，就是我们这边的老百姓都很关心的那个事情，既有住宅加装电梯今年到底一共完成了多少台，"
        "还有补贴的钱什么时候能发下来，麻烦帮忙查一下报告里是怎么说的"
    )
    hits = seed_index.search(question, k=3)
    assert hits and any("加装电梯" in h.passage.text for h in hits)


def test_a_copied_passage_appears_once(tmp_path):
    digest = SHANDONG.replace("工作总结", "工作总结导读") + "（摘要）\n"
    corpus = write_corpus(tmp_path, {"山东2023.txt": SHANDONG, "山东2023导读.txt": digest})
    deduplicated = open_library(tmp_path / "a", corpus)
    texts = [h.passage.text for h in deduplicated.search("山东老旧小区开工", k=5)]
    assert sum("2900个" in t for t in texts) == 1
    both = open_library(tmp_path / "b", corpus, ranking=replace(RankingSettings(), deduplicate=False))
    assert sum("2900个" in h.passage.text for h in both.search("山东老旧小区开工", k=5)) == 2


def _string_shingle_choice(texts, threshold, limit):
    """The definition, with sets of 3-character strings."""
    kept, kept_sets = [], []
    for number, text in enumerate(texts):
        text = "".join(text.split())
        shingles = {text[i : i + 3] for i in range(max(1, len(text) - 2))}
        overlaps = [len(shingles & other) / max(1, min(len(shingles), len(other))) for other in kept_sets]
        if all(overlap < threshold for overlap in overlaps):
            kept.append(number)
            kept_sets.append(shingles)
            if len(kept) == limit:
                break
    return kept


def test_near_copies_by_integer_shingles_equal_the_string_definition(seed_index):
    rng = random.Random(5)
    with Session(seed_index.engine) as session:
        texts = [index_form(text) for text in session.exec(select(Passage.text))]
    for _ in range(300):
        picked = rng.sample(texts, 12)
        # Near-copies: a passage with a few characters changed, cut short, spaced out.
        picked += [t[: rng.randrange(len(t) + 1)] for t in picked[:4]]
        picked += [t.replace("，", " ，") for t in picked[4:6]] + ["", "电梯", "改 造", "　"]
        rng.shuffle(picked)
        for threshold in (0.3, 0.7, 1.0):
            assert first_distinct(picked, threshold, 8) == _string_shingle_choice(picked, threshold, 8)


def test_months_are_compared_as_ranges():
    assert month_ranges("旧改前8个月开了多少个") == month_ranges("1至8月份，全国新开工") == {(1, 8)}
    assert month_ranges("上半年") == month_ranges("1—6月") == {(1, 6)}
    assert month_ranges("前三季度") == {(1, 9)} and month_ranges("二季度") == {(4, 6)}
    assert month_ranges("截至6月底开工了多少") == month_ranges("截至今年6月25日，全区已开工") == {(1, 6)}
    assert month_ranges("截至目前已开工") == set() and month_ranges("6月底前全部竣工") == set()


def test_a_number_question_prefers_the_passage_with_the_figure(tmp_path):
    report = (
        "区住建局2023年工作总结\n"
        "一、加装电梯\n"
        "加装电梯是民生实事，加装电梯工作要坚持居民自愿、加装电梯政策要宣传到位。\n"
        "二、成效\n"
        "全年完成既有住宅加装电梯56台。\n"
    )
    library = open_library(tmp_path, write_corpus(tmp_path, {"r.txt": report}))
    assert "56台" in first_text(library, "加装电梯完成了多少台")


def test_a_number_question_prefers_a_figure_of_the_kind_it_asks_for(tmp_path):
    report = (
        "区住建局2023年工作总结\n"
        "一、停车设施\n今年新增公共停车位760个，老城区停车难有所缓解。\n"
        "二、燃气安全\n开展燃气管道隐患排查，更新改造老化管网，目标是全年零事故。\n"
        "三、物业管理\n推进住宅小区物业服务全覆盖，成立业主委员会，完成率达到九成。\n"
        "四、建筑市场\n整治建筑市场秩序，查处违法分包行为。\n"
        "五、2024年工作安排\n围绕停车位供给，明年公共停车位力争新增800个，重点布局医院学校周边。\n"
    )
    library = open_library(tmp_path, write_corpus(tmp_path, {"r.txt": report}))
    # The plan passage says 停车位 twice and wins on words alone; the figure's kind decides.
    assert "760个" in first_text(library, "停车位完成了多少个")
    assert "800个" in first_text(library, "停车位的目标是多少个")


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("常德9月份排查了多少栋自建房", "栋"),
        ("开工了多少个老旧小区", "个"),
        ("完成投资多少亿", None),
        ("处置了多少万吨", "吨"),
    ],
)
def test_the_unit_a_question_asks_for_is_a_figure_unit(seed_index, question, unit):
    # The unit was once the three characters after 多少 (栋自建), which no figure has.
    assert seed_index.parse(question).unit == unit


def _same_place(document_place: str, asked: str) -> bool:
    """The definition: the place asked is the document's place, or its full name."""
    names = gazetteer()
    return document_place == asked or names.expand(document_place) == asked or document_place == names.expand(asked)


def test_a_place_asked_matches_the_documents_the_definition_says():
    documents = {
        "a": "北京市",
        "b": "山东省",
        "c": "浈江区",
        "d": None,
        "e": "河北省",
        "f": "河北区",
        "g": "全国",
        "h": "北京",
    }
    table = _DocumentPlaces(list(documents), documents, np.arange(len(documents) + 1))
    asked = {name for place in documents.values() if place for name in (place, gazetteer().expand(place))}
    asked |= {"北京", "山东", "河北", "浈江", "福州", "福州市", "韶关市", "全国", "本市"}
    for name in sorted(asked):
        expected = {number for number, place in enumerate(table.names) if _same_place(place, name)}
        assert table.codes(name) == expected, name
    assert table.codes("北京") == {table.code["北京市"], table.code["北京"]} and table.codes("福州") == set()
    assert table.row_codes.tolist()[:4] == [table.code["北京市"], table.code["山东省"], table.code["浈江区"], -1]
