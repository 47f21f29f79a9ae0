"""Wire the Telegram application: handlers in menu order, one error handler."""

from __future__ import annotations

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, Defaults, MessageHandler, filters
from telegram.request import BaseRequest

from bot import handlers
from bot.config import BotConfig
from bot.replies import Responder


def build_application(
    config: BotConfig,
    responder: Responder,
    token: str,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> Application:
    """Return the bot application, not yet initialised.

    Args:
        config: settings (Bot API base URLs).
        responder: answers questions from the live index.
        token: the bot token from BotFather.
        request, get_updates_request: transport overrides (tests pass recording ones).
    """
    builder = (
        Application.builder()
        .token(token)
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    application = builder.build()
    application.bot_data[handlers.RESPONDER_KEY] = responder
    application.add_handler(CommandHandler(["start", "help"], handlers.start))
    application.add_handler(CommandHandler("ask", handlers.ask))
    application.add_handler(CommandHandler(["target", "t"], handlers.target))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.question))
    application.add_handler(MessageHandler(filters.COMMAND, handlers.unknown_command))
    application.add_error_handler(handlers.on_error)
    return application
