"""What the bot answers, independent of the transport (Telegram or console)."""

from __future__ import annotations

import re

from bot.config import ChatSettings
from bot.render import EMPTY_QUESTION_TEXT, UNKNOWN_COMMAND_TEXT, html_to_text, render_answer, render_help
from index.live import LiveIndex

_SPACES = re.compile(r"\s+")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
MAX_QUESTION_CHARS = 500


class Responder:
    """Turn a question into the reply text (HTML).

    Args:
        live: the index to search.
        chat: rendering settings (passages per answer, excerpt length).
    """

    def __init__(self, live: LiveIndex, chat: ChatSettings) -> None:
        self.live = live
        self.chat = chat

    def answer(self, question: str) -> str:
        """Return the reply to a free-text question: top passages, or why there are none."""
        # Markup pasted into a question (<b>保租房</b>, &amp;) is read as its text.
        question = _SPACES.sub(" ", html_to_text(question) if "<" in question or "&" in question else question)
        question = question.strip()
        if not question:
            return EMPTY_QUESTION_TEXT
        if len(question) > MAX_QUESTION_CHARS:
            return (
                f"问题太长（{len(question)} 字）。请把问题精简到 {MAX_QUESTION_CHARS} 字以内，"
                "只写想查的事项，例如“加装电梯完成了多少台”。"
            )
        hits = self.live.search(question, k=self.chat.answer_passages)
        return render_answer(question, hits, self.chat.excerpt_chars)

    def console_reply(self, line: str) -> str | None:
        """Return the reply to one console line, as the Telegram bot would; None for a
        blank line. Commands: /start, /help, /ask 问题; anything else is a question."""
        line = line.strip()
        if not line:
            return None
        command = _COMMAND.match(line)
        if command is None:
            return self.answer(line)
        name, argument = command.group(1).lower(), command.group(2) or ""
        if name in ("start", "help"):
            return render_help()
        if name == "ask":
            return self.answer(argument)
        return UNKNOWN_COMMAND_TEXT
