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
from index.text.segmentation import cached_from_dictionary, dictionary_tags

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
        return min(fulls, key=_preference) if fulls else name

    def names_in(self, text: str, folded: bool = False) -> list[tuple[int, str]]:
        """Return (offset, full name) of every full place name written in ``text``
        (``folded``: ``text`` is in index form already)."""
        return _scan(text if folded else index_form(text), self.full, self._full_lengths)

    def short_names_in(self, text: str, folded: bool = False) -> list[tuple[int, str]]:
        """Return (offset, short name) of every short place name in ``text`` (as written;
        ``folded``: ``text`` is in index form already)."""
        return _scan(text if folded else index_form(text), self.short, self._short_lengths)

    @functools.cached_property
    def _full_lengths(self) -> dict[str, tuple[int, ...]]:
        return _lengths_by_first_character(self.full)

    @functools.cached_property
    def _short_lengths(self) -> dict[str, tuple[int, ...]]:
        return _lengths_by_first_character(self.short)


def _preference(full: str) -> tuple[int, int]:
    """Sort key of the full names one short name may stand for: the highest level
    first, a 地区 (a region, rarely what a report names) after cities (北京 is 北京市,
    not 北京地区)."""
    region = full.endswith("地区")
    return (region, LEVELS.index(gazetteer().full[full]))


def _lengths_by_first_character(names) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for name in names:
        lengths.setdefault(name[0], set()).add(len(name))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


def _scan(folded: str, names, lengths: dict[str, tuple[int, ...]]) -> list[tuple[int, str]]:
    """Return the leftmost-longest, non-overlapping occurrences of ``names`` in ``folded``.

    Set lookups of the lengths names starting with each character have: a regular
    expression alternating 4,000 names takes a third of a second to compile in every
    process.
    """
    found = []
    position = 0
    while position < len(folded):
        for length in lengths.get(folded[position], ()):
            candidate = folded[position : position + length]
            if candidate in names:
                found.append((position, candidate))
                position += length
                break
        else:
            position += 1
    return found


_SUFFIX_AT_END = re.compile(f"(?:{'|'.join(ADMIN_SUFFIXES)})$")  # leftmost match = longest suffix
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]+")


@functools.cache
def gazetteer() -> Gazetteer:
    """Return the gazetteer (built once from jieba's dictionary and kept in a cache in
    the temporary folder, see :func:`cached_from_dictionary`: building it needs the
    whole dictionary's tags, 0.3 s to load, which a search that meets no unknown word
    never needs otherwise)."""
    rules = repr((1, ADMIN_SUFFIXES, LEVEL_OF_SUFFIX, _PLACE_TAGS, _DETERMINERS))  # a change of rules rebuilds
    full, short = cached_from_dictionary("gazetteer", rules, _build_gazetteer)
    return Gazetteer(full, {stem: tuple(names) for stem, names in short.items()})


def _build_gazetteer() -> tuple[dict[str, str], dict[str, list[str]]]:
    tags = dictionary_tags()
    full: dict[str, str] = {}
    short: dict[str, list[str]] = {}
    for word, tag in tags.items():
        if tag not in _PLACE_TAGS or len(word) < 3:
            continue
        suffix = _SUFFIX_AT_END.search(word)
        if suffix is None or not _CJK_WORD.fullmatch(word):
            continue
        stem = word[: suffix.start()]
        # 各县市, 全省, 本区: not names; nor 文明城市 (a city of a kind), while 麻城市 is 麻城 + 市.
        kind_of_city = word.endswith("城市") and tags.get(word[:-1]) not in _PLACE_TAGS
        if len(stem) < 2 or stem[0] in _DETERMINERS or kind_of_city:
            continue
        full[word] = LEVEL_OF_SUFFIX[suffix.group()]
        if tags.get(stem) == "ns":
            short.setdefault(stem, []).append(word)
    return full, {stem: sorted(names, key=len) for stem, names in short.items()}
