"""Inline keyboards and their callback data (at most 64 bytes, Telegram's limit).

Callback data are short ASCII codes: ``p:<token>:<page>`` (a page of results),
``c:<token>:<passage>`` (a passage with its neighbours), ``f:<token>:<1|-1>``
(feedback), ``d:<page>`` (a page of /docs). ``<token>`` is the answer's random handle
in the question log, never a sequential id. Clients can send any callback data, so
anything that is not exactly one of these shapes decodes to None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit

CALLBACK_DATA_LIMIT = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
_TOKEN = r"[A-Za-z0-9_-]{12}"
_CALLBACKS = {
    "page": re.compile(rf"^p:(?P<token>{_TOKEN}):(?P<value>\d{{1,3}})$"),
    "context": re.compile(rf"^c:(?P<token>{_TOKEN}):(?P<value>[1-9]\d{{0,17}})$"),
    "feedback": re.compile(rf"^f:(?P<token>{_TOKEN}):(?P<value>1|-1)$"),
    "docs": re.compile(r"^d:(?P<value>\d{1,3})$"),
}


@dataclass(frozen=True)
class ButtonPress:
    """A decoded button.

    Attributes:
        action: page, context, feedback or docs.
        token: the answer's handle in the question log ("" for docs).
        value: the page (0-based), the passage id, or the vote (+1/-1).
    """

    action: str
    token: str
    value: int


def parse_callback(data: str | None) -> ButtonPress | None:
    """Decode callback data made here; None for anything else (stale, forged, malformed)."""
    for action, pattern in _CALLBACKS.items():
        match = pattern.match(data or "")
        if match:
            token = match.group("token") if action != "docs" else ""
            return ButtonPress(action, token, int(match.group("value")))
    return None


def answer_keyboard(
    token: str, page: int, pages: int, passage_ids: Sequence[int], first_rank: int
) -> InlineKeyboardMarkup:
    """Buttons under an answer: context of each shown passage, paging, feedback."""
    context_row = [
        InlineKeyboardButton(
            "上下文" if len(passage_ids) == 1 else f"上下文{first_rank + n}",
            callback_data=_data(f"c:{token}:{pid}"),
        )
        for n, pid in enumerate(passage_ids)
    ]
    paging = []
    if page > 0:
        paging.append(InlineKeyboardButton("⬅️ 上一页", callback_data=_data(f"p:{token}:{page - 1}")))
    if page + 1 < pages:
        paging.append(InlineKeyboardButton("更多结果 ➡️", callback_data=_data(f"p:{token}:{page + 1}")))
    feedback = [
        InlineKeyboardButton("👍", callback_data=_data(f"f:{token}:1")),
        InlineKeyboardButton("👎", callback_data=_data(f"f:{token}:-1")),
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
