"""The indicator of a figure: the noun phrase it counts (新开工改造城镇老旧小区, 加装电梯).

Taken from the clause: the words before the figure, cleaned of times, cues and
enumerators, and a noun phrase after it when there is one ("完成80个项目" counts 项目).
A figure that follows another in a list (新开工***部、完成***部) keeps the subject.

Word classes come from jieba's own dictionary (the tag on each entry, ``nz`` for the
user dictionary), looked up for the words jieba already cut: the same information
``jieba.posseg`` gives, without running its tagger for every figure (that was four
fifths of the ingest time).
"""

from __future__ import annotations

import re

from index.figures.spans import PREFIX_QUALIFIERS
from index.text.normalize import index_form
from index.text.segmentation import dictionary_tags

INDICATOR_MAX_CHARS = 18
_LEFT_BOUNDARY = re.compile(r"[,;:。!?]")  # not 、: "完成整治农村C、D级危旧房" is one phrase
# A figure's qualifier, or a comparison (超出, 超), ends the phrase before it.
_PREFIX_QUALIFIER = re.compile(f"({'|'.join((*PREFIX_QUALIFIERS, '超出', '超'))})(?:为|合|计|达)?$")
_LEADING_JUNK = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}[是要]|其中|另外|同时|截至目前|目前|截至[^,]{0,8}?(?:底|日)|全年|今年|年内|年底前|"
    r"上半年|下半年|\d{4}年|(?:\d{1,2}|[xX*]+)-(?:\d{1,2}|[xX*]+)月|第?[一二三四]季度|共计|合计|累计|共|已经|已|计划|"
    r"目标|任务|力争|确保|预计|拟|将|争取|要|应|完成(?!率)|实现|对|为|给|向|把|由|的|了|和|及|\s)+"
)
_LEADING_ADVERBS = re.compile(r"^(?:共计|合计|累计|共|已经|已|\s)+")
# Trailing words are dropped only as whole words: 均价为 -> 均价, but 不良行为 stays.
_TRAILING_WORDS = frozenset("达到 达 为 是 至 由 计 共计 合计 共 的 了 约 约为 目标任务 目标 任务 每 有".split())
_TRANSITION = re.compile(r"^(?:增加|提高|提升|上升|下降|降低|减少|增长)?(?:至|到)$")
_INNER_JUNK = re.compile(r"预计|全年|今年|年内|已经|已")
_RIGHT_STOP_TAGS = ("v", "d", "p", "c", "u", "r", "m", "q", "t", "f", "y", "e", "o", "z")
_RIGHT_STOP_WORDS = ("的", "等", "均", "全部", "其中", "计划", "目标", "已", "累计", "共", "将")


class WordTagger:
    """Cut a phrase into (word, tag) pairs with a tokenizer's dictionary.

    Args:
        segmenter: a ``jieba.Tokenizer`` holding the user dictionary.
        field_terms: words of the user dictionary and synonym table (tagged ``nz``).
    """

    def __init__(self, segmenter, field_terms: frozenset[str]) -> None:
        self.segmenter = segmenter
        self.field_terms = field_terms

    def cut(self, phrase: str) -> list[tuple[str, str]]:
        """Return the words of ``phrase`` with their tags (``n`` for words no dictionary
        knows, as they are mostly names and nouns; ``x`` for symbols)."""
        tags = dictionary_tags()
        pairs = []
        for word in self.segmenter.lcut(phrase):
            folded = index_form(word)
            if folded in self.field_terms:
                tag = "nz"
            elif folded in tags:
                tag = tags[folded]
            elif re.fullmatch(r"[\d.,%xX*]+", folded):
                tag = "m"
            elif re.search(r"[\u4e00-\u9fffA-Za-z]", folded):
                tag = "n"
            else:
                tag = "x"
            pairs.append((word, tag))
        return pairs


def indicator_of(
    text: str,
    folded: str,
    start: int,
    end: int,
    previous_end: int,
    sentence_start: int,
    clause_end: int,
    previous: str,
    tagger: WordTagger,
) -> str:
    """Return the indicator of the figure at ``text[start:end]``.

    Args:
        text, folded: the passage's display text and its index form.
        previous_end: end of the figure before it (0 if none); previous: its indicator
            when it is in the same sentence, else "".
        sentence_start, clause_end: bounds of the figure's sentence and clause.
    """
    boundary = max((m.end() for m in _LEFT_BOUNDARY.finditer(folded, 0, start)), default=0)
    left = text[max(sentence_start, previous_end, boundary) : start]
    qualifier = _PREFIX_QUALIFIER.search(index_form(left))
    if qualifier:
        left = left[: qualifier.start()]
    folded_left = index_form(left)
    if "等" in folded_left:
        cut = folded_left.rindex("等") + 1
        left, folded_left = left[cut:], folded_left[cut:]
    follows_previous = previous_end > boundary and previous_end > sentence_start
    if follows_previous and _TRANSITION.search(folded_left):
        return previous  # "由**%增加至**%": the same indicator
    sibling = follows_previous and folded_left[:1] in ("、", "和", "及")
    if follows_previous and "、" in folded_left:
        left = left[folded_left.rindex("、") + 1 :]  # "X个游园、面积XX平方米": 面积
    cleaned = _clean(left, tagger)
    right = _noun_phrase(text[end:clause_end], tagger)
    if right:
        return _cap(_trailing_verb(cleaned, tagger) + right)
    if sibling and previous:
        # "老楼加装电梯新开工***部、完成***部": the subject carries over, the verb changes.
        verb = cleaned or _clean(re.sub(r"^[、和及]", "", left), tagger, keep_cues=True)
        subject = previous[: len(previous) - len(_trailing_verb(previous, tagger))]
        if subject and not _only_verbs(subject, tagger) and verb and _only_verbs(verb, tagger):
            return _cap(subject + verb)
    return _cap(cleaned) or previous


def _clean(phrase: str, tagger: WordTagger, keep_cues: bool = False) -> str:
    """Drop context words around an indicator: times, cues, enumerators, redactions.

    With ``keep_cues`` only adverbs (已, 累计 …) go and verbs such as 完成 stay.
    """
    phrase = phrase.replace("*", "").replace("＊", "")
    lead = (_LEADING_ADVERBS if keep_cues else _LEADING_JUNK).match(index_form(phrase))
    phrase = phrase[lead.end() :] if lead else phrase
    pieces, position = [], 0
    for match in _INNER_JUNK.finditer(index_form(phrase)):
        pieces.append(phrase[position : match.start()])
        position = match.end()
    pieces.append(phrase[position:])
    words = [word for word, _ in tagger.cut("".join(pieces))]
    while words and (index_form(words[-1]).strip() in _TRAILING_WORDS or not words[-1].strip()):
        words.pop()
    return "".join(words).strip()


def _only_verbs(phrase: str, tagger: WordTagger) -> bool:
    pairs = tagger.cut(phrase) if phrase else []
    return bool(pairs) and all(tag.startswith("v") and tag != "vn" for _, tag in pairs)


def _noun_phrase(phrase: str, tagger: WordTagger) -> str:
    """Return the leading noun phrase of the text after a figure (老旧小区改造项目)."""
    words = []
    for word, tag in tagger.cut(phrase):
        if (tag.startswith(_RIGHT_STOP_TAGS) and tag != "vn") or not re.search(r"[\u4e00-\u9fffA-Za-z]", word):
            break
        if index_form(word) in _RIGHT_STOP_WORDS:
            break
        words.append(word)
    return "".join(words)


def _trailing_verb(left: str, tagger: WordTagger) -> str:
    """Return the action word that ends ``left`` (新开工, 发放, 拆除), or ""."""
    pairs = tagger.cut(left) if left else []
    if pairs and len(pairs[-1][0]) >= 2 and (pairs[-1][1].startswith("v") or pairs[-1][0].startswith("新")):
        return pairs[-1][0]
    return ""


def _cap(phrase: str) -> str:
    phrase = phrase.strip(" ，,、：:（(")
    return phrase if len(phrase) <= INDICATOR_MAX_CHARS else phrase[-INDICATOR_MAX_CHARS:]
