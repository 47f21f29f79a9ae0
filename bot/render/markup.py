"""Telegram HTML helpers: escaping, shortening, fitting the message limit, plain text.

Everything taken from reports or users is escaped; only the tags the renderers write
(<b>, <i>, <code>) reach Telegram.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

from telegram.constants import MessageLimit

TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH


def escape(text: str) -> str:
    """Return ``text`` safe to place in Telegram HTML."""
    return html.escape(text)


def shorten(text: str, limit: int) -> str:
    """Return ``text`` cut to ``limit`` characters with "…" when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(markup: str) -> str:
    """Drop whole trailing blocks (separated by a blank line) until the message fits
    Telegram's limit; a single block that is still too long becomes cut plain text."""
    blocks = markup.split("\n\n")
    while len(blocks) > 1 and len("\n\n".join(blocks)) > TEXT_LIMIT:
        blocks.pop()
    text = "\n\n".join(blocks)
    if len(text) <= TEXT_LIMIT:
        return text
    plain = html_to_text(text)
    cut = TEXT_LIMIT - 1
    while len(html.escape(plain[:cut])) > TEXT_LIMIT - 1:
        cut -= 100
    return html.escape(plain[:cut]) + "…"


def html_to_text(markup: str) -> str:
    """Return the plain text of our Telegram HTML (tags dropped, entities decoded)."""
    parser = _TextCollector()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
