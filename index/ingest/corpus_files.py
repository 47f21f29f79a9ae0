"""Report files in the corpus folder: safe names, atomic saves, moving aside.

Nothing here deletes a report: a replaced or removed file is moved into the removed
folder with a timestamp, from where an admin can put it back.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path

from index.ingest.readers import SUPPORTED_SUFFIXES, DocumentReadError, unsupported_type_reason

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
