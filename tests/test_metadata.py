"""Document metadata inferred from the seed reports."""

from __future__ import annotations

import pytest

from index.ingest.metadata import document_kind, find_title, issuing_level, passage_year
from index.ingest.passages import split_passages
from index.text.normalize import clean_display_line
from index.text.periods import years_in
from tests.conftest import seed_text


def analyse(prefix: str):
    paragraphs = [p for p in (clean_display_line(line) for line in seed_text(prefix).splitlines()) if p]
    title = find_title(paragraphs)
    passages = split_passages(paragraphs, skip=1 if title else 0)
    top = list(dict.fromkeys(p.section[0] for p in passages if p.section))
    return paragraphs, title, passages, top


def test_title_line_is_recognised_only_when_it_is_a_title():
    assert analyse("002")[1] == "区住建局2022年工作总结和2023年工作思路的汇报"
    assert analyse("000")[1] is None  # starts with a numbered heading
    assert analyse("003")[1] is None  # starts with a salutation
    assert analyse("004")[1] is None  # starts with a sentence


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [("000", "总结"), ("001", "总结"), ("002", "总结"), ("003", "讲话"), ("004", "总结")],
)
def test_document_kind(prefix, kind):
    _, title, passages, top = analyse(prefix)
    assert document_kind(title, top, passages[0].text) == kind


def test_plan_kind_from_headings():
    assert document_kind(None, ["一、2024年工作思路", "二、保障措施"], "2024年，我局将……") == "计划"
    assert document_kind(None, ["一、概况"], "会议纪要") == "其他"


@pytest.mark.parametrize(("prefix", "level"), [("002", "区"), ("003", "市"), ("000", "区")])
def test_issuing_level(prefix, level):
    paragraphs, title, _, _ = analyse(prefix)
    assert issuing_level(title, paragraphs) == level


def test_issuing_level_unknown_when_not_stated():
    assert issuing_level(None, ["加强住房保障工作。"]) is None


def test_years_and_passage_year():
    assert years_in("2021年亮点工作，2022年重点工作，“十四五”，12345热线，5.12防灾日") == [2021, 2022]
    years = [2021, 2022]
    assert passage_year(("一、2021年工作回顾", "（一）物业管理"), years) == 2021
    assert passage_year(("二、今年工作总体安排", "一是疫情防控"), years) == 2022
    assert passage_year(("一、去年工作回顾",), years) == 2021
    assert passage_year(("一、履职尽责方面",), years) == 2022
    assert passage_year(("一、履职尽责方面",), []) is None
