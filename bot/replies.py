"""What the bot answers, independent of the transport (Telegram or console)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.config import ChatSettings
from bot.render.admin import render_docs_page
from bot.render.answers import reading_notes, render_answer, render_context
from bot.render.figures import TARGET_LIST_LIMIT, render_targets
from bot.render.markup import html_to_text
from bot.render.texts import (
    EMPTY_QUESTION_TEXT,
    HELP_TEXT,
    TARGET_USAGE_TEXT,
    UNKNOWN_COMMAND_TEXT,
    keyword_too_long,
    question_too_long,
)
from index.api import Library, parse_target_query

_SPACES = re.compile(r"\s+")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
MAX_RESULTS = 10
DOCS_PER_PAGE = 10


@dataclass(frozen=True)
class AnswerPage:
    """One page of the answer to a question.

    Attributes:
        text: the reply (HTML).
        accepted: False when the question was refused (empty or too long).
        result_ids: ids of every passage found (up to ``MAX_RESULTS``), for the log.
        passage_ids: ids of the passages on this page, for the context buttons.
        first_rank: rank of the first passage on this page.
        page, pages: this page (0-based) and the number of pages.
    """

    text: str
    accepted: bool = True
    result_ids: tuple[int, ...] = ()
    passage_ids: tuple[int, ...] = ()
    first_rank: int = 1
    page: int = 0
    pages: int = 0


@dataclass(frozen=True)
class TargetReply:
    """The /target reply (HTML), how many figures it found, and whether the keyword
    was accepted (not empty or too long)."""

    text: str
    found: int = 0
    accepted: bool = True


class Responder:
    """Turn questions and commands into reply texts (HTML).

    Args:
        library: the index to search.
        chat: rendering settings (passages per page, excerpt length).
        max_question_chars: longer questions are refused with an explanation.
    """

    def __init__(self, library: Library, chat: ChatSettings, max_question_chars: int = 500) -> None:
        self.library = library
        self.chat = chat
        self.max_question_chars = max_question_chars

    def answer(self, question: str) -> str:
        """Return the reply to a free-text question: figures and top passages, or why
        there are none."""
        return self.answer_page(question).text

    def answer_page(self, question: str, page: int = 0) -> AnswerPage:
        """Return page ``page`` of the answer (``chat.answer_passages`` passages a page,
        at most ``MAX_RESULTS`` in all); the figures block is on the first page only."""
        question = clean_text(question)
        refusal = self._refusal(question)
        if refusal:
            return AnswerPage(refusal, accepted=False)
        parsed = self.library.parse(question)
        found = self.library.answer(parsed, k=MAX_RESULTS)
        hits = found.hits
        per_page = self.chat.answer_passages
        pages = max(1, math.ceil(len(hits) / per_page))
        page = min(max(page, 0), pages - 1)
        shown = hits[page * per_page : (page + 1) * per_page]
        figures = self.library.figures(parsed) if page == 0 and parsed.asks_number else []
        notes = reading_notes(found) if page == 0 else []
        text = render_answer(question, shown, self.chat.excerpt_chars, figures, page, pages if hits else 1, notes)
        return AnswerPage(
            text=text,
            result_ids=tuple(h.passage.id for h in hits),
            passage_ids=tuple(h.passage.id for h in shown),
            first_rank=shown[0].rank if shown else 1,
            page=page,
            pages=pages if hits else 0,
        )

    def context(self, passage_id: int) -> str:
        """Return a passage with the passages before and after it in its document."""
        return render_context(self.library.context(passage_id), passage_id)

    def targets(self, argument: str) -> TargetReply:
        """Return the /target reply: figures for a keyword, plans beside achievements
        (a year and 计划/完成/比率 among the words filter, see :class:`TargetQuery`)."""
        argument = clean_text(argument)
        if not argument:
            return TargetReply(TARGET_USAGE_TEXT, accepted=False)
        if len(argument) > self.max_question_chars:
            return TargetReply(keyword_too_long(len(argument)), accepted=False)
        query = parse_target_query(argument)
        if not query.keyword:
            return TargetReply(TARGET_USAGE_TEXT, accepted=False)
        total, figures, pairs = self.library.target_query(query, TARGET_LIST_LIMIT)
        return TargetReply(render_targets(argument, total, figures, pairs), total)

    def docs_page(self, page: int) -> tuple[str, int]:
        """Return a page of the indexed documents and the number of pages."""
        return render_docs_page(self.library.documents(), page, DOCS_PER_PAGE)

    def console_reply(self, line: str) -> str | None:
        """Return the reply to one console line, as the Telegram bot would; None for a
        blank line. Commands: /start, /help, /ask 问题, /target (/t) 关键词; anything else
        is a question."""
        line = line.strip()
        if not line:
            return None
        command = _COMMAND.match(line)
        if command is None:
            return self.answer(line)
        name, argument = command.group(1).lower(), command.group(2) or ""
        if name in ("start", "help"):
            return HELP_TEXT
        if name == "ask":
            return self.answer(argument)
        if name in ("target", "t"):
            return self.targets(argument).text
        return UNKNOWN_COMMAND_TEXT

    def _refusal(self, question: str) -> str | None:
        if not question:
            return EMPTY_QUESTION_TEXT
        if len(question) > self.max_question_chars:
            return question_too_long(len(question), self.max_question_chars)
        return None


def clean_text(text: str) -> str:
    """Return user text with markup read as text (<b>保租房</b>, &amp;) and spaces collapsed."""
    if "<" in text or "&" in text:
        text = html_to_text(text)
    return _SPACES.sub(" ", text).strip()
