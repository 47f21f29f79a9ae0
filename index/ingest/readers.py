"""Read report files (.txt in any common Chinese encoding, .docx, .pdf) into plain text.

Every failure is a :class:`DocumentReadError` whose message is a short Chinese reason an
admin can act on; nothing here raises anything else for bad file contents.
"""

from __future__ import annotations

import io
import re
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import DocumentReadError
from index.ingest.headings import starts_with_heading

if TYPE_CHECKING:
    from docx.table import Table

# python-docx, pypdf and charset-normalizer are imported by the reader that needs them:
# together about 0.2 s that serving an index already built never has to pay.

SUPPORTED_SUFFIXES = (".txt", ".docx", ".pdf")

# Chinese reports come in these encodings; restricting charset-normalizer to them stops
# short GBK texts from being read as Korean cp949 (seen on a 24-character GBK sample).
_CANDIDATE_ENCODINGS = ["utf_8", "utf_16", "utf_16_le", "utf_16_be", "utf_32", "gb18030", "big5"]
_MAX_CONTROL_SHARE = 0.01
_SHORT_LINE_SHARE = 0.6
_SENTENCE_END = re.compile(r"[。！？；：!?;:][”’」』）)]*$")


def read_document(path: Path, max_bytes: int) -> str:
    """Return the text of the report at ``path``, paragraphs separated by ``\\n``.

    Args:
        path: a .txt, .docx or .pdf file.
        max_bytes: files larger than this are refused without being read.

    Raises:
        DocumentReadError: see :func:`read_bytes` and :func:`extract_text`.
    """
    return extract_text(read_bytes(path, max_bytes), path.suffix)


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """Return the bytes of a report file after checking its type and size.

    Raises:
        DocumentReadError: unsupported type, unreadable, empty, or over ``max_bytes``.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentReadError(unsupported_type_reason(suffix))
    try:
        refusal = size_refusal(path.stat().st_size, max_bytes)
        if refusal:
            raise DocumentReadError(refusal)
        return path.read_bytes()
    except OSError as error:
        raise DocumentReadError(f"无法读取文件：{error.strerror or error}") from error


def size_refusal(size: int, max_bytes: int) -> str | None:
    """Return why a file of ``size`` bytes is refused (empty, or over ``max_bytes``), or None."""
    if size == 0:
        return "文件为空"
    if size > max_bytes:
        return f"文件过大（{size / 1_048_576:.1f} MB，上限 {max_bytes / 1_048_576:.0f} MB）"
    return None


def extract_text(content: bytes, suffix: str) -> str:
    """Return the text of a report's bytes, paragraphs separated by ``\\n``.

    Args:
        content: the file's bytes.
        suffix: the file name's extension (``.txt``, ``.docx``, ``.pdf``; any case).

    Raises:
        DocumentReadError: unsupported type, empty, undecodable, corrupt, encrypted,
            or holding no text.
    """
    suffix = suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentReadError(unsupported_type_reason(suffix))
    if not content:
        raise DocumentReadError("文件为空")
    text = {".txt": decode_text, ".docx": docx_text, ".pdf": pdf_text}[suffix](content)
    if not text.strip():
        raise DocumentReadError("文件中没有文字内容")
    return text


def unsupported_type_reason(suffix: str) -> str:
    """Return the Chinese reason for refusing a file of type ``suffix`` (e.g. ``.doc``)."""
    if suffix in (".doc", ".wps"):
        return f"不支持 {suffix} 格式，请在 Word/WPS 中另存为 .docx 后再上传"
    shown = suffix or "（无扩展名）"
    return f"不支持的文件类型 {shown}，只接受 .txt、.docx、.pdf"


def decode_text(content: bytes) -> str:
    """Decode a text file in UTF-8 (with or without BOM), UTF-16/32, GBK/GB18030 or Big5.

    Raises:
        DocumentReadError: the bytes are not text in any of those encodings (binary).
    """
    from charset_normalizer import from_bytes

    best = from_bytes(content, cp_isolation=_CANDIDATE_ENCODINGS).best()
    if best is None:
        raise DocumentReadError("无法识别文件编码，可能不是文本文件")
    text = str(best).lstrip("\ufeff")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t")
    if controls > _MAX_CONTROL_SHARE * max(len(text), 1):
        raise DocumentReadError("文件内容含大量不可见字符，可能不是文本文件")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def docx_text(content: bytes) -> str:
    """Return paragraphs and table rows of a .docx file in document order.

    Table rows become one line with cells joined by `` | ``; a merged cell that
    python-docx repeats across the row is shown once.

    Raises:
        DocumentReadError: the file is not a readable Word document.
    """
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(content))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_table_lines(block))
            else:
                lines.append(block.text)
    except Exception as error:
        # python-docx lets the errors of its layers through (zipfile, lxml's
        # XMLSyntaxError for a cut document.xml, KeyError for a missing part, ...):
        # for one uploaded file, any of them means "not a readable Word document".
        raise DocumentReadError("无法打开 .docx 文件：文件已损坏或不是 Word 文档") from error
    return "\n".join(lines)


def docx_title(content: bytes) -> str | None:
    """Return the paragraph a .docx marks as its title: the first in the Title style,
    else the first in a Heading style (Word's 标题 or 标题 1); None when there is none or
    the file cannot be read (:func:`docx_text` reports that)."""
    import docx

    try:
        paragraphs = docx.Document(io.BytesIO(content)).paragraphs
    except Exception:  # the reason is given by docx_text, which reads the same bytes
        return None
    styled = [(p.style.name if p.style is not None else "", p.text.strip()) for p in paragraphs if p.text.strip()]
    for prefix in ("Title", "Heading"):
        found = next((text for name, text in styled if name.startswith(prefix)), None)
        if found:
            return found
    return None


def _table_lines(table: Table) -> list[str]:
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.strip()
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            lines.append(" | ".join(cells))
    return lines


def pdf_text(content: bytes) -> str:
    """Return the text layer of a PDF, with visual lines joined back into paragraphs.

    pypdf gives one line per printed line; a line ends a paragraph when it ends a
    sentence, is clearly shorter than a full line (a heading, a paragraph's last
    line), or the next line opens a numbered heading (一、 （一） 1. …).

    Raises:
        DocumentReadError: corrupt, encrypted, or no text layer (a scan).
    """
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise DocumentReadError("PDF 文件已加密，请提供未加密的版本")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentReadError:
        raise
    except Exception as error:
        # pypdf raises its own errors for most damage but lets struct, zlib and
        # ValueError/KeyError through on some malformed streams; all mean "corrupt".
        raise DocumentReadError("无法打开 PDF 文件：文件已损坏") from error
    lines = [line.strip() for page in pages for line in page.splitlines() if line.strip()]
    if not lines:
        raise DocumentReadError("PDF 中没有可提取的文字（可能是扫描件，需要先做文字识别）")
    full_line = statistics.median(len(line) for line in lines)
    paragraphs: list[str] = []
    current = ""
    for number, line in enumerate(lines):
        following = lines[number + 1] if number + 1 < len(lines) else ""
        joiner = " " if current[-1:].isascii() and current[-1:].isalnum() and line[:1].isascii() else ""
        current += joiner + line if current else line
        ends = (
            not following
            or _SENTENCE_END.search(line)
            or starts_with_heading(following)
            or len(line) < _SHORT_LINE_SHARE * full_line
        )
        if ends:
            paragraphs.append(current)
            current = ""
    return "\n".join(paragraphs)
