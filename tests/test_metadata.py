"""What a report is — title, place, year, period, kind — on the seed reports and on pages
written the way bureau websites and newspapers publish them (issue 10)."""

from __future__ import annotations

import pytest

from index.ingest.metadata import document_kind, find_title, infer_facts, passage_year, title_score
from index.text.normalize import clean_display_line
from index.text.periods import years_in
from tests.conftest import seed_text


def facts_of(text: str, stem: str = "file_name_0001"):
    paragraphs = [p for p in (clean_display_line(line) for line in text.splitlines()) if p]
    return infer_facts(paragraphs, stem)


def seed_facts(prefix: str):
    return facts_of(seed_text(prefix), f"seed_{prefix}")


# A news page as a city's bureau site publishes it: menus, breadcrumb, share bar, a
# byline with source and date, a photo caption, then the story.
NEWS_PAGE = """\
网站首页 | 机构概况 | 政务公开 | 办事服务 | 互动交流
首页 > 新闻中心 > 工作动态
【字体：大 中 小】【打印本页】【关闭窗口】
分享到：微信 微博 QQ空间
江城市2023年一季度老旧小区改造和加装电梯进展情况
作者：王明 来源：江城市住房和城乡建设局 发布时间：2023-04-10 09:30
图为改造后的幸福里小区（记者 李华 摄）
今年以来，我市加快推进城镇老旧小区改造。截至3月底，全市已开工改造老旧小区46个，完成既有住宅加装电梯85台。
一、开工情况
全市计划全年改造老旧小区180个，一季度已开工46个，开工率25.6%。
"""


def test_a_title_among_page_furniture_is_found_by_its_shape():
    facts = facts_of(NEWS_PAGE)
    assert facts.title == "江城市2023年一季度老旧小区改造和加装电梯进展情况"
    assert facts.title_from == "text" and facts.skip == 7  # menus, title, byline, caption
    assert facts.year == 2023 and facts.period == "一季度" and facts.kind == "进展"


@pytest.mark.parametrize(
    "line",
    [
        "网站首页 | 机构概况 | 政务公开",
        "首页 > 新闻中心 > 工作动态",
        "分享到：微信 微博 QQ空间",
        "来源：江城市住房和城乡建设局 发布时间：2023-04-10",
        "咨询电话：0731-88886666",
        "• 无障碍浏览",
        "湘建城〔2023〕15号",
        "ENGLISH",
        "欢迎访问本站，点击这里查看更多精彩内容",
        "同志们：",
        "一、2022年工作回顾",
        "全市已开工改造老旧小区46个，完成既有住宅加装电梯85台。",
    ],
)
def test_page_furniture_is_not_a_title(line):
    assert title_score(line) == 0


def test_a_title_label_is_dropped():
    text = "題目：區住建局2022年城市管理工作彙報\n2022年以来，我局紧紧围绕中心工作。\n"
    assert facts_of(text).title == "區住建局2022年城市管理工作彙報"


def test_a_report_without_a_title_gets_one_composed_from_what_it_says():
    composed = seed_facts("004")  # opens with a sentence on 2023年上半年, speaks of 我县 and 区委
    assert composed.title_from == "composed" and composed.title.endswith("2023年上半年工作总结")
    assert "004" not in composed.title
    assert facts_of("一、概况\n内容。\n").title == "file_name_0001"  # the text says nothing: the file name


def test_seed_titles_years_and_kinds():
    titled = seed_facts("002")
    assert titled.title == "区住建局2022年工作总结和2023年工作思路的汇报"
    assert (titled.year, titled.years, titled.kind, titled.level) == (2022, (2022, 2023), "总结", "区")
    speech = seed_facts("003")
    assert speech.kind == "讲话" and speech.level == "市" and speech.title_from == "composed"
    assert seed_facts("000").kind == "总结" and seed_facts("000").year == 2021


def test_the_year_reported_on_not_the_later_year_or_the_publication():
    summary = facts_of("县住建局2021年工作综述\n2021年，县住建局紧扣中心工作。明年将继续推进。\n一、2022年打算\n")
    assert summary.year == 2021 and summary.years == (2021, 2022)
    news = facts_of("新区老旧小区改造全面完工\n发布日期：2022-12-30\n2023年新年即将来临，今年改造项目全面完工。\n")
    assert news.year == 2022 and news.kind == "新闻"
    recalled = facts_of("湖北：去年农村危房改造竣工9.6万户\n2019-01-23 来源：湖北日报\n1月22日，全省工作会议召开。\n")
    assert recalled.year == 2018
    several = facts_of("省“十三五”期间累计改造城镇老旧小区21万套\n自2018年开始，全省推进改造。\n")
    assert several.year == 2020 and several.years == (2016, 2017, 2018, 2019, 2020)  # the plan's end
    vintage = facts_of("全国实施城市更新项目6万余个\n2024年全国新开工改造2000年底前建成的城镇老旧小区5万个。\n")
    assert vintage.years == (2024,)  # 2000 is when the buildings were built


def test_the_place_of_the_issuing_body():
    assert facts_of(NEWS_PAGE).place == "江城市"  # as the title writes it (jieba knows only a 江城区)
    named = facts_of("平阳县住建局2021年工作综述\n2021年，县住建局紧扣中心工作，广东省住房和城乡建设厅给予肯定。\n")
    assert named.place == "平阳县" and named.level == "县"
    source = facts_of("我市扎实推进自建房整治\n2023-10-25 来源：常德晚报\n记者从市住建局了解到，我市开展排查。\n")
    assert source.place == "常德市"
    channel = facts_of("区住建局组织收听收看视频会议\n9月20日，我区组织收听收看了视频会议。\n（来源：山亭住建视窗）\n")
    assert channel.place == "山亭区"  # the bureau's own channel, at the end of the page
    dateline = facts_of("我市燃气安全大排查全面铺开\n本报讯（大连新闻传媒集团记者 吉存）连日来，全市开展排查。\n")
    assert dateline.place == "大连市"
    province = facts_of("山东发布2020年住房城乡建设年度计划\n4月1日，省住房和城乡建设厅公布了年度计划。\n")
    assert province.place == "山东省" and province.level == "省"
    national = facts_of(
        "今年保障性租赁住房建设任务完成七成\n住房和城乡建设部介绍，今年以来各地进度加快，全国完成七成，全国各地…\n"
    )
    assert national.place == "全国"
    own_level = facts_of("市重大工程推进会召开\n上海市重大工程推进会召开，闵行区政府作交流发言。全市安排项目166项。\n")
    assert own_level.place == "上海市"  # a district that spoke is not the city that reports


@pytest.mark.parametrize(
    ("title", "headings", "opening", "kind"),
    [
        ("区住建局2024年工作计划", [], "", "计划"),
        (None, ["一、2024年工作思路", "二、保障措施"], "2024年，我局将……", "计划"),
        ("市城管局2022年工作情况", ["一、2022年工作开展情况"], "", "总结"),
        (None, [], "同志们：今天我们召开全市住建工作会议。", "讲话"),
        ("关于上半年保障性安居工程进展情况的通报", [], "截至6月25日，全区完成投资。", "进展"),
        ("全市住房城乡建设工作推进会召开", [], "3月15日，记者从会上获悉。", "新闻"),
        (None, ["一、概况"], "情况说明", "其他"),
    ],
)
def test_document_kind(title, headings, opening, kind):
    assert document_kind(title, headings, opening, is_news=False) == kind


def test_find_title_stops_where_the_body_begins():
    opening = "2021年是十四五开局之年，区住建局认真贯彻落实决策部署，工作取得了较好成绩，有力支撑了全区发展。"
    assert find_title([opening]) == (-1, None)


def test_years_and_passage_year():
    assert years_in("2021年亮点工作，2022年重点工作，“十四五”，12345热线，5.12防灾日") == [2021, 2022]
    assert passage_year(("一、2021年工作回顾", "（一）物业管理"), 2022) == 2021
    assert passage_year(("二、今年工作总体安排", "一是疫情防控"), 2022) == 2022
    assert passage_year(("一、去年工作回顾",), 2022) == 2021
    assert passage_year(("一、履职尽责方面",), 2022) == 2022
    assert passage_year(("一、履职尽责方面",), None) is None
