"""Passage splitting on the seed reports and on constructed documents."""

from __future__ import annotations

import math
import re

import pytest

from index.ingest.metadata import infer_facts
from index.ingest.passages import PassageLimits, split_passages
from index.text.normalize import clean_display_line
from tests.conftest import SEED_FILES, seed_text

LIMITS = PassageLimits()


def paragraphs_of(text: str) -> list[str]:
    return [line for line in (clean_display_line(raw) for raw in text.splitlines()) if line]


def split(text: str, limits: PassageLimits = LIMITS):
    paragraphs = paragraphs_of(text)
    skip = infer_facts(paragraphs, "file").skip
    return paragraphs, split_passages(paragraphs, limits, skip=skip)


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_seed_passages_respect_size_limits_and_offsets(path):
    paragraphs, passages = split(path.read_text(encoding="utf-8"))
    document = "\n".join(paragraphs)
    assert passages
    body_chars = sum(len(p) for p in paragraphs)
    sentences = len(re.findall(r"[。；！？]", document)) + len(paragraphs)
    assert math.ceil(body_chars / LIMITS.max_chars) <= len(passages) <= sentences
    for passage in passages:
        assert 0 < len(passage.text) <= LIMITS.max_chars
        assert document[passage.start : passage.end] == passage.text
        assert passage.text == passage.text.strip()


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_seed_passages_lose_no_text_but_headings(path):
    """Every character is in a passage, except heading lines, which are in the paths."""
    paragraphs, passages = split(path.read_text(encoding="utf-8"))
    document = "\n".join(paragraphs)
    covered = [False] * len(document)
    for passage in passages:
        covered[passage.start : passage.end] = [True] * (passage.end - passage.start)
    skipped = set(paragraphs[: infer_facts(paragraphs, "file").skip])  # title and page furniture
    labels = {label for p in passages for label in p.section}
    uncovered = re.findall(r"[^\n]+", "".join(ch if not c else "\n" for ch, c in zip(document, covered, strict=True)))
    for run in uncovered:
        words = run.strip().lstrip("─—").rstrip("。：:；").strip()
        if not words or run.strip() in skipped:
            continue
        assert any(label.startswith(words) for label in labels), f"text lost from passages: {run!r}"


def test_seed_passage_sizes_are_mostly_readable():
    lengths = [len(p.text) for path in SEED_FILES for p in split(path.read_text(encoding="utf-8"))[1]]
    in_range = sum(1 for n in lengths if LIMITS.min_chars <= n <= LIMITS.target_chars)
    assert in_range / len(lengths) >= 0.75
    assert max(lengths) <= LIMITS.max_chars


@pytest.mark.parametrize(
    ("prefix", "needle", "section"),
    [
        # The example of the issue: a 一是 paragraph heads the paragraphs below it.
        ("003", "做好棚改工作收尾攻坚", ("二、今年工作总体安排", "三是加快实施城市更新行动")),
        ("003", "坚持施工现场疫情防控常态化措施不放松", ("二、今年工作总体安排", "一是慎终如始抓好疫情常态化防控")),
        # Inline enumeration inside a （一） paragraph.
        (
            "000",
            "就地安置不超四年",
            (
                "二、2022年重点工作",
                "（一）点面结合，在城市建设上出实招",
                "二是聚焦民生热点，提升人民群众满意度",
            ),
        ),
        ("000", "新增停车位XX个", ("一、2021年亮点工作", "（三）市政设施不断提升品质")),
        # The ── lead of a summary is a heading; its dashes are not part of the name.
        ("001", "龙湖整改工作累计拆除", ("一、履职尽责方面", "全力抓龙湖项目整改，工作成效明显")),
        ("002", "累计完成既有住宅加装电梯", ("一、2022年重点工作", "（一）住在*打造城市“金名片”")),
        ("004", "年内完成投资*元以上", ("三、下半年工作计划", "一是高质量推进城市更新，着力提升城市品质")),
    ],
)
def test_seed_heading_paths(prefix, needle, section):
    _, passages = split(seed_text(prefix))
    (passage,) = [p for p in passages if needle in p.text]
    assert passage.section == section


def test_title_line_is_not_a_passage():
    paragraphs, passages = split(seed_text("002"))
    assert paragraphs[0] == "区住建局2022年工作总结和2023年工作思路的汇报"
    assert all("工作思路的汇报" not in p.text for p in passages)


def test_salutation_joins_the_opening_passage():
    _, passages = split(seed_text("003"))
    assert passages[0].text.startswith("同志们:")
    assert "今天，我们召开全市住房和城乡建设会议" in passages[0].text


def test_redaction_marks_stay_in_display_text():
    _, passages = split(seed_text("000"))
    assert any("总建筑面积XXX万平方米" in p.text for p in passages)
    _, passages = split(seed_text("003"))
    assert any("实施*****平方米" in p.text for p in passages)


def test_regulation_style_headings():
    text = "\n".join(
        [
            "第一章 总则",
            "第一条 为规范保障性租赁住房管理，制定本办法。",
            "第二条 本办法适用于本市行政区域内保障性租赁住房的筹集、建设和运营管理。",
            "第二章 筹集建设",
            "1. 加快项目建设",
            "（1）新建项目。2023年计划新建保障性租赁住房1000套（间），其中集中式项目不少于600套。",
            "（2）改建项目。支持将闲置厂房、商业办公用房改建为保障性租赁住房，全年改建200套。",
        ]
    )
    _, passages = split(text)
    sections = {p.text: p.section for p in passages}
    article = next(t for t in sections if "为规范保障性租赁住房管理" in t)
    assert sections[article] == ("第一章 总则", "第一条")
    assert article.startswith("第一条")  # an article's words are content, kept in the passage
    new_build = next(t for t in sections if "新建保障性租赁住房1000套" in t)
    assert sections[new_build] == ("第二章 筹集建设", "1. 加快项目建设", "（1）新建项目")
    rebuild = next(t for t in sections if "改建200套" in t)
    assert sections[rebuild] == ("第二章 筹集建设", "1. 加快项目建设", "（2）改建项目")


def test_long_paragraph_is_cut_at_sentence_boundaries():
    sentence = "全年新开工老旧小区改造项目12个，惠及居民3600户，完成投资2.5亿元。"
    text = "（一）老旧小区改造。" + sentence * 30
    _, passages = split(text)
    assert len(passages) >= 3
    for passage in passages:
        assert passage.text.endswith("。")
        assert len(passage.text) <= LIMITS.target_chars
        assert passage.section == ("（一）老旧小区改造",)


def test_run_without_punctuation_is_cut_before_a_number():
    run = "新建停车位1234.5万平方米" * 60  # 960 characters, no sentence or clause mark
    _, passages = split(run)
    assert len(passages) >= 2
    figure = re.compile(r"1234\.5万平方米")
    assert sum(len(figure.findall(p.text)) for p in passages) == 60
    for passage in passages:
        assert len(passage.text) <= LIMITS.max_chars


def test_comma_inside_a_number_is_not_a_clause_boundary():
    clause = "累计完成投资12,500万元"
    text = "，".join([clause] * 60)  # a 900-character sentence, cut at clauses
    _, passages = split(text)
    assert len(passages) >= 2
    assert sum(p.text.count("12,500万元") for p in passages) == 60


def test_limits_are_validated():
    with pytest.raises(ValueError, match="min_chars"):
        PassageLimits(min_chars=400, target_chars=300, max_chars=500)
