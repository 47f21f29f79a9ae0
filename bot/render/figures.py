"""Figures from the ledger: compact lines, the 📊 block above answers, /target replies."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.markup import escape, fit, shorten
from bot.render.sources import cite_document
from bot.render.texts import REDACTED_MARK
from index.api import KIND_LABELS, Figure, FigurePair

TARGET_LIST_LIMIT = 10
FIGURES_BLOCK_LIMIT = 3
PAIRS_SHOWN = 5
KEYWORD_ECHO_CHARS = 40
_PREFIX_QUALIFIERS = ("约", "近", "逾", "超", "超过", "超出", "不少于", "不低于", "不超过", "至少", "高于", "低于")
_SUFFIX_QUALIFIERS = ("以上", "以下", "以内", "左右")


def format_figure(figure: Figure) -> str:
    """Return a figure as staff read it: qualifier, number, unit; a redacted number is
    marked ``（原文数字已脱敏）`` rather than hidden. Plain text (not escaped)."""
    before = figure.qualifier if figure.qualifier in _PREFIX_QUALIFIERS else ""
    after = figure.qualifier if figure.qualifier in _SUFFIX_QUALIFIERS else ""
    shown = f"{before}{figure.value_text}{figure.unit}{after}"
    return shown + REDACTED_MARK if figure.redacted else shown


def render_target_line(figure: Figure) -> str:
    """Return one figure as a compact line (HTML): indicator · figure · kind · period · source."""
    parts = [
        f"<b>{escape(figure.indicator or '（未识别指标）')}</b>",
        escape(format_figure(figure)),
        KIND_LABELS[figure.kind],
        escape(figure.period or "年份不详"),
        _source(figure),
    ]
    return " · ".join(parts)


def render_figures_block(figures: Sequence[Figure]) -> str:
    """Return the short "figures" block shown above passages (HTML)."""
    lines = ["📊 <b>相关数字</b>"] + [f"• {render_target_line(f)}" for f in figures[:FIGURES_BLOCK_LIMIT]]
    return "\n".join(lines)


def render_targets(keyword: str, total: int, figures: Sequence[Figure], pairs: Sequence[FigurePair] = ()) -> str:
    """Return the /target reply (HTML): plan-versus-achieved pairs, then up to ten of
    the ``total`` figures found, best first, and how many more there are."""
    echo = escape(shorten(keyword.strip(), KEYWORD_ECHO_CHARS))
    if not figures:
        return (
            f"没有找到与“{echo}”相关的数字。\n"
            "可以换个说法（如“保障性租赁住房”“加装电梯”），去掉年份或“计划”“完成”再试，或直接提问。"
        )
    blocks = []
    if pairs:
        blocks.append("\n".join(["<b>计划与完成对照</b>", *(f"• {_render_pair(p)}" for p in pairs[:PAIRS_SHOWN])]))
    shown = figures[:TARGET_LIST_LIMIT]
    lines = [f"<b>“{echo}”的数字</b>（共 {total} 条）"]
    lines += [f"{n}. {render_target_line(f)}" for n, f in enumerate(shown, start=1)]
    if total > len(shown):
        lines.append(f"还有 {total - len(shown)} 条未显示。可加上年份或“计划”“完成”缩小范围，例如 /target {echo} 2022")
    blocks.append("\n".join(lines))
    return fit("\n\n".join(blocks))


def _render_pair(pair: FigurePair) -> str:
    plan, achieved = pair.plan, pair.achieved
    verdict = {True: "✅ 已达成", False: "⚠️ 未达成", None: "（数字不全，无法比较）"}[pair.met]
    return (
        f"<b>{escape(achieved.indicator or plan.indicator)}</b> · {plan.year}年："
        f"计划 {escape(format_figure(plan))}（{_source(plan)}）"
        f" → 完成 {escape(format_figure(achieved))}（{_source(achieved)}） {verdict}"
    )


def _source(figure: Figure) -> str:
    return cite_document(figure.doc_title, figure.place, None)
