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

# File systems cap a name at 255 bytes (ext4, NTFS in UTF-16 units, APFS); a Chinese
# character takes 3 bytes in UTF-8. Names are cut well below that, so the timestamp
# that move_aside() puts in front of a replaced file (up to 24 bytes) still fits.
MAX_NAME_BYTES = 200
# The admins' corrections of report metadata (see index.ingest.overrides), not a report.
METADATA_FILE = "metadata.toml"
FILE_SYSTEM_NAME_BYTES = 255
# Characters Windows, macOS or Linux refuse or treat specially in file names.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


def safe_file_name(name: str) -> str:
    """Return a file name for an uploaded report that stays inside the corpus folder.

    Only the last path component is kept (``../../etc/passwd.txt`` -> ``passwd.txt``),
    characters that file systems refuse become ``_``, leading dots go (no hidden
    files), and the stem is cut (at a character boundary) so that the name takes at
    most ``MAX_NAME_BYTES`` bytes in UTF-8. The extension is kept and lower-cased.

    Raises:
        DocumentReadError: the extension is not .txt, .docx or .pdf.
    """
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1].strip()
    suffix = "." + base.rsplit(".", 1)[1].lower() if "." in base else ""  # ".txt" has suffix .txt
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentReadError(unsupported_type_reason(suffix))
    stem = _UNSAFE.sub("_", base[: -len(suffix)]).strip(" .")
    stem = _cut_to_bytes(stem, MAX_NAME_BYTES - len(suffix.encode())).rstrip(" .")
    return (stem or f"上传报告_{datetime.now():%Y%m%d_%H%M%S}") + suffix


def _cut_to_bytes(text: str, limit: int) -> str:
    """Return the longest start of ``text`` whose UTF-8 encoding fits ``limit`` bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


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
    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    counter = 0
    while True:
        prefix = f"{stamp}_{counter}_" if counter else f"{stamp}_"
        name = prefix + _cut_to_bytes(path.stem, FILE_SYSTEM_NAME_BYTES - len(prefix) - len(path.suffix.encode()))
        destination = removed_dir / (name + path.suffix)
        if not destination.exists():
            break
        counter += 1
    shutil.move(path, destination)  # not os.replace: the folder may be on another disk
    return destination


@dataclass(frozen=True)
class FailedDocument:
    """A file that could not be ingested, with the reason in Chinese."""

    doc_id: str
    reason: str


def scan_corpus(corpus_dir: Path) -> tuple[dict[str, str], list[FailedDocument]]:
    """List report files under ``corpus_dir``.

    Hidden files and folders (name starting with ".") are skipped. Links are not
    followed out of the folder: a file or folder link that resolves outside it is
    listed as failed, as is a folder link inside it (its target is read where it is)
    and a broken link.

    Returns:
        (doc_id -> path (a string: a ``Path`` each cost an unchanged reload 65 ms at
        13,000 files) for supported files, failures: other types and links).

    Raises:
        ReloadError: the folder does not exist or cannot be listed.
    """
    if not corpus_dir.is_dir():
        raise ReloadError(f"语料目录不存在：{corpus_dir}")
    root = corpus_dir.resolve()
    files: dict[str, str] = {}
    failed: list[FailedDocument] = []

    # os.scandir rather than os.walk and pathlib: a directory entry knows whether it is
    # a link or a folder without another system call, and the paths stay strings until
    # a report's is made; per-file pathlib calls were most of an unchanged reload at
    # 13,000 files.
    pending = [(str(corpus_dir), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            raise ReloadError(f"无法读取语料目录 {corpus_dir}：{error}") from error
        for entry in entries:
            name, doc_id = entry.name, prefix + entry.name
            if name.startswith(".") or (not prefix and name == METADATA_FILE):
                continue
            link = entry.is_symlink()  # only a link can lead out of the folder
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, doc_id + "/"))
            elif link and entry.is_dir():  # not followed; say why
                inside = _within(root, Path(entry.path))
                reason = "文件夹链接已跳过（目标也在语料目录中，按原位置读取）" if inside else _OUTSIDE_REASON
                failed.append(FailedDocument(doc_id, reason))
            elif link and not os.path.exists(entry.path):
                failed.append(FailedDocument(doc_id, "链接已失效，指向的文件不存在"))
            elif link and not _within(root, Path(entry.path)):
                failed.append(FailedDocument(doc_id, _OUTSIDE_REASON))
            elif os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES:
                files[doc_id] = entry.path
            elif entry.is_file():
                failed.append(FailedDocument(doc_id, unsupported_type_reason(os.path.splitext(name)[1].lower())))
    return dict(sorted(files.items())), sorted(failed, key=lambda f: f.doc_id)


_OUTSIDE_REASON = "链接指向语料目录之外，已跳过（只读取语料目录内的文件）"


def _within(root: Path, path: Path) -> bool:
    """Whether ``path``, links resolved, lies inside ``root`` (already resolved)."""
    return path.resolve().is_relative_to(root)
