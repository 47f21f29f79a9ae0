"""What the bot answers, independent of the transport (Telegram or console)."""

from __future__ import annotations

import re

from bot.config import ChatSettings
from bot.render import (
    EMPTY_QUESTION_TEXT,
    TARGET_USAGE_TEXT,
    UNKNOWN_COMMAND_TEXT,
    html_to_text,
    render_answer,
    render_help,
    render_targets,
)
from index.ledger import pair_plan_achieved
from index.live import LiveIndex

_SPACES = re.compile(r"\s+")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
MAX_QUESTION_CHARS = 500
# Questions that ask for a number get the figures block from the target ledger.
NUMBER_QUESTION = re.compile(
    r"多少|几[个台套户件项座处条次名家部栋幢万亿]?|目标|任务|指标|完成率|增长|增速|占比|比例|比重|数量|规模|金额|投资额|率是"
)
_YEAR_WORD = re.compile(r"^((?:19|20)\d{2})年?$")
_KIND_WORDS = {"计划": "plan", "目标": "plan", "完成": "achieved", "实际": "achieved", "比率": "rate"}


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
        figures = self.live.figures(question) if NUMBER_QUESTION.search(question) else []
        return render_answer(question, hits, self.chat.excerpt_chars, figures)

    def targets(self, argument: str) -> str:
        """Return the /target reply: figures for a keyword, plans beside achievements.

        A year ("2022" or "2022年") and the words 计划/目标, 完成/实际, 比率 among the
        words filter by year and kind instead of being looked up.
        """
        argument = _SPACES.sub(" ", html_to_text(argument)).strip()
        if not argument:
            return TARGET_USAGE_TEXT
        if len(argument) > MAX_QUESTION_CHARS:
            return f"关键词太长（{len(argument)} 字），请只写要查的指标，例如“加装电梯”。"
        year, kind, words = None, None, []
        for word in argument.split(" "):
            if match := _YEAR_WORD.match(word):
                year = int(match.group(1))
            elif word in _KIND_WORDS:
                kind = _KIND_WORDS[word]
            else:
                words.append(word)
        keyword = " ".join(words)
        if not keyword:
            return TARGET_USAGE_TEXT
        records = self.live.targets(keyword, year=year, kind=kind)
        # Pairs only among targets whose indicator names the keyword, not its sentence.
        named = [r for r in self.live.targets(keyword, year=year) if r.indicator_match] if kind is None else []
        pairs = pair_plan_achieved(named)
        return render_targets(argument, records, pairs)

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
            return render_help()
        if name == "ask":
            return self.answer(argument)
        if name in ("target", "t"):
            return self.targets(argument)
        return UNKNOWN_COMMAND_TEXT
