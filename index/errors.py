"""The one family of errors the index raises to its front ends.

Every message is short Chinese an admin can act on (``str(error)``); the front ends
print it on one line or send it as a reply, never a traceback.
"""

from __future__ import annotations


class IndexFailure(Exception):
    """Base class: an index operation failed; ``str(error)`` says why, in Chinese."""


class StoreError(IndexFailure):
    """The store (database or index files) cannot be opened, read or written."""


class ReloadError(IndexFailure):
    """The whole reload failed and nothing was changed; the previous index keeps serving."""


class ReloadBusyError(ReloadError):
    """Another reload or corpus change is running; this one did not start."""


class DocumentReadError(IndexFailure):
    """One file could not be turned into text (empty, corrupt, unsupported, too large)."""


class DocumentRejected(IndexFailure):
    """An uploaded report was not added; the corpus folder is unchanged."""


class DocumentNotFound(IndexFailure):
    """No indexed document (or more than one) matches a name.

    Attributes:
        candidates: ids of the documents that match partly, for the admin to pick.
    """

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates
