"""Tokenization: user dictionary, stopwords, redaction marks, numbers, synonyms."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from index.text.lexicon import Lexicon, LexiconError, LexiconPaths
from index.text.normalize import fold_width, fold_widths, index_form, to_simplified
from index.text.segmentation import (
    MAX_QUERY_TERMS,
    Tokenizer,
    cached_from_dictionary,
    general_dictionary,
    jieba,
    prefix_dictionary,
)
from tests.conftest import PROJECT_DIR, SEED_FILES

REDACTION = re.compile(r"^[x*]+%?$")


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_redaction_marks_are_never_tokens(tokenizer, path):
    text = path.read_text(encoding="utf-8")
    assert re.search(r"XX|\*|xx", text)  # the seed does contain redactions
    tokens = tokenizer.tokens(text)
    assert not [t for t in tokens if REDACTION.match(t) or "*" in t]


def test_one_question_cut_equals_jiebas_cuts_with_and_without_its_hmm(tokenizer):
    lines = [line for path in SEED_FILES for line in path.read_text(encoding="utf-8").splitlines()]
    lines += [
        "加状电梯今年完成了多少台？",  # a typo jieba's HMM cuts its own way
        "农危改 ab12 x 3.5% C++ 12345热线  e-mail：a_b#c",  # letters, digits, signs, spaces
        "２０２４年ＡＢＣ小区改造",  # full width, folded to index form
        "",
    ]
    segmenter = tokenizer.segmenter
    for line in lines:
        text = index_form(line).lower()
        words, spans = tokenizer.question_cut(line)
        assert words == list(segmenter.cut(text)), line
        without_hmm = {
            i for w, start, end in segmenter.tokenize(text, HMM=False) if len(w) > 1 for i in range(start, end)
        }
        assert spans == without_hmm, line
    assert len(lines) > 100  # every paragraph of the five seed reports


def test_jieba_is_imported_without_pkg_resources():
    # pkg_resources reads every installed distribution's metadata on import (0.12 s of
    # a cold start); jieba opens its bundled files by path instead.
    code = (
        "import sys\nimport index.text.segmentation as s\n"
        "print('pkg_resources' in sys.modules, s.jieba.get_dict_file().readline().decode().split()[0])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_DIR)
    with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as bundled:
        assert done.stdout.split() == ["False", bundled.readline().split()[0]]


def test_the_prefix_dictionary_is_the_one_jieba_builds():
    frequencies, total = prefix_dictionary()
    assert (frequencies, total) == jieba.Tokenizer.gen_pfdict(jieba.Tokenizer().get_dict_file())
    assert len(frequencies) > 400_000 and frequencies["电梯"] > 0 and frequencies["中华人民共和"] == 0  # a prefix only
    frequencies["加装电梯测试"] = 1
    assert "加装电梯测试" not in prefix_dictionary()[0]  # each call a new dict: tokenizers add their words


def test_user_dictionary_terms_stay_whole_with_their_sub_words(tokenizer):
    tokens = tokenizer.tokens("累计完成既有住宅加装电梯120台，新开工保障性租赁住房")
    assert "加装电梯" in tokens and "电梯" in tokens and "加装" in tokens
    assert "保障性租赁住房" in tokens and "租赁" in tokens


def test_longer_field_terms_inside_a_term_are_tokens(tokenizer):
    tokens = tokenizer.tokens("新开工老旧小区改造项目，筹集保障性租赁住房")
    assert {"老旧小区改造", "老旧小区", "保障性租赁住房", "租赁住房"} <= set(tokens)


def test_numbers_are_kept_whole(tokenizer):
    tokens = tokenizer.tokens("完成投资6.28亿元，占95%，受理12345热线工单")
    assert {"6.28", "95%", "12345"} <= set(tokens)


def test_stopwords_and_question_words_are_dropped(tokenizer):
    tokens = tokenizer.tokens("加装电梯今年完成了多少台？怎么安排的，是否完成")
    assert not {"多少", "怎么", "是否", "了", "的", "？"} & set(tokens)
    assert "今年" in tokens and "完成" in tokens


def test_traditional_and_full_width_text_tokenizes_like_simplified(tokenizer):
    simplified = tokenizer.tokens("保障性租赁住房筹集1200套，加装电梯35台")
    traditional = tokenizer.tokens("保障性租賃住房籌集１２００套，加裝電梯３５台")
    assert traditional == simplified


def test_synonyms_expand_question_terms(tokenizer):
    terms = {term.word: term for term in tokenizer.query_terms("保租房今年筹集了多少套")}
    assert "保障性租赁住房" in terms["保租房"].whole
    assert "保租房" not in terms["保租房"].alternatives[1:]  # the word itself comes first
    reverse = {term.word: term for term in tokenizer.query_terms("保障性租赁住房")}
    assert "保租房" in reverse["保障性租赁住房"].whole


def test_question_terms_are_capped(tokenizer):
    question = "".join(f"项目{i}个" for i in range(500))
    assert len(tokenizer.query_terms(question)) == MAX_QUERY_TERMS


def test_lexicon_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "synonyms.txt"
    bad.write_text("# comment\n保租房\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"synonyms.txt:2"):
        Lexicon.load(LexiconPaths(synonyms=bad))
    with pytest.raises(LexiconError, match="无法读取词表"):
        Lexicon.load(LexiconPaths(user_dict=tmp_path / "missing.txt"))


def test_edited_user_dictionary_changes_tokens_and_fingerprint(tmp_path):
    default = Lexicon.load(LexiconPaths())
    user_dict = tmp_path / "userdict.txt"
    user_dict.write_text(LexiconPaths().user_dict.read_text(encoding="utf-8") + "\n月光幸福周\n", encoding="utf-8")
    edited = Lexicon.load(LexiconPaths(user_dict=user_dict))
    assert edited.fingerprint != default.fingerprint
    assert "月光幸福周" in Tokenizer(edited).tokens("举办月光幸福周活动")


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_the_index_form_is_opencc_t2s_and_half_width(path):
    text = path.read_text(encoding="utf-8")
    traditional = _opencc("s2t").convert(text)
    for sample in (text, traditional, "乾隆年間，於是著手修繕", "ＡＢＣ１２３　加装电梯"):
        assert to_simplified(sample) == _opencc("t2s").convert(sample)
    assert fold_width("１２３　台，") == "123 台," and fold_width("加装电梯120台") == "加装电梯120台"


def test_width_folding_of_many_texts_at_once_equals_one_by_one():
    paragraphs = [p for path in SEED_FILES for p in path.read_text(encoding="utf-8").split("\n")]
    samples = [*paragraphs, "", "　", "ＡＢＣ１２３　加装电梯（试点）：１２台；", "～！＠", "\uff00\uff5f半角"]
    assert fold_widths(samples) == [fold_width(text) for text in samples]
    assert fold_widths(["第一行\n第二行", "（一）"]) == ["第一行\n第二行", "(一)"]  # a line break inside a text
    assert fold_widths([]) == []


def _opencc(config: str):
    import opencc

    return opencc.OpenCC(config)


def test_general_frequencies_are_jieba_s_before_the_lexicon_changed_them(tokenizer):
    general = general_dictionary()
    lexicon_words = [word for word, _ in tokenizer.lexicon.user_words][:20]
    lexicon_words += [w for group in tokenizer.lexicon.synonym_groups for w in group][:40]
    assert any(tokenizer.segmenter.FREQ.get(w) != general.frequencies.get(w, 0) for w in lexicon_words)  # changed
    for word in [*lexicon_words, "工作", "燃气", "周末", "不是一个词"]:
        count, total = tokenizer.general_frequency(word)
        assert count == general.frequencies.get(word, 0) and abs(total - general.total) <= 10


def test_a_cache_built_from_the_dictionary_is_built_once_and_rebuilt_when_unreadable(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    builds = []

    def build():
        builds.append(1)
        return {"浈江区": "区"}

    assert cached_from_dictionary("test", 1, build) == {"浈江区": "区"}
    assert cached_from_dictionary("test", 1, build) == {"浈江区": "区"} and len(builds) == 1
    (cache,) = tmp_path.glob("bureau-bot-test.*.cache")
    cache.write_bytes(b"\x00broken")
    assert cached_from_dictionary("test", 1, build) == {"浈江区": "区"} and len(builds) == 2
    cached_from_dictionary("test", 2, build)  # another version is another cache
    assert len(builds) == 3 and len(list(tmp_path.glob("bureau-bot-test.*.cache"))) == 2
