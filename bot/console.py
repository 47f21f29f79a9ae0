"""The console chat: the Telegram bot's replies, in plain text, on stdin/stdout."""

from __future__ import annotations

from typing import TextIO

from bot.render.markup import html_to_text
from bot.replies import Responder

PROMPT = "问> "


def run_console(responder: Responder, stdin: TextIO, stdout: TextIO, interactive: bool) -> None:
    """Answer each line of ``stdin`` until EOF, one reply per question.

    Args:
        interactive: show a prompt and a greeting (stdin is a terminal); when stdin is a
            pipe, only the replies are printed, separated by blank lines.
    """
    if interactive:
        stdout.write(html_to_text(responder.console_reply("/help") or "") + "\n\n")
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        reply = responder.console_reply(line)
        if reply is not None:
            stdout.write(html_to_text(reply) + "\n\n")
            stdout.flush()
