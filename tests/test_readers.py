"""Reading report files: encodings, Word, PDF, and every kind of bad file."""

from __future__ import annotations

import docx
import opencc
import pytest

from index.ingest.readers import DocumentReadError, read_document
from tests.conftest import seed_text

MAX = 20 * 1024 * 1024
SHORT = "全年分配公租房120套，发放廉租住房补贴35户。"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_seed_report_in_any_common_encoding(tmp_path, encoding):
    text = seed_text("000")
    path = tmp_path / "report.txt"
    path.write_bytes(text.encode(encoding))
    assert read_document(path, MAX) == text


@pytest.mark.parametrize("encoding", ["gbk", "utf-16-le"])
def test_short_text_is_not_mistaken_for_another_language(tmp_path, encoding):
    path = tmp_path / "short.txt"
    path.write_bytes(SHORT.encode(encoding))
    assert read_document(path, MAX) == SHORT


def test_big5_traditional_text(tmp_path):
    traditional = opencc.OpenCC("s2t").convert(SHORT)
    path = tmp_path / "traditional.txt"
    path.write_bytes(traditional.encode("big5"))
    assert read_document(path, MAX) == traditional


def test_windows_line_endings_become_newlines(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes("一、总体情况\r\n全年完成投资2亿元。\r\n".encode("gbk"))
    assert read_document(path, MAX) == "一、总体情况\n全年完成投资2亿元。\n"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(DocumentReadError, match="文件为空"):
        read_document(path, MAX)


def test_whitespace_only_file(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text(" \n\t\n", encoding="utf-8")
    with pytest.raises(DocumentReadError, match="没有文字内容"):
        read_document(path, MAX)


def test_binary_file_with_txt_name(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(DocumentReadError, match="不是文本文件"):
        read_document(path, MAX)


def test_file_over_the_size_limit_is_not_read(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes(("加装电梯" * 1000).encode("utf-8"))
    with pytest.raises(DocumentReadError, match="文件过大"):
        read_document(path, max_bytes=1024)


@pytest.mark.parametrize(("suffix", "reason"), [(".doc", "另存为 .docx"), (".xlsx", "不支持的文件类型")])
def test_unsupported_types(tmp_path, suffix, reason):
    path = tmp_path / f"report{suffix}"
    path.write_bytes(b"anything")
    with pytest.raises(DocumentReadError, match=reason):
        read_document(path, MAX)


def test_docx_paragraphs_and_tables_in_order(tmp_path):
    document = docx.Document()
    document.add_paragraph("区住建局2023年工作总结")
    document.add_paragraph("一、住房保障")
    document.add_paragraph("全年筹集保障性租赁住房1200套（间）。")
    table = document.add_table(rows=2, cols=3)
    for cell, value in zip(table.rows[0].cells, ["指标", "目标", "完成"], strict=True):
        cell.text = value
    for cell, value in zip(table.rows[1].cells, ["加装电梯", "50台", "62台"], strict=True):
        cell.text = value
    document.add_paragraph("二、城市更新")
    path = tmp_path / "summary.docx"
    document.save(path)
    lines = read_document(path, MAX).split("\n")
    assert lines == [
        "区住建局2023年工作总结",
        "一、住房保障",
        "全年筹集保障性租赁住房1200套（间）。",
        "指标 | 目标 | 完成",
        "加装电梯 | 50台 | 62台",
        "二、城市更新",
    ]


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04broken zip"])
def test_corrupt_docx(tmp_path, content):
    path = tmp_path / "broken.docx"
    path.write_bytes(content)
    with pytest.raises(DocumentReadError, match=r"无法打开 \.docx"):
        read_document(path, MAX)


def _pdf_with_lines(lines: list[str]) -> bytes:
    """A one-page PDF drawing ``lines`` (ASCII) in Helvetica, built by hand."""
    commands = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
    commands += [f"({line}) Tj T*" for line in lines]
    commands.append("ET")
    stream = "\n".join(commands).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_lines_are_joined_into_paragraphs(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(
        _pdf_with_lines(
            [
                "1. Housing",
                "This year the district completed 1200 units of",
                "rental housing and 35 lifts in old estates;",
                "all targets were met.",
                "2. Renewal",
                "Work on 12 old estates started in March and",
                "will finish by the end of the year.",
            ]
        )
    )
    assert read_document(path, MAX).split("\n") == [
        "1. Housing",
        "This year the district completed 1200 units of rental housing and 35 lifts in old estates;",
        "all targets were met.",
        "2. Renewal",
        "Work on 12 old estates started in March and will finish by the end of the year.",
    ]


def test_corrupt_pdf(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not a pdf body")
    with pytest.raises(DocumentReadError, match="PDF"):
        read_document(path, MAX)


def test_pdf_without_text_layer(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(_pdf_with_lines([]))
    with pytest.raises(DocumentReadError, match="扫描件"):
        read_document(path, MAX)
