"""Reload: add, change, remove, bad files, failures that keep the previous index."""

from __future__ import annotations

import fcntl
import json
import shutil

import pytest
from sqlmodel import Session, select, update

from bot.render.admin import render_reload_report
from bot.render.markup import html_to_text
from index.api import Library, ReloadBusyError, ReloadError
from index.store.models import Document, Passage
from index.text.lexicon import LexiconPaths
from tests.conftest import make_settings, open_library, seed_text, silent

NEW_REPORT = (
    "区住建局2024年工作计划\n"
    "一、2024年重点工作\n"
    "（一）住房保障。全年计划筹集保障性租赁住房1500套（间），发放市场租房补贴800户。\n"
    "（二）城市更新。新开工老旧小区改造项目18个，完成既有住宅加装电梯60台。\n"
)


def stored_with_token(live: Library, token: str) -> list[int]:
    """Ids of the stored passages whose tokens include ``token``."""
    with Session(live.engine) as session:
        return [p.id for p in session.exec(select(Passage)) if token in json.loads(p.tokens)]


def doc_ids(live: Library) -> set[str]:
    return {d.id for d in live.documents()}


def test_first_open_builds_the_index_from_the_corpus(tmp_path, fresh_seed_corpus):
    notes: list[str] = []
    live = Library(make_settings(tmp_path, fresh_seed_corpus), notice=notes.append)
    report = live.open()
    assert report is not None and sorted(report.added) == sorted(p.name for p in fresh_seed_corpus.iterdir())
    assert report.failed == []
    assert "索引为空" in notes[0]
    assert len(live.serving) == report.passages > 100


def test_open_reads_the_index_files_not_every_stored_token_list(tmp_path, seed_corpus):
    first = open_library(tmp_path, seed_corpus)
    with Session(first.engine) as session:
        session.exec(update(Passage).values(tokens="not json"))  # opening must not decode these
        session.commit()
    second = Library(first.settings, notice=silent)
    assert second.open() is None  # nothing to sync or rebuild: the index files were used as is
    assert second.search("龙湖整改")[0].passage.text.startswith("龙湖整改工作累计拆除")


def test_missing_index_files_are_rebuilt_from_the_stored_tokens(tmp_path, seed_corpus):
    first = open_library(tmp_path, seed_corpus)
    with Session(first.engine) as session:
        passage = session.exec(select(Passage).where(Passage.text.contains("龙湖整改工作累计拆除"))).one()
        passage.tokens = json.dumps(["zzmarker"])  # a token the tokenizer could never produce
        session.add(passage)
        session.commit()
        text = passage.text
    shutil.rmtree(first.settings.index_folder)
    notes: list[str] = []
    second = Library(first.settings, notice=notes.append)
    assert second.open() is None and "重建" in notes[0]  # rebuilt from the store, no re-tokenising
    assert [h.passage.text for h in second.search("zzmarker")] == [text]


def test_reload_adds_changes_and_removes(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    (seed_corpus / "2024计划.txt").write_text(NEW_REPORT, encoding="utf-8")
    changed = next(seed_corpus.glob("001_*.txt"))
    changed.write_text(changed.read_text(encoding="utf-8") + "\n六、补充\n全年新建口袋公园9个。\n", encoding="utf-8")
    removed = next(seed_corpus.glob("004_*.txt"))
    removed.unlink()

    report = live.reload()

    assert report.added == ["2024计划.txt"]
    assert report.updated == [changed.name]
    assert report.removed == [removed.name]
    assert len(report.unchanged) == 3
    assert doc_ids(live) == {p.name for p in seed_corpus.iterdir()}
    assert live.search("口袋公园")[0].passage.doc_id == changed.name
    assert live.search("2024年保障性租赁住房筹集计划")[0].passage.doc_id == "2024计划.txt"
    assert all(h.passage.doc_id != removed.name for h in live.search("停工通知", k=10))
    with Session(live.engine) as session:
        assert session.exec(select(Passage).where(Passage.doc_id == removed.name)).all() == []


def test_reload_without_changes_changes_nothing(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    before = {d.id: d.ingested_at for d in live.documents()}
    report = live.reload()
    assert not report.changed and report.failed == []
    assert {d.id: d.ingested_at for d in live.documents()} == before


def test_bad_files_are_reported_and_the_others_loaded(tmp_path, seed_corpus):
    (seed_corpus / "空白.txt").write_bytes(b"")
    (seed_corpus / "图片.txt").write_bytes(bytes(range(256)) * 20)
    (seed_corpus / "损坏.docx").write_bytes(b"PK\x03\x04 not really a docx")
    (seed_corpus / "旧格式.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (seed_corpus / "gbk报告.txt").write_bytes(NEW_REPORT.encode("gbk"))
    (seed_corpus / "utf16报告.txt").write_bytes(seed_text("004").replace("停工通知", "停工令").encode("utf-16"))
    (seed_corpus / ".hidden.txt").write_text("临时文件", encoding="utf-8")
    live = open_library(tmp_path, seed_corpus)
    report = live.reload()
    reasons = {f.doc_id: f.reason for f in report.failed}
    assert set(reasons) == {"空白.txt", "图片.txt", "损坏.docx", "旧格式.doc"}
    assert "文件为空" in reasons["空白.txt"] and "另存为 .docx" in reasons["旧格式.doc"]
    assert {"gbk报告.txt", "utf16报告.txt"} <= set(report.added)
    assert ".hidden.txt" not in doc_ids(live)
    assert live.search("加装电梯60台")[0].passage.doc_id == "gbk报告.txt"
    assert any(h.passage.doc_id == "utf16报告.txt" for h in live.search("停工令"))


def test_changed_file_that_turns_bad_keeps_its_previous_version(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    target = next(seed_corpus.glob("002_*.txt"))
    target.write_bytes(b"")
    report = live.reload()
    assert [f.doc_id for f in report.failed] == [target.name]
    assert target.name in doc_ids(live)
    assert live.search("累计完成既有住宅加装电梯")[0].passage.doc_id == target.name


def test_missing_corpus_folder_keeps_the_previous_index(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    serving = live.serving
    shutil.rmtree(seed_corpus)
    with pytest.raises(ReloadError, match="语料目录不存在"):
        live.reload()
    assert live.serving is serving
    assert live.search("加装电梯")


def test_emptied_corpus_folder_is_refused(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    for path in seed_corpus.iterdir():
        path.unlink()
    with pytest.raises(ReloadError, match="防止误删"):
        live.reload()
    assert len(live.documents()) == 5


def test_broken_lexicon_keeps_the_previous_index(tmp_path, seed_corpus):
    synonyms = tmp_path / "synonyms.txt"
    synonyms.write_text("保障性租赁住房 保租房\n", encoding="utf-8")
    live = open_library(tmp_path, seed_corpus, lexicon=LexiconPaths(synonyms=synonyms))
    serving = live.serving
    synonyms.write_text("保租房\n", encoding="utf-8")
    with pytest.raises(ReloadError, match="词表有误"):
        live.reload()
    assert live.serving is serving


def test_edited_lexicon_retokenizes_stored_passages(tmp_path, seed_corpus):
    user_dict = tmp_path / "userdict.txt"
    user_dict.write_text("加装电梯\n", encoding="utf-8")
    live = open_library(tmp_path, seed_corpus, lexicon=LexiconPaths(user_dict=user_dict))
    assert not stored_with_token(live, "金名片")  # jieba cuts it 金 / 名片
    user_dict.write_text("加装电梯\n金名片\n", encoding="utf-8")
    report = live.reload()
    assert report.retokenized == report.passages
    with_token = stored_with_token(live, "金名片")
    assert with_token and live.search("金名片")[0].passage.id in with_token


def test_concurrent_reload_is_refused(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    started = []

    def progress(done, total, doc_id):
        if not started:
            started.append(doc_id)
            with pytest.raises(ReloadBusyError):
                live.reload()

    (seed_corpus / "new.txt").write_text(NEW_REPORT, encoding="utf-8")
    live.reload(progress)
    assert started


def test_a_reload_in_another_process_is_refused_not_waited_for(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    folder = live.settings.index_folder
    with (folder / ".reload.lock").open("a") as handle:  # what another process's reload holds
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ReloadBusyError, match="另一个进程"):
            live.reload()
    assert not live.reload().changed  # free again once the other process is done


def test_document_metadata_is_stored(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    with Session(live.engine) as session:
        document = session.get(Document, next(seed_corpus.glob("002_*.txt")).name)
    assert document.title == "区住建局2022年工作总结和2023年工作思路的汇报"
    assert document.year_list == [2022, 2023] and document.year == 2022  # the year reported on
    assert document.level == "区" and document.kind == "总结"
    assert len(document.content_hash) == 64 and document.passage_count > 5


def test_a_copied_report_is_listed_as_a_duplicate_not_indexed_twice(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    original = next(seed_corpus.glob("000_*.txt"))
    shutil.copy(original, seed_corpus / "副本.txt")
    report = live.reload()
    assert [(d.doc_id, d.same_as) for d in report.duplicates] == [("副本.txt", original.name)]
    assert "副本.txt" not in doc_ids(live) and not report.added
    assert "重复：副本.txt（与 " + original.name in html_to_text(render_reload_report(report))
    texts = [hit.passage.text for hit in live.search("月光经济项目建成投用", k=5)]
    assert len(texts) == len(set(texts))


def test_metadata_file_corrects_a_report_and_reports_bad_entries(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    target = next(seed_corpus.glob("002_*.txt")).name
    (seed_corpus / "metadata.toml").write_text(
        f'["{target}"]\ntitle = "校正后的标题"\nplace = "平阳县"\nyear = 2021\ncolour = "红"\n'
        '["不存在.txt"]\nkind = "总结"\n',
        encoding="utf-8",
    )
    report = live.reload()
    assert report.updated == [target] and not report.added  # only the corrected report is parsed again
    assert sorted(w.reason.split("：")[0] for w in report.warnings) == [
        f"[{target}] colour",
        "[不存在.txt] 语料目录中没有这个文件，已忽略",
    ]
    (document,) = [d for d in live.documents() if d.id == target]
    assert (document.title, document.place, document.year) == ("校正后的标题", "平阳县", 2021)
    assert set(document.overridden) == {"title", "place", "year"}
    cited = {
        (h.passage.doc_title, h.passage.place) for h in live.search("老旧小区改造", k=50) if h.passage.doc_id == target
    }
    assert cited == {("校正后的标题", "平阳县")}
    assert not live.reload().changed  # the same settings again: nothing to do
