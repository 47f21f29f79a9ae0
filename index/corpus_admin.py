"""Adding and removing report files, with rollback: what admins do to the corpus folder.

Nothing here deletes a report: a replaced or removed file is moved into the removed
folder. Every change holds the library's reload lock and is undone in the folder when
the reindex that follows fails.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from index.errors import DocumentNotFound, DocumentReadError, DocumentRejected
from index.ingest.corpus_files import move_aside, safe_file_name, save_report
from index.ingest.parse import parse_report
from index.ingest.readers import size_refusal
from index.ingest.sync import Progress, ReloadReport
from index.library import Library
from index.store.models import DocumentSummary


@dataclass(frozen=True)
class CorpusChange:
    """The outcome of adding or removing one report.

    Attributes:
        doc_id: the document's id (its file name in the corpus folder).
        moved_to: where the previous version (upload) or the removed file now lies.
        report: the reload that followed.
        document: the stored document after an upload; None after a removal.
    """

    doc_id: str
    moved_to: Path | None
    report: ReloadReport
    document: DocumentSummary | None


class CorpusAdmin:
    """Add and remove reports in the corpus folder of a :class:`Library`, then reindex.

    Args:
        library: the served index whose corpus folder this changes.
    """

    def __init__(self, library: Library) -> None:
        self.library = library
        self.settings = library.settings

    def check_upload(self, file_name: str, size: int | None) -> str:
        """Return the safe name an upload would be saved under, before it is fetched.

        ``size`` in bytes, or None when not known yet (it is checked again on :meth:`add`).

        Raises:
            DocumentRejected: the type is not .txt/.docx/.pdf, or it is over the size limit.
        """
        try:
            name = safe_file_name(file_name)
            refusal = size_refusal(size, self.settings.max_file_bytes) if size is not None else None
            if refusal:
                raise DocumentReadError(refusal)
        except DocumentReadError as error:
            raise DocumentRejected(str(error)) from error
        return name

    def add(self, file_name: str, content: bytes, progress: Progress | None = None) -> CorpusChange:
        """Add an uploaded report to the corpus folder and the index.

        The file is parsed first; only a readable report is saved (atomically, under a
        safe name), and a file of the same name is moved aside, not overwritten. If
        the reload that follows fails, the new file is taken out and the old one put
        back, so nothing is left half-added.

        Raises:
            DocumentRejected: bad name or type, empty, too large, unreadable, or the same
                content as an indexed report (under this name or another).
            ReloadBusyError: a reload is running.
            ReloadError, StoreError: the reload failed (the corpus folder is as before).
        """
        name = self.check_upload(file_name, len(content))
        same = self.library.document_with_content(hashlib.sha256(content).hexdigest())
        if same is not None:
            if same.id == name:
                raise DocumentRejected(f"这份报告已在索引中（{same.id}），内容没有变化")
            raise DocumentRejected(f"与已索引的报告 {same.id} 内容相同，未重复添加")
        try:
            checked = parse_report(name, content, self.settings, self.library.upload_tokenizer())
        except DocumentReadError as error:
            raise DocumentRejected(str(error)) from error
        target = self.settings.corpus_dir / name
        with self.library.exclusive():
            replaced = move_aside(target, self.settings.removed_folder) if target.exists() else None
            try:
                save_report(self.settings.corpus_dir, name, content)
                report = self.library.sync_locked(progress, checked)
            except BaseException:  # whatever failed, the folder goes back to how it was
                target.unlink(missing_ok=True)
                if replaced is not None:
                    shutil.move(replaced, target)
                raise
        return CorpusChange(name, replaced, report, self.library.document(name))

    def remove(self, name: str, progress: Progress | None = None) -> CorpusChange:
        """Move a report out of the corpus folder (into the removed folder) and reindex.

        ``name`` is a document id, a file name, or a title; it must match one
        document (exactly, or as the only partial match).

        Raises:
            DocumentNotFound: no document or several match.
            ReloadBusyError: a reload is running.
            ReloadError: the reload failed; the file is put back.
        """
        doc_id = self.find(name)
        path = self.settings.corpus_dir / doc_id
        with self.library.exclusive():
            moved = move_aside(path, self.settings.removed_folder) if path.exists() else None
            try:
                report = self.library.sync_locked(progress)
            except BaseException:  # whatever failed, the file goes back
                if moved is not None:
                    shutil.move(moved, path)
                raise
        return CorpusChange(doc_id, moved, report, None)

    def find(self, name: str) -> str:
        """Return the id of the one document a name (id, file name, title, or a unique
        part of one) refers to.

        Raises:
            DocumentNotFound: none or several match (``candidates`` lists them).
        """
        wanted = name.strip()
        documents = self.library.documents()
        for document in documents:
            if wanted in (document.id, PurePosixPath(document.id).name, document.title):
                return document.id
        partial = [d.id for d in documents if wanted and (wanted in d.id or wanted in d.title)]
        if len(partial) == 1:
            return partial[0]
        if partial:
            raise DocumentNotFound(f"有 {len(partial)} 份文档与“{wanted}”相符，请写出完整文件名", partial)
        raise DocumentNotFound(f"没有名为“{wanted}”的文档", [])
