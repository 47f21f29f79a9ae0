"""Check that a text is HTML Telegram accepts: known tags, properly nested, escaped."""

from __future__ import annotations

from html.parser import HTMLParser

TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        assert tag in TELEGRAM_TAGS, f"tag <{tag}> is not allowed by Telegram"
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> does not close {self.stack}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def assert_telegram_html(markup: str, limit: int = 4096) -> str:
    """Assert ``markup`` is valid Telegram HTML within ``limit``; return its plain text."""
    assert markup.strip(), "empty message"
    checker = _Checker()
    checker.feed(markup)
    checker.close()
    assert not checker.stack, f"unclosed tags {checker.stack}"
    text = "".join(checker.text)
    # A bare '<' or '&' would be rejected by Telegram's parser.
    stripped = markup
    for tag in TELEGRAM_TAGS:
        stripped = stripped.replace(f"<{tag}>", "").replace(f"</{tag}>", "")
    assert "<" not in stripped and ">" not in stripped, "unescaped angle bracket"
    assert len(text) <= limit, f"message of {len(text)} characters"
    return text
