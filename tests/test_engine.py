"""The persisted sparse index: scores equal rank-bm25's, updates equal a rebuild, and a
failure at any step leaves a consistent index (issue 12)."""

from __future__ import annotations

import json
import os
import platform

import numpy as np
import pytest
from sqlmodel import Session, func, select

from index.ingest.sync import FILE_HASHES
from index.library import keep_freed_memory
from index.search import engine
from index.search.engine import BM25Parameters, TextColumn, field_scores, open_index, top_k
from index.search.reference import build_bm25
from index.search.searcher import read_passages
from index.settings import RankingSettings
from index.store.models import Document, IndexState, Passage, Target
from index.text.normalize import to_simplified
from tests.conftest import open_library, silent

QUERIES = [
    ["加装电梯", "电梯", "完成"],
    ["保障性租赁住房", "筹集", "保租房"],
    ["老旧小区", "改造", "开工", "2022"],
    ["棚改", "收尾"],
    ["没有这个词"],
]


def stored_tokens(library) -> dict[int, list[str]]:
    with Session(library.engine) as session:
        return {pid: json.loads(tokens) for pid, tokens in session.exec(select(Passage.id, Passage.tokens))}


def assert_scores_equal_rank_bm25(library, variant: str = "lucene") -> None:
    """The served word-field scores of every live passage equal rank-bm25's on the stored tokens."""
    index = library.serving.index
    tokens = stored_tokens(library)
    ids = sorted(tokens)
    reference = build_bm25([tokens[i] for i in ids], RankingSettings(variant=variant))
    row_of = {int(pid): row for row, pid in enumerate(index.array("passage_id")) if index.live["passages"][row]}
    assert sorted(row_of) == ids
    parameters = BM25Parameters(variant=variant, k1=1.2, b=0.75, delta=1.0)
    for query in QUERIES:
        ours = field_scores(index, "word", query, parameters)
        theirs = reference.get_scores(query)
        assert np.allclose([ours[row_of[i]] for i in ids], theirs, rtol=1e-9, atol=1e-9), (variant, query)


@pytest.mark.parametrize("variant", ["lucene", "okapi", "plus", "l"])
def test_served_scores_equal_rank_bm25(seed_index, variant):
    assert_scores_equal_rank_bm25(seed_index, variant)


def test_added_changed_and_removed_reports_keep_the_scores_exact(tmp_path, seed_corpus, monkeypatch):
    monkeypatch.setattr(engine, "MAX_DELETED_SHARE", 0.9)  # keep the segments apart here
    library = open_library(tmp_path, seed_corpus)
    first = library.serving.index.generation
    report = "一、2024年重点工作\n全年完成既有住宅加装电梯60台，筹集保障性租赁住房800套，无人机巡查屋面光伏。\n"
    (seed_corpus / "新.txt").write_text(report, encoding="utf-8")
    changed = next(seed_corpus.glob("001_*.txt"))
    changed.write_text(changed.read_text(encoding="utf-8") + "\n六、补充\n棚改收尾工作全面完成。\n", encoding="utf-8")
    next(seed_corpus.glob("004_*.txt")).unlink()
    library.reload()
    index = library.serving.index
    assert index.generation == first + 1 and len(index.segments) == 2  # one new segment, old one untouched
    assert not index.live["passages"].all()  # the changed and removed reports' old rows are deleted
    assert_scores_equal_rank_bm25(library)
    assert_gather_equals_postings(index)
    assert_passages_in_the_index_equal_the_store(library)


def assert_passages_in_the_index_equal_the_store(library) -> None:
    """Every live passage as an answer reads it from the index (text, section, ordinal,
    year, document) equals the passage read from the store, and its simplified flag
    says whether OpenCC leaves its text as it is."""
    searcher = library.serving
    live = np.flatnonzero(searcher.index.live["passages"]).tolist()
    texts = searcher.index.texts("passage_text", live)
    views = searcher._views(live, texts)
    with library.engine.connect() as connection:
        stored = read_passages(connection, [v.id for v in views], {})
    assert len(views) == len(stored) > 0 and all(view == stored[view.id] for view in views)
    simplified = searcher.passage_simplified[live].tolist()
    assert simplified == [to_simplified(text) == text for text in texts]


def assert_gather_equals_postings(index) -> None:
    """One gather of many terms returns, term by term, what one postings call each does."""
    # 无人机 and 光伏 are only in the newest segment: terms its older segments never had
    terms = ["加装电梯", "没有这个词", "电梯", "无人机", "棚改", "加装电梯", "收尾", "保障性租赁住房", "光伏"]
    gathered = index.gather("word", terms)
    assert gathered.terms == ["加装电梯", "电梯", "无人机", "棚改", "收尾", "保障性租赁住房", "光伏"]  # known, distinct
    for number, term in enumerate(gathered.terms):
        rows, tf = index.postings("word", index.term_id("word", term))
        start, end = gathered.bounds[number], gathered.bounds[number + 1]
        assert (
            len(rows) and np.array_equal(gathered.rows[start:end], rows) and np.array_equal(gathered.tf[start:end], tf)
        )
    assert np.array_equal(
        gathered.term_index()[gathered.bounds[2] : gathered.bounds[3]], [2] * (gathered.bounds[3] - gathered.bounds[2])
    )


def test_traditional_and_full_width_passages_are_read_and_folded_from_the_index(tmp_path, seed_corpus):
    report = (
        "一、2024年重點工作\n全年完成既有住宅加裝電梯６０台，籌集保障性租賃住房８００套。\n"
        "二、其他\n城市更新穩步推進。\n"
    )
    library = open_library(tmp_path, seed_corpus)
    (seed_corpus / "繁體.txt").write_text(report, encoding="utf-8")
    assert library.reload().added == ["繁體.txt"]
    assert_passages_in_the_index_equal_the_store(library)
    assert not library.serving.passage_simplified.all()  # this report's passages need OpenCC
    hit = next(h for h in library.search("加装电梯完成了多少台", k=10) if "加裝電梯" in h.passage.text)
    assert "加裝電梯" in [hit.passage.text[start:end] for start, end in hit.highlights]


def test_text_columns_keep_every_string_through_take_and_concatenate():
    strings = ["", "加装电梯60台", "é", "", "一、2024年 › （一）城市更新", "𠀀x"]
    column = TextColumn.build(strings)
    assert [column.get(r) for r in range(len(column))] == strings
    picked = column.take(np.array([4, 0, 5, 1]))
    assert [picked.get(r) for r in range(len(picked))] == [strings[4], "", strings[5], strings[1]]
    joined = TextColumn.concatenate([picked, TextColumn.build([]), column])
    assert [joined.get(r) for r in range(len(joined))] == [strings[4], "", strings[5], strings[1], *strings]


def test_gathering_two_fields_at_once_equals_gathering_each(seed_index):
    index = seed_index.serving.index
    words, grams = ["加装电梯", "没有这个词", "电梯", "加装电梯"], ["电梯", "加装", "梯梯", "保障"]
    together, starts = index.gather_fields([("word", words), ("bigram", grams)])
    apart = [index.gather("word", words), index.gather("bigram", grams)]
    assert starts == [0, 2, 5]
    assert together.terms == apart[0].terms + apart[1].terms == ["加装电梯", "电梯", "电梯", "加装", "保障"]
    assert np.array_equal(together.ids, np.concatenate([g.ids for g in apart]))
    assert np.array_equal(together.rows, np.concatenate([g.rows for g in apart]))
    assert np.array_equal(together.tf, np.concatenate([g.tf for g in apart]))
    assert np.array_equal(together.bounds, np.concatenate([apart[0].bounds, apart[1].bounds[1:] + len(apart[0].rows)]))
    marks = np.zeros(index.rows("passages"), dtype=bool)
    together.mark_numbers(marks, {2, None})  # the bigram 电梯, not the word
    assert np.array_equal(np.flatnonzero(marks), np.unique(apart[1].rows[: apart[1].bounds[1]]))
    with pytest.raises(ValueError, match="row spaces"):
        index.gather_fields([("word", words), ("indicator", words)])


def test_restricted_postings_are_each_terms_postings_on_the_kept_rows(seed_index):
    index = seed_index.serving.index
    gathered = index.gather("word", ["加装电梯", "电梯", "改造", "没有这个词", "保障性租赁住房"])
    rng = np.random.default_rng(3)
    for share in (0.0, 0.3, 0.9, 1.0):
        kept = rng.random(index.rows("passages")) < share
        restricted = gathered.restricted(kept)
        assert restricted.terms == gathered.terms
        for number in range(len(gathered.terms)):
            rows = gathered.rows[gathered.bounds[number] : gathered.bounds[number + 1]]
            tf = gathered.tf[gathered.bounds[number] : gathered.bounds[number + 1]]
            start, end = restricted.bounds[number], restricted.bounds[number + 1]
            assert np.array_equal(restricted.rows[start:end], rows[kept[rows]])
            assert np.array_equal(restricted.tf[start:end], tf[kept[rows]])


def test_unchanged_reload_does_no_index_work(tmp_path, seed_corpus):
    library = open_library(tmp_path, seed_corpus)
    index_files = lambda: sorted(p.name for p in library.settings.index_folder.iterdir() if p.name != FILE_HASHES)  # noqa: E731
    before = index_files()
    serving = library.serving
    report = library.reload()
    assert not report.changed
    assert library.serving is serving  # the same generation keeps serving
    assert index_files() == before
    with Session(library.engine) as session:  # the totals, read from the index, are the store's
        counts = [session.exec(select(func.count()).select_from(t)).one() for t in (Document, Passage, Target)]
    assert [report.documents, report.passages, report.targets] == counts and counts[2] > 0


def test_a_reload_reads_only_files_whose_size_or_time_changed(tmp_path, seed_corpus):
    library = open_library(tmp_path, seed_corpus)
    library.reload()  # remembers every file's hash with its size and time
    path = next(seed_corpus.glob("001_*.txt"))
    text, status = path.read_text(encoding="utf-8"), path.stat()
    swapped = text.replace("区委", "市委", 1)
    assert swapped != text and len(swapped.encode()) == len(text.encode())
    path.write_text(swapped, encoding="utf-8")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))  # same size, same time: not read again
    assert not library.reload().changed
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))
    assert library.reload().updated == [path.name]  # a new time: read, hashed, found changed
    (library.settings.index_folder / FILE_HASHES).write_text("{broken", encoding="utf-8")
    assert not library.reload().changed  # an unreadable cache only means hashing every file again


def test_many_small_reloads_merge_into_one_segment_with_the_same_scores(tmp_path, seed_corpus, monkeypatch):
    monkeypatch.setattr(engine, "MAX_SEGMENTS", 2)
    library = open_library(tmp_path, seed_corpus)
    for number in range(3):
        (seed_corpus / f"增补{number}.txt").write_text(
            f"一、2024年重点工作\n新建口袋公园{number + 5}个，完成加装电梯{number + 9}台。\n", encoding="utf-8"
        )
        library.reload()
    index = library.serving.index
    assert len(index.segments) <= 2 and index.live["passages"].all()
    assert_scores_equal_rank_bm25(library)
    assert_passages_in_the_index_equal_the_store(library)  # the texts went through the merge
    assert len({p.name for p in library.settings.index_folder.glob("seg-*")}) == len(index.segments)  # old ones gone


def test_index_files_are_plain_and_versioned(seed_index):
    folder = seed_index.settings.index_folder
    manifest = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == engine.ENGINE_VERSION and manifest["lexicon"] == seed_index.tokenizer.fingerprint
    segment = folder / manifest["segments"][0]
    indptr = np.load(segment / "word.indptr.npy")
    terms = (folder / manifest["vocab"]["word"]).read_text(encoding="utf-8").split("\n")
    term = terms.index("加装电梯")
    rows = np.load(segment / "word.rows.npy")[indptr[term] : indptr[term + 1]]
    ids = np.load(segment / "passage_id.npy")[rows]
    with Session(seed_index.engine) as session:
        texts = [session.get(Passage, int(i)).text for i in ids]
    assert texts and all("加装电梯" in text for text in texts)
    # The display text is there too, as UTF-8 bytes with offsets, readable without our code.
    offsets, data = (np.load(segment / f"passage_text.{part}.npy") for part in ("offsets", "data"))
    assert [data[offsets[r] : offsets[r + 1]].tobytes().decode("utf-8") for r in rows] == texts


def test_a_store_ahead_of_its_index_files_is_rebuilt_on_open(tmp_path, seed_corpus):
    library = open_library(tmp_path, seed_corpus)
    with Session(library.engine) as session:  # as if the process died after the store committed
        state = session.get(IndexState, "store_generation")
        ahead = int(state.value) + 1
        state.value = str(ahead)
        session.add(state)
        session.commit()
    notes: list[str] = []
    reopened = type(library)(library.settings, notice=notes.append)
    assert reopened.open() is None and any("重建" in note for note in notes)
    assert reopened.serving.index.store_generation == ahead
    assert reopened.search("加装电梯")


def test_index_files_of_an_older_format_are_rebuilt_from_the_store_on_open(tmp_path, seed_corpus):
    library = open_library(tmp_path, seed_corpus)
    before = [(h.passage, h.score) for h in library.search("加装电梯完成了多少台", k=5)]
    manifest_path = library.settings.index_folder / "index.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["engine"] = engine.ENGINE_VERSION - 1  # as an upgrade finds them
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    notes: list[str] = []
    reopened = type(library)(library.settings, notice=notes.append)
    assert reopened.open() is None and any("重建" in note for note in notes)
    assert json.loads(manifest_path.read_text(encoding="utf-8"))["engine"] == engine.ENGINE_VERSION
    assert [(h.passage, h.score) for h in reopened.search("加装电梯完成了多少台", k=5)] == before


def test_a_failed_index_write_keeps_the_previous_store_and_index(tmp_path, seed_corpus, monkeypatch):
    library = open_library(tmp_path, seed_corpus)
    serving = library.serving
    (seed_corpus / "新.txt").write_text("一、2024年重点工作\n新建口袋公园9个。\n", encoding="utf-8")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(engine.Segment, "write", full_disk)  # a fault injected into the file system layer
    with pytest.raises(Exception, match="无法写入检索索引"):
        library.reload()
    assert library.serving is serving
    assert "新.txt" not in {d.id for d in library.documents()}
    monkeypatch.undo()
    assert library.reload().added == ["新.txt"]  # and the next reload succeeds
    assert open_index(library.settings.index_folder).generation == library.serving.index.generation


def test_a_reload_in_a_worker_process_reports_progress_and_swaps(tmp_path, seed_corpus):
    from index.api import Library

    library = Library(open_library(tmp_path, seed_corpus).settings, notice=silent, isolate_reloads=True)
    library.open()
    (seed_corpus / "新.txt").write_text("一、2024年重点工作\n新建口袋公园9个。\n", encoding="utf-8")
    seen: list[tuple] = []
    try:
        report = library.reload(lambda *step: seen.append(step))
    finally:
        library.close()
    assert report.added == ["新.txt"] and seen == [(1, 1, "新.txt")]
    assert library.search("口袋公园")[0].passage.doc_id == "新.txt"


def test_top_k_is_the_best_rows_in_order_with_ties_by_row():
    rng = np.random.default_rng(3)
    for _ in range(200):
        scores = rng.integers(0, 4, size=60).astype(float) * (rng.random(60) < 0.3)  # mostly zero, many ties
        k = int(rng.integers(1, 20))
        expected = np.lexsort((np.arange(60), -scores))[:k]  # best first, then row order
        assert np.array_equal(top_k(scores, k), expected)


def test_the_allocator_keeps_freed_memory_where_glibc_runs():
    assert keep_freed_memory() is (platform.libc_ver()[0] == "glibc")


def test_document_frequencies_read_at_once_are_each_terms_live_rows(seed_index):
    index = seed_index.serving.index
    terms = ["电梯", "加装", "梯梯", "保障", "电梯"]  # 梯梯: no passage holds it
    ids = [index.term_id("bigram", term) for term in terms]
    live_rows = [0 if number is None else len(index.postings("bigram", number)[0]) for number in ids]
    assert index.dfs("bigram", terms) == live_rows == [index.df("bigram", term) for term in terms]
    assert live_rows[0] > 0 and live_rows[2] == 0 and index.dfs("bigram", []) == []
