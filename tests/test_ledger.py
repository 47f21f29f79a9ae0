"""The target ledger: storage, reload, keyword lookup, question figures, plan vs achieved."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import Session, select

from bot.config import ChatSettings
from bot.render.markup import html_to_text
from bot.replies import Responder
from index.api import Library
from index.figures.pairing import pair_plans
from index.store.models import Target
from tests.conftest import make_settings, open_library, silent, write_corpus
from tests.telegram_html import assert_telegram_html

PLAN_2024 = (
    "区住建局2024年工作计划\n"
    "一、2024年重点工作\n"
    "（一）住房保障。全年计划筹集保障性租赁住房1500套（间），新开工老旧小区改造项目20个。\n"
    "（二）城市更新。力争完成既有住宅加装电梯60台。\n"
)
SUMMARY_2024 = (
    "区住建局2024年工作总结\n"
    "一、2024年工作回顾\n"
    "（一）住房保障。全年筹集保障性租赁住房1620套（间），完成老旧小区改造项目18个。\n"
    "（二）城市更新。累计完成既有住宅加装电梯*台。\n"
)


FACTS = "全区基本情况\n一、基本情况\n全区共有城镇老旧小区120个，总面积约350万平方米。\n"


@pytest.fixture
def reports_2024(tmp_path):
    corpus = write_corpus(tmp_path, {"2024计划.txt": PLAN_2024, "2024总结.txt": SUMMARY_2024, "基本情况.txt": FACTS})
    return open_library(tmp_path, corpus)


def test_reload_stores_targets_and_reextracts_only_changed_documents(tmp_path, fresh_seed_corpus):
    seed_corpus = fresh_seed_corpus
    live = Library(make_settings(tmp_path, seed_corpus), notice=silent)
    report = live.open()
    assert report.targets > 150
    with Session(live.engine) as session:
        before = {(t.doc_id, t.id) for t in session.exec(select(Target))}
    changed = next(seed_corpus.glob("004_*.txt"))
    changed.write_text(changed.read_text(encoding="utf-8") + "\n五、补充\n全年新建口袋公园9个。\n", encoding="utf-8")
    report = live.reload()
    assert report.updated == [changed.name] and report.reextracted == 0
    with Session(live.engine) as session:
        after = {(t.doc_id, t.id) for t in session.exec(select(Target))}
        park = session.exec(select(Target).where(Target.indicator == "新建口袋公园")).one()
    unchanged = {pair for pair in before if pair[0] != changed.name}
    assert unchanged <= after  # other documents' targets kept their rows
    assert park.value == 9 and park.doc_id == changed.name
    assert {pair for pair in after if pair[0] == changed.name}.isdisjoint(before)


def test_removed_document_takes_its_targets(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    removed = next(seed_corpus.glob("002_*.txt"))
    removed.unlink()
    live.reload()
    with Session(live.engine) as session:
        assert session.exec(select(Target).where(Target.doc_id == removed.name)).all() == []


def test_abbreviation_finds_the_full_indicator(seed_index):
    records = seed_index.targets("保租房")
    assert records[0].indicator == "保障性租赁住房"
    assert all("保障性租赁住房" in r.sentence or "保障性租赁住房" in r.section for r in records)


def test_lookup_filters_by_year_and_kind(seed_index):
    records = seed_index.targets("停车位", year=2022)
    assert records and {r.year for r in records} == {2022}
    assert {r.kind for r in seed_index.targets("老旧小区改造", kind="plan")} == {"plan"}
    with pytest.raises(ValueError, match="plan, achieved, rate, other"):
        seed_index.targets("停车位", kind="done")


def test_lookup_needs_every_word(seed_index):
    assert seed_index.targets("加装电梯 火锅") == []
    assert seed_index.targets("火锅") == []
    both = seed_index.targets("加装电梯 完成")
    assert both and all("完成" in r.sentence for r in both)


def test_other_kind_is_ranked_last(reports_2024):
    records = reports_2024.targets("老旧小区")
    kinds = [r.kind for r in records]
    assert kinds.count("other") == 2 and kinds[-2:] == ["other", "other"]
    assert (records[-2].value, records[-2].doc_id) == (120.0, "基本情况.txt")  # named in the indicator
    assert records[-1].indicator == "总面积"  # only in the sentence
    assert records[0].indicator_match and records[0].kind != "other"


def test_record_json_contract(seed_index):
    record = seed_index.targets("解危率")[0].to_dict()
    assert set(record) == {
        "indicator", "value", "value_max", "value_text", "unit", "qualifier", "kind", "period", "year", "redacted",
        "sentence", "doc_id", "doc_title", "place", "section",
    }  # fmt: skip
    assert record["indicator"] == "解危率" and record["unit"] == "%" and record["kind"] == "rate"
    assert record["redacted"] is True and record["value"] is None and record["year"] == 2022


@pytest.mark.parametrize(
    ("question", "indicator"),
    [
        ("加装电梯累计完成了多少台？", "既有住宅加装电梯"),
        ("C级危房解危率是多少", "解危率"),
        ("今年计划新开工多少个老旧小区改造项目", "新开工老旧小区改造项目"),
        ("建筑业总产值增速目标", "建筑业总产值目标增速"),
        ("保租房今年筹集了多少套", "保障性租赁住房"),
    ],
)
def test_figures_for_number_questions(seed_index, question, indicator):
    assert indicator in [r.indicator for r in seed_index.figures(question)]


@pytest.mark.parametrize("question", ["今天天气怎么样多少度", "电视机有多少台", "火锅多少钱"])
def test_no_figures_for_unrelated_questions(seed_index, question):
    assert seed_index.figures(question) == []


def test_plan_and_achievement_are_paired_across_reports(reports_2024):
    named = [r for r in reports_2024.targets("保障性租赁住房") if r.indicator_match]
    (pair,) = pair_plans(named)
    assert (pair.plan.value, pair.achieved.value) == (1500.0, 1620.0)
    assert pair.plan.doc_id == "2024计划.txt" and pair.achieved.doc_id == "2024总结.txt"
    assert pair.met is True
    named = [r for r in reports_2024.targets("老旧小区改造", year=2024) if r.indicator_match]
    (missed,) = pair_plans(named)
    assert (missed.plan.value, missed.achieved.value, missed.met) == (20.0, 18.0, False)
    (unknown,) = pair_plans(reports_2024.targets("加装电梯"))
    assert unknown.met is None  # the achieved figure is redacted


def test_one_places_plan_never_pairs_with_another_places_result(tmp_path):
    plan = PLAN_2024.replace("区住建局", "平阳县住建局").replace("全年计划", "我县全年计划")
    summary = SUMMARY_2024.replace("区住建局", "苍南县住建局").replace("全年筹集", "我县全年筹集")
    library = open_library(tmp_path, write_corpus(tmp_path, {"平阳县计划.txt": plan, "苍南县总结.txt": summary}))
    named = [r for r in library.targets("保障性租赁住房") if r.indicator_match]
    assert {(r.place, r.kind) for r in named} == {("平阳县", "plan"), ("苍南县", "achieved")}
    assert pair_plans(named) == []
    same_place = [replace(r, place="平阳县") for r in named]
    assert len(pair_plans(same_place)) == 1  # the same two figures pair once the place agrees


def test_target_reply_shows_pairs_and_redactions(reports_2024):
    responder = Responder(reports_2024, ChatSettings())
    markup = responder.targets("加装电梯").text
    text = assert_telegram_html(markup)
    assert "计划与完成对照" in text and "数字不全，无法比较" in text
    assert "*台（原文数字已脱敏）" in text
    assert "力争" not in text.split("\n")[0]
    paired = html_to_text(responder.targets("保障性租赁住房").text)
    assert "计划 1500套（间）" in paired and "完成 1620套（间）" in paired and "已达成" in paired


def test_target_reply_filters_year_and_kind_words(seed_index):
    responder = Responder(seed_index, ChatSettings())
    text = html_to_text(responder.targets("老旧小区改造 2022 计划").text)
    lines = [line for line in text.split("\n") if line[:1].isdigit()]
    assert lines and all(" · 计划 · 2022年" in line for line in lines)


def test_long_target_list_says_how_many_more(seed_index):
    text = assert_telegram_html(Responder(seed_index, ChatSettings()).targets("项目").text)
    numbered = [line for line in text.split("\n") if line[:1].isdigit() and ". " in line[:4]]
    assert len(numbered) == 10
    assert "还有" in text and "条未显示" in text


@pytest.mark.parametrize("keyword", ["项目", "改造", "建设", "完成"])
def test_the_first_figures_of_a_limited_lookup_are_those_of_the_full_order(seed_index, keyword):
    everything = [(f.id, f.score) for f in seed_index.targets(keyword)]
    assert len(everything) > 10  # enough ties and rows for the partial sort to matter
    for limit in (1, 3, 10):
        assert [(f.id, f.score) for f in seed_index.targets(keyword, limit=limit)] == everything[:limit]
