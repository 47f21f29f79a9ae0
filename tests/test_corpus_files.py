"""Uploaded and removed reports: safe names, atomic saves, rollback, nothing destroyed."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from index.api import CorpusAdmin, DocumentNotFound, DocumentReadError, DocumentRejected, ReloadError
from index.ingest.corpus_files import MAX_NAME_BYTES, move_aside, safe_file_name, save_report
from tests.conftest import open_library

REPORT = "区住建局2024年工作总结\n一、2024年工作回顾\n全年新建口袋公园9个。\n".encode()


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\报告.DOCX", "报告.docx"),
        (".hidden.pdf", "hidden.pdf"),
        ('a<b>:c"d|e?f*.txt', "a_b__c_d_e_f_.txt"),
        (".txt", None),
    ],
)
def test_safe_file_names(name, safe):
    result = safe_file_name(name)
    if safe is None:
        assert result.endswith(".txt") and result.startswith("上传报告_")
    else:
        assert result == safe


def test_long_names_are_cut_and_bad_types_refused():
    cut = safe_file_name("长" * 300 + ".docx")
    assert cut == "长" * ((MAX_NAME_BYTES - 5) // 3) + ".docx"
    with pytest.raises(DocumentReadError, match=r"另存为 \.docx"):
        safe_file_name("报告.doc")
    with pytest.raises(DocumentReadError, match="不支持"):
        safe_file_name("run.sh")


def test_save_is_atomic_and_move_aside_keeps_the_file(tmp_path):
    path = save_report(tmp_path, "a.txt", b"one")
    assert path.read_bytes() == b"one" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    moved = move_aside(path, tmp_path / ".removed")
    again = move_aside(save_report(tmp_path, "a.txt", b"two"), tmp_path / ".removed")
    assert moved != again and moved.read_bytes() == b"one" and again.read_bytes() == b"two"


@pytest.fixture
def live(tmp_path, seed_corpus):
    return open_library(tmp_path, seed_corpus)


@pytest.fixture
def admin(live):
    return CorpusAdmin(live)


def test_add_document_rejects_unreadable_files_without_touching_the_corpus(live, admin):
    before = sorted(p.name for p in live.settings.corpus_dir.iterdir())
    for name, content, reason in [
        ("空.txt", b"", "文件为空"),
        ("坏.docx", b"PK\x03\x04 broken", r"无法打开 \.docx"),
        ("图.txt", bytes(range(256)) * 10, "不是文本文件"),
        ("表.xlsx", b"x", "不支持"),
    ]:
        with pytest.raises(DocumentRejected, match=reason):
            admin.add(name, content)
    assert sorted(p.name for p in live.settings.corpus_dir.iterdir()) == before


def test_add_document_rolls_back_when_the_store_refuses(live, admin):
    with live.engine.begin() as connection:
        connection.execute(
            text("CREATE TRIGGER refuse_documents BEFORE INSERT ON document BEGIN SELECT RAISE(ABORT, 'full'); END")
        )
    serving = live.serving
    with pytest.raises(ReloadError, match="无法写入索引数据库"):
        admin.add("2024总结.txt", REPORT)
    assert not (live.settings.corpus_dir / "2024总结.txt").exists()
    assert live.serving is serving


def test_replacing_restores_the_old_file_on_failure(live, admin):
    admin.add("2024总结.txt", REPORT)
    with live.engine.begin() as connection:
        connection.execute(
            text("CREATE TRIGGER refuse_passages BEFORE INSERT ON passage BEGIN SELECT RAISE(ABORT, 'full'); END")
        )
    with pytest.raises(ReloadError):
        admin.add("2024总结.txt", REPORT.replace("9个".encode(), "12个".encode()))
    assert (live.settings.corpus_dir / "2024总结.txt").read_bytes() == REPORT
    assert not list(live.settings.removed_folder.iterdir())


def test_remove_document_moves_the_file_aside(live, admin):
    change = admin.remove("区住建局2022年工作总结和2023年工作思路的汇报")  # by title
    assert change.doc_id == "002_88c0d581ec614d59.txt"
    assert change.moved_to.exists() and change.moved_to.parent == live.settings.removed_folder
    assert len(live.documents()) == 4
    with pytest.raises(DocumentNotFound) as ambiguous:
        admin.remove("00")
    assert len(ambiguous.value.candidates) == 4
    with pytest.raises(DocumentNotFound, match="没有名为"):
        admin.remove("不存在的报告")
