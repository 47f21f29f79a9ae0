"""Inline keyboards and their callback data (at most 64 bytes, Telegram's limit).

Callback data are short ASCII codes: ``p:<question>:<page>`` (a page of results),
``c:<question>:<passage>`` (a passage with its neighbours), ``f:<question>:<+1|-1>``
(feedback), ``d:<page>`` (a page of /docs).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit

CALLBACK_DATA_LIMIT = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
_CALLBACK = re.compile(r"^(?P<action>[pcfd]):(?P<first>-?\d{1,12})(?::(?P<second>[-+]?\d{1,12}))?$")


@dataclass(frozen=True)
class ButtonPress:
    """A decoded button: ``action`` is page, context, feedback or docs."""

    action: str
    first: int
    second: int | None = None


def parse_callback(data: str | None) -> ButtonPress | None:
    """Decode callback data made here; None for anything else (stale or forged)."""
    match = _CALLBACK.match(data or "")
    if match is None:
        return None
    names = {"p": "page", "c": "context", "f": "feedback", "d": "docs"}
    second = match.group("second")
    if match.group("action") in "pcf" and second is None:
        return None
    return ButtonPress(names[match.group("action")], int(match.group("first")), int(second) if second else None)


def answer_keyboard(
    question_id: int, page: int, pages: int, passage_ids: Sequence[int], first_rank: int
) -> InlineKeyboardMarkup:
    """Buttons under an answer: context of each shown passage, paging, feedback."""
    context_row = [
        InlineKeyboardButton(
            "上下文" if len(passage_ids) == 1 else f"上下文{first_rank + n}",
            callback_data=_data(f"c:{question_id}:{pid}"),
        )
        for n, pid in enumerate(passage_ids)
    ]
    paging = []
    if page > 0:
        paging.append(InlineKeyboardButton("⬅️ 上一页", callback_data=_data(f"p:{question_id}:{page - 1}")))
    if page + 1 < pages:
        paging.append(InlineKeyboardButton("更多结果 ➡️", callback_data=_data(f"p:{question_id}:{page + 1}")))
    feedback = [
        InlineKeyboardButton("👍", callback_data=_data(f"f:{question_id}:1")),
        InlineKeyboardButton("👎", callback_data=_data(f"f:{question_id}:-1")),
    ]
    return InlineKeyboardMarkup([row for row in (context_row, paging, feedback) if row])


def docs_keyboard(page: int, pages: int) -> InlineKeyboardMarkup | None:
    """Paging buttons under /docs, or None when everything fits one page."""
    row = []
    if page > 0:
        row.append(InlineKeyboardButton("⬅️ 上一页", callback_data=_data(f"d:{page - 1}")))
    if page + 1 < pages:
        row.append(InlineKeyboardButton("下一页 ➡️", callback_data=_data(f"d:{page + 1}")))
    return InlineKeyboardMarkup([row]) if row else None


def _data(text: str) -> str:
    if len(text.encode()) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {text!r}")
    return text
