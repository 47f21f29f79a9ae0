"""Report files in the corpus folder: listing, safe names, atomic saves, moving aside.

Nothing here deletes a report: a replaced or removed file is moved into the removed
folder with a timestamp, from where an admin can put it back.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from index.errors import DocumentReadError, ReloadError
from index.ingest.readers import SUPPORTED_SUFFIXES, unsupported_type_reason

MAX_NAME_CHARS = 100
# Characters Windows, macOS or Linux refuse or treat specially in file names.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


def safe_file_name(name: str) -> str:
    """Return a file name for an uploaded report that stays inside the corpus folder.

    Only the last path component is kept (``../../etc/passwd.txt`` -> ``passwd.txt``),
    characters that file systems refuse become ``_``, leading dots go (no hidden
    files), and the stem is cut to fit ``MAX_NAME_CHARS``. The extension is kept and
    lower-cased.

    Raises:
        DocumentReadError: the extension is not .txt, .docx or .pdf.
    """
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1].strip()
    suffix = "." + base.rsplit(".", 1)[1].lower() if "." in base else ""  # ".txt" has suffix .txt
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentReadError(unsupported_type_reason(suffix))
    stem = _UNSAFE.sub("_", base[: -len(suffix)]).strip(" .")
    stem = stem[: MAX_NAME_CHARS - len(suffix)] or f"上传报告_{datetime.now():%Y%m%d_%H%M%S}"
    return stem + suffix


def save_report(corpus_dir: Path, file_name: str, content: bytes) -> Path:
    """Write ``content`` to ``corpus_dir/file_name`` atomically (temp file, then rename).

    A reader of the folder sees either no file or the whole file, never a part.
    """
    corpus_dir.mkdir(parents=True, exist_ok=True)
    target = corpus_dir / file_name
    handle, temporary = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=corpus_dir)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def move_aside(path: Path, removed_dir: Path) -> Path:
    """Move a report into ``removed_dir`` under a timestamped name; return the new path."""
    removed_dir.mkdir(parents=True, exist_ok=True)
    destination = removed_dir / f"{datetime.now():%Y%m%d-%H%M%S}_{path.name}"
    counter = 1
    while destination.exists():
        destination = removed_dir / f"{datetime.now():%Y%m%d-%H%M%S}_{counter}_{path.name}"
        counter += 1
    shutil.move(path, destination)  # not os.replace: the folder may be on another disk
    return destination


@dataclass(frozen=True)
class FailedDocument:
    """A file that could not be ingested, with the reason in Chinese."""

    doc_id: str
    reason: str


def scan_corpus(corpus_dir: Path) -> tuple[dict[str, Path], list[FailedDocument]]:
    """List report files under ``corpus_dir``.

    Returns:
        (doc_id -> path for supported files, failures for files of other types).
        Hidden files and folders (name starting with ".") are skipped.

    Raises:
        ReloadError: the folder does not exist or cannot be listed.
    """
    if not corpus_dir.is_dir():
        raise ReloadError(f"语料目录不存在：{corpus_dir}")
    files: dict[str, Path] = {}
    unsupported: list[FailedDocument] = []
    try:
        paths = sorted(corpus_dir.rglob("*"))
    except OSError as error:
        raise ReloadError(f"无法读取语料目录 {corpus_dir}：{error}") from error
    for path in paths:
        relative = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        doc_id = relative.as_posix()
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            files[doc_id] = path
        else:
            unsupported.append(FailedDocument(doc_id, unsupported_type_reason(path.suffix.lower())))
    return files, unsupported
