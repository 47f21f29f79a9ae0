"""Rendering replies: citations, highlighting, trimming, escaping, length."""

from __future__ import annotations

from bot.render.answers import citation, excerpt, highlight, render_answer, render_no_answer
from bot.render.markup import TEXT_LIMIT, html_to_text
from bot.render.sources import short_title
from bot.render.texts import HELP_TEXT
from index.api import Hit, PassageView
from index.search.results import highlight_spans
from tests.telegram_html import assert_telegram_html

SECTION = ("一、2022年重点工作", "（一）城市更新")


def hit(text: str, matched=("加装电梯",), rank: int = 1, section: tuple[str, ...] = SECTION) -> Hit:
    passage = PassageView(rank, "report.txt", "区住建局<2022>工作总结", 2022, section, 0, text)
    return Hit(rank, 10.0 / rank, 1.0, passage, highlight_spans(text, matched))


def test_answer_cites_document_year_and_section():
    markup = render_answer("加装电梯完成多少台", [hit("累计完成既有住宅加装电梯*台，提前半年完成。")], 220)
    text = assert_telegram_html(markup)
    assert "《区住建局<2022>工作总结》 · 2022年" in text
    assert "一、2022年重点工作 › （一）城市更新" in text
    assert "<b>加装电梯</b>" in markup
    assert "&lt;2022&gt;" in markup


def test_highlight_escapes_report_text():
    text = "A&B <script> 加装电梯"
    assert highlight(text, highlight_spans(text, ["加装电梯"])) == "A&amp;B &lt;script&gt; <b>加装电梯</b>"


def test_highlight_spans_match_traditional_spelling_and_skip_single_characters():
    text = "加裝電梯35台"
    assert highlight_spans(text, ["加装电梯", "台"]) == ((0, 4),)
    assert highlight(text, ((0, 4),)) == "<b>加裝電梯</b>35台"


def test_overlapping_terms_make_one_span():
    assert highlight_spans("既有住宅加装电梯", ["住宅加装", "加装电梯"]) == ((2, 8),)


def test_long_passage_is_trimmed_around_the_match():
    before, after = "开展党史学习教育，推动工作扎实开展。" * 10, "加强作风建设，转变工作作风。" * 10
    text = before + "累计完成既有住宅加装电梯*台。" + after
    trimmed, spans = excerpt(text, highlight_spans(text, ["加装电梯"]), 120)
    assert "加装电梯" in trimmed
    assert [trimmed[start:end] for start, end in spans] == ["加装电梯"]
    assert trimmed.startswith("…") and trimmed.endswith("…")
    assert len(trimmed) <= 120 + 2 + 60


def test_short_passage_is_not_trimmed():
    text = "新增停车位XX个。"
    assert excerpt(text, highlight_spans(text, ["停车位"]), 220) == (text, [(2, 5)])


def view(section: tuple[str, ...], title: str = "报告", place: str | None = None, year: int | None = 2022):
    return PassageView(1, "report.txt", title, year, section, 0, "", place)


def test_item_lead_is_not_repeated_in_the_citation():
    section = ("二、今年工作总体安排", "三是加快实施城市更新行动")
    assert "三是" not in citation(view(section), "三是加快实施城市更新行动。在市委市政府领导下……")
    assert "三是" in citation(view(section), "推动老旧小区改造进入新阶段。")
    shortened = ("一、履职尽责方面", "二是2021年实施的XX个小区XXX户老…")
    assert "二是" not in citation(view(shortened), "二是2021年实施的XX个小区XXX户老旧小区改造已全部开工建设")


def test_citation_names_the_place_unless_the_title_does():
    assert citation(view((), "区住建局2022年工作总结", "平阳县"), "") == "《区住建局2022年工作总结》 · 平阳县 · 2022年"
    titled = citation(view((), "平阳县住建局2021年工作综述", "平阳县", 2021), "")
    assert titled == "《平阳县住建局2021年工作综述》 · 2021年"
    assert citation(view((), "工作汇报", None, None), "") == "《工作汇报》"


def test_long_titles_are_cut_at_a_break_within_thirty_characters():
    title = "某某市住房和城乡建设局关于2023年度城市更新工作总结暨2024年工作计划的报告"
    assert short_title(title) == "某某市住房和城乡建设局关于2023年度城市更新工作总结…"
    unbroken = "某" * 40
    assert short_title(unbroken) == "某" * 29 + "…"
    assert short_title("区住建局2022年工作总结和2023年工作思路的汇报") == "区住建局2022年工作总结和2023年工作思路的汇报"


def test_ten_long_hits_stay_under_the_telegram_limit():
    text = "累计完成既有住宅加装电梯*台，" * 33
    hits = [hit(text, rank=r, section=("一、" + "很长的标题" * 20,)) for r in range(1, 11)]
    markup = render_answer("加装电梯", hits, excerpt_chars=1000)
    assert_telegram_html(markup, TEXT_LIMIT)


def test_no_answer_is_honest_and_escaped():
    markup = render_no_answer("<b>火锅</b>推荐" + "很" * 100)
    text = assert_telegram_html(markup)
    assert text.startswith("没有在报告中找到")
    assert "/help" in text and "…" in text


def test_help_has_two_example_questions():
    text = assert_telegram_html(HELP_TEXT)
    assert text.count("？") >= 2 and "/ask" in text


def test_html_to_text_inverts_escaping():
    assert html_to_text("<b>1.</b> A &amp; B &lt;x&gt;") == "1. A & B <x>"
