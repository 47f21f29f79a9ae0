"""Measure units of figures: which words count, how they normalise, their magnitude.

Patterns run on the index form (simplified, half-width), so 萬套 and 臺 match as 万套
and 台; the unit shown to staff is sliced from the original text, as written.
"""

from __future__ import annotations

import re

from index.text.normalize import index_form

# Base units, longest first so 个百分点 wins over 个 and 平方米 over 米. 年 (a duration)
# and 成 (tenths) are figures only in the contexts :mod:`index.figures.spans` allows.
BASE_UNITS = (
    "个百分点 百分点 平方公里 平方米 平米 立方米 公顷 公里 千米 延米 千瓦 兆瓦 人次 件次 个次 户次 "
    "车次 架次 项次 轮次 场次 个月 ㎡ m2 m² m³ 元 套 间 户 个 项 件 "
    "台 部 座 处 条 栋 幢 家 所 次 人 名 位 起 份 批 层 岁 "
    "辆 棵 株 块 宗 吨 张 场 种 支 篇 册 天 亩 米 方 "
    "倍 年 成 % ‰"
).split()
MAGNITUDES = ("万亿", "亿", "万", "千", "百")
MAGNITUDE_VALUES = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3, "百": 1e2}
PERCENT_UNITS = ("%", "‰", "个百分点", "百分点", "成")
# Units that never stand without a number: "目标任务亿元" lost its figure in the copy.
ALWAYS_NUMBERED = ("万亿元", "亿元", "万元", "万平方米", "个百分点", "万户", "万套", "万人次", "万人")
_SQUARE_METRES = ("㎡", "平米", "m2", "m²")


def normal_unit(unit: str) -> str:
    """Return a unit for matching: simplified, half-width brackets, 平方米 for ㎡/平米/m²/m2.

    ``萬套（間）`` -> ``万套(间)``; the written form stays the one shown to staff.
    """
    folded = index_form(unit)
    for spelling in _SQUARE_METRES:
        folded = folded.replace(spelling, "平方米")
    return folded.strip()


def base_quantity(value: float | None, unit: str) -> tuple[float | None, str]:
    """Return (value in the base unit, base unit without magnitude or bracket).

    ``(6.28, "亿元")`` -> ``(628000000.0, "元")``; ``(2.9, "万亿元")`` -> ``(2.9e12, "元")``;
    ``(3.5, "萬戶")`` -> ``(35000.0, "户")``; percentage points keep their unit.
    """
    normal = re.sub(r"\(.*?\)$", "", normal_unit(unit))
    for magnitude in MAGNITUDES:
        rest = normal[len(magnitude) :]
        if normal.startswith(magnitude) and rest and rest not in ("分点",):
            scale = MAGNITUDE_VALUES[magnitude]
            return (None if value is None else value * scale), rest
    return value, normal


def is_rate(unit: str) -> bool:
    """Whether a unit states a share or a change rather than an amount (%, 个百分点, 成)."""
    return normal_unit(unit) in PERCENT_UNITS
