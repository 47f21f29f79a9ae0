"""How a report is named on screen: its title (cut where a phone line allows), the
place of the body that issued it, and the year it speaks of."""

from __future__ import annotations

from bot.render.markup import escape

SOURCE_TITLE_CHARS = 30
# A long title is cut after one of these when the cut keeps most of it (工作总结和2023年
# 工作思路的汇报 → 工作总结…), else at the limit.
_TITLE_BREAKS = "，、,：:；; 和及与暨"
_KEEP_SHARE = 0.6


def short_title(title: str, limit: int = SOURCE_TITLE_CHARS) -> str:
    """Return ``title`` whole when it has at most ``limit`` characters, else cut after
    its last break (a comma, 和, 及 …) in the last 40 % of the limit, or at the limit,
    with "…" added."""
    if len(title) <= limit:
        return title
    window = title[: limit - 1]
    cut = max(window.rfind(mark) for mark in _TITLE_BREAKS)
    if cut >= limit * _KEEP_SHARE:
        return window[:cut].rstrip() + "…"
    return window + "…"


def cite_document(title: str, place: str | None, year: int | None, limit: int = SOURCE_TITLE_CHARS) -> str:
    """Return 《title》 · place · year (HTML): the place is left out when the title
    already names it, and each part when unknown."""
    shown = short_title(title, limit)
    parts = [f"《{escape(shown)}》"]
    if place and place not in shown and place.rstrip("省市县区州") not in shown:
        parts.append(escape(place))
    if year:
        parts.append(f"{year}年")
    return " · ".join(parts)
