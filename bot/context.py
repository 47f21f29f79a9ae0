"""The typed callback context: what every handler needs, as attributes, not dict keys.

Follows python-telegram-bot's ``contexttypesbot.py`` example: a ``CallbackContext``
subclass and a ``bot_data`` class registered with ``ContextTypes``.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.access import AccessPolicy, RateLimiter, RefusalMemory
from bot.config import TelegramSettings
from bot.history import QuestionHistory
from bot.replies import Responder
from index.api import CorpusAdmin, Library


@dataclass
class BotServices:
    """The objects the callbacks work with, built once by :func:`bot.telegram_app.build_application`."""

    library: Library
    admin: CorpusAdmin
    responder: Responder
    history: QuestionHistory
    policy: AccessPolicy
    limiter: RateLimiter
    refused: RefusalMemory
    throttled: RefusalMemory
    settings: TelegramSettings


class BotData:
    """``application.bot_data``: holds the services once they are set."""

    def __init__(self) -> None:
        self.services: BotServices | None = None


class BureauContext(CallbackContext[ExtBot, dict, dict, BotData]):
    """The context every callback receives, with :attr:`services`."""

    def __init__(self, application: Application, chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> BotServices:
        """The bot's services.

        Raises:
            RuntimeError: the application was built without them.
        """
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("bot services are not set: build the application with build_application()")
        return services


CONTEXT_TYPES = ContextTypes(context=BureauContext, bot_data=BotData)
