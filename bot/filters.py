"""Which messages are for this bot: PTB filters composed, plus the two PTB does not
ship for a bot whose user name is only known after ``getMe``.

In a private chat everything is; in a group only a command addressed to this bot
(``/ask`` or ``/ask@this_bot``), a mention of ``@this_bot``, or a reply to one of its
messages. ``filters.Mention`` needs the user name when the filter is built, so the
mention filter reads it from the message's bot instead.
"""

from __future__ import annotations

from telegram import Message, MessageEntity
from telegram.ext import filters


class _CommandForThisBot(filters.MessageFilter):
    """A command with no ``@name`` or with this bot's name (case-insensitive)."""

    def filter(self, message: Message) -> bool:
        text = message.text or message.caption or ""
        if not text.startswith("/"):
            return False
        command = text.split(maxsplit=1)[0]
        name = command.partition("@")[2]
        return not name or name.lower() == (message.get_bot().username or "").lower()


class _MentionsThisBot(filters.MessageFilter):
    """A message mentioning ``@this_bot`` (case-insensitive, as Telegram user names are)."""

    def filter(self, message: Message) -> bool:
        username = message.get_bot().username
        if not username:
            return False
        mentions = message.parse_entities([MessageEntity.MENTION]).values()
        return f"@{username}".lower() in (m.lower() for m in mentions)


class _RepliesToThisBot(filters.MessageFilter):
    """A reply to one of this bot's messages."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None and replied.from_user.id == message.get_bot().id


ADDRESSED = filters.ChatType.PRIVATE | _CommandForThisBot() | _MentionsThisBot() | _RepliesToThisBot()
"""Messages for this bot: anything in a private chat; in groups, its commands, mentions and replies."""
