"""Bad files, bad stores and bad usage: each is a clear one-line message, and nothing a
file or an operator does loses the rest of the corpus (issue 8)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli import main
from index.api import CorpusAdmin, DocumentReadError
from index.ingest.corpus_files import MAX_NAME_BYTES, safe_file_name
from index.ingest.readers import extract_text
from index.store.models import Passage
from tests.conftest import PROJECT_DIR, docx_bytes, open_library

GOOD_REPORT = "区住建局2024年工作总结\n一、2024年工作回顾\n全年新建口袋公园9个，改造背街小巷12条。\n"


def truncated_docx() -> bytes:
    """A valid zip whose word/document.xml is cut in half (lxml cannot parse it)."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes("区住建局2024年工作总结", "全年新建口袋公园9个。" * 50)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "word/document.xml":
                content = content[: len(content) // 2]
            target.writestr(item, content)
    return buffer.getvalue()


@pytest.fixture
def deployment(tmp_path: Path, seed_corpus: Path) -> Path:
    """A config over a writable seed corpus whose store is already built."""
    (tmp_path / "config.toml").write_text(
        f"[corpus]\ndir = '{seed_corpus}'\n[storage]\nurl = 'sqlite:///{tmp_path / 'store.db'}'\n", encoding="utf-8"
    )
    return tmp_path / "config.toml"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line(text: str) -> bool:
    return text.strip() != "" and "\n" not in text.strip() and "Traceback" not in text


# Files


def test_cut_docx_fails_alone_and_the_other_new_files_load(tmp_path, seed_corpus):
    live = open_library(tmp_path, seed_corpus)
    (seed_corpus / "坏.docx").write_bytes(truncated_docx())
    (seed_corpus / "好.txt").write_text(GOOD_REPORT, encoding="utf-8")
    report = live.reload()
    assert report.added == ["好.txt"]
    (failure,) = report.failed
    assert failure.doc_id == "坏.docx" and "无法打开 .docx" in failure.reason
    assert live.search("口袋公园")[0].passage.doc_id == "好.txt"


def test_cut_docx_is_a_read_error():
    with pytest.raises(DocumentReadError, match=r"无法打开 \.docx"):
        extract_text(truncated_docx(), ".docx")


def test_symlinks_out_of_the_corpus_are_skipped_with_a_reason(tmp_path, seed_corpus):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("一、机密\n内部绝密事项代号青鸟计划。\n", encoding="utf-8")
    (outside / "folder").mkdir()
    (outside / "folder" / "more.txt").write_text("一、机密\n另一份绝密事项代号白鹭计划。\n", encoding="utf-8")
    (seed_corpus / "link.txt").symlink_to(outside / "secret.txt")
    (seed_corpus / "linked_folder").symlink_to(outside / "folder", target_is_directory=True)
    (seed_corpus / "inside.txt").symlink_to(next(seed_corpus.glob("001_*.txt")))
    live = open_library(tmp_path, seed_corpus)
    report = live.reload()
    reasons = {f.doc_id: f.reason for f in report.failed}
    assert "语料目录之外" in reasons["link.txt"] and "语料目录之外" in reasons["linked_folder"]
    assert live.search("青鸟计划") == [] and live.search("白鹭计划") == []
    assert "link.txt" not in {d.id for d in live.documents()}


def test_a_file_of_redaction_marks_only_is_refused(tmp_path, seed_corpus):
    (seed_corpus / "脱敏.txt").write_text("XX *** ×××\n" * 30 + "xx、**、XXX。\n" * 10, encoding="utf-8")
    live = open_library(tmp_path, seed_corpus)
    report = live.reload()
    (failure,) = report.failed
    assert failure.doc_id == "脱敏.txt" and "没有可检索的文字" in failure.reason
    assert "脱敏.txt" not in {d.id for d in live.documents()}


def test_no_stored_passage_is_blank_after_a_run_of_em_spaces(tmp_path, seed_corpus):
    (seed_corpus / "空格.txt").write_text(
        "一、2024年重点工作\n全年新建口袋公园9个，" + "\u2003" * 600 + "改造背街小巷12条。\n", encoding="utf-8"
    )
    live = open_library(tmp_path, seed_corpus)
    assert live.reload().added == ["空格.txt"]
    with Session(live.engine) as session:
        texts = session.exec(select(Passage.text).where(Passage.doc_id == "空格.txt")).all()
    assert texts and all(text.strip() for text in texts)
    assert all("\u2003\u2003" not in text for text in texts)


def test_upload_names_are_capped_in_bytes_keeping_the_extension(tmp_path, seed_corpus):
    name = "关于" + "住房和城乡建设局年度工作总结" * 7 + ".docx"
    assert len(name.encode()) > 255
    safe = safe_file_name(name)
    assert safe.endswith(".docx") and len(safe.encode()) <= MAX_NAME_BYTES < 255
    safe.encode().decode()  # not cut inside a character
    change = CorpusAdmin(open_library(tmp_path, seed_corpus)).add(name, docx_bytes(*GOOD_REPORT.splitlines()))
    assert change.doc_id == safe and (seed_corpus / safe).exists()
    replaced = CorpusAdmin(open_library(tmp_path, seed_corpus)).add(name, docx_bytes("区住建局", "新建口袋公园3个。"))
    assert replaced.moved_to is not None and len(replaced.moved_to.name.encode()) <= 255


# The command line


def test_global_config_option_before_the_sub_command(tmp_path, deployment, capsys, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    status, out, err = run_cli(capsys, "--config", str(deployment), "reload", "--json")
    assert status == 0, err
    assert json.loads(out)["documents"] == 5
    assert not (elsewhere / "data").exists()
    other = tmp_path / "other.toml"
    other.write_text("[corpus]\ndir = 'nowhere'\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "--config", str(other), "docs", "--config", str(deployment))
    assert status == 0, err  # the sub-command's position wins


@pytest.mark.parametrize(
    "url",
    ["sqlite:////proc/nope/bureau.db", "PARENT_IS_A_FILE"],
)
def test_unwritable_storage_is_one_line(tmp_path, seed_corpus, capsys, url):
    if url == "PARENT_IS_A_FILE":
        (tmp_path / "afile").write_text("x", encoding="utf-8")
        url = f"sqlite:///{tmp_path / 'afile' / 'bureau.db'}"
    config = tmp_path / "bad.toml"
    config.write_text(f"[corpus]\ndir = '{seed_corpus}'\n[storage]\nurl = '{url}'\n", encoding="utf-8")
    for command in ("reload", "search"):
        args = [command, "--config", str(config)] + (["加装电梯"] if command == "search" else [])
        status, _, err = run_cli(capsys, *args)
        assert status == 1 and one_line(err), err
        assert "无法打开或创建索引数据库" in err


def test_a_store_that_is_not_a_database_names_the_file_and_the_fix(tmp_path, deployment, capsys):
    (tmp_path / "store.db").write_text("这不是数据库。" * 100, encoding="utf-8")
    for args in (["search", "加装电梯"], ["reload"], ["docs"], ["targets", "加装电梯"]):
        status, _, err = run_cli(capsys, args[0], "--config", str(deployment), *args[1:])
        assert status == 1 and one_line(err), err
        assert str(tmp_path / "store.db") in err and "移到别处" in err and "reload" in err


def test_a_partly_corrupt_store_is_one_line_on_every_command(tmp_path, deployment, capsys):
    store = tmp_path / "store.db"
    content = bytearray(store.read_bytes())
    page = 4096
    for start in range(2 * page, len(content) - page, 3 * page):  # garbage over every third page
        content[start : start + page] = b"\xa5" * page
    store.write_bytes(bytes(content))
    for args in (["search", "加装电梯"], ["reload"], ["docs"], ["targets", "加装电梯"]):
        status, _, err = run_cli(capsys, args[0], "--config", str(deployment), *args[1:])
        assert status == 1 and one_line(err), (args, err)
        assert str(store) in err


def test_closed_stdout_ends_quietly(tmp_path, deployment):
    for args in (["docs"],):
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args, "--config", str(deployment)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ | {"PYTHONPATH": str(PROJECT_DIR)},
        )
        process.stdout.close()  # the reader is gone before anything is written
        _, err = process.communicate(timeout=120)
        assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
        assert process.returncode == 141


def test_library_warnings_go_to_the_log_file_not_the_screen(tmp_path, deployment, seed_corpus, capsys):
    from tests.test_readers import _pdf_with_lines

    pdf = _pdf_with_lines(["District report 2024:", "New pocket parks: 9 built!", "Old streets: 12 renewed!"])
    (seed_corpus / "odd.pdf").write_bytes(pdf.replace(b"startxref\n", b"startxref\n1"))  # a wrong xref pointer
    status, out, err = run_cli(capsys, "reload", "--config", str(deployment))
    assert status == 0 and "新增：odd.pdf" in out
    assert "startxref" not in err
    assert "startxref" in (tmp_path / "data" / "bureau-bot.log").read_text(encoding="utf-8")
