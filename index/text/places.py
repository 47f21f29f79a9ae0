"""Place names: which words name a province, city, prefecture, county or district.

The gazetteer is read from jieba's own dictionary, which tags place names ``ns``:
every entry ending in an administrative suffix (省, 市, 县, 区, 州, 自治区 …) with two or
more characters before it (浈江区, 平阳县, 凉山彝族自治州; not 新区, 山区), and the short
forms the dictionary also lists as places (山东 for 山东省, 平阳 for 平阳县).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from index.text.normalize import index_form
from index.text.segmentation import dictionary_tags

# Longest first, so 自治州 wins over 州.
ADMIN_SUFFIXES = (
    "特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "地区",
    "省", "市", "县", "区", "州", "旗", "盟",
)  # fmt: skip
LEVEL_OF_SUFFIX = {
    "特别行政区": "省", "维吾尔自治区": "省", "壮族自治区": "省", "回族自治区": "省", "自治区": "省", "省": "省",
    "自治州": "州", "州": "州", "地区": "州", "盟": "州", "市": "市", "县": "县", "自治县": "县", "旗": "县",
    "区": "区",
}  # fmt: skip
NATIONAL = "全国"
LEVELS = ("省", "州", "市", "县", "区")
_PLACE_TAGS = ("ns", "nr", "nz")
_DETERMINERS = "各全本我该每外其此这那省市县区州"


@dataclass(frozen=True)
class Gazetteer:
    """Place names known to jieba's dictionary.

    Attributes:
        full: full name -> level (省/州/市/县/区).
        short: short name -> its full names (山东 -> 山东省).
    """

    full: dict[str, str]
    short: dict[str, tuple[str, ...]]

    def level(self, name: str) -> str | None:
        """Return the level of a full place name, or None."""
        return self.full.get(name)

    def expand(self, name: str) -> str:
        """Return the full name of a short one: the highest level when several share it
        (河北 -> 河北省, not 天津市河北区); the name itself when it is not a short name."""
        fulls = self.short.get(name, ())
        return min(fulls, key=lambda full: LEVELS.index(self.full[full])) if fulls else name

    def names_in(self, text: str) -> list[tuple[int, str]]:
        """Return (offset, full name) of every full place name written in ``text``."""
        folded = index_form(text)
        return [(m.start(), m.group()) for m in self._pattern.finditer(folded)]

    def short_names_in(self, text: str) -> list[tuple[int, str]]:
        """Return (offset, short name) of every short place name in ``text`` (as written)."""
        folded = index_form(text)
        return [(m.start(), m.group()) for m in self._short_pattern.finditer(folded)]

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile("|".join(sorted(map(re.escape, self.full), key=len, reverse=True)))

    @functools.cached_property
    def _short_pattern(self) -> re.Pattern[str]:
        return re.compile("|".join(sorted(map(re.escape, self.short), key=len, reverse=True)))


@functools.cache
def gazetteer() -> Gazetteer:
    """Return the gazetteer (built once per process from jieba's dictionary, ~0.1 s)."""
    tags = dictionary_tags()
    full: dict[str, str] = {}
    for word, tag in tags.items():
        if tag not in _PLACE_TAGS:
            continue
        for suffix in ADMIN_SUFFIXES:
            stem = word[: -len(suffix)]
            # 各县市, 全省, 本区: not names; nor 文明城市 (a city of a kind), while 麻城市 is 麻城 + 市.
            kind_of_city = word.endswith("城市") and tags.get(word[:-1]) not in _PLACE_TAGS
            generic = stem[:1] in tuple(_DETERMINERS) or kind_of_city
            if word.endswith(suffix) and len(stem) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", word) and not generic:
                full[word] = LEVEL_OF_SUFFIX[suffix]
                break
    short: dict[str, list[str]] = {}
    for name in full:
        for suffix in ADMIN_SUFFIXES:
            stem = name[: -len(suffix)]
            if name.endswith(suffix) and len(stem) >= 2 and tags.get(stem) == "ns":
                short.setdefault(stem, []).append(name)
                break
    return Gazetteer(full, {stem: tuple(sorted(names, key=len)) for stem, names in short.items()})
