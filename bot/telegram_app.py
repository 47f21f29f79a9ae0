"""Wire the Telegram application: filters, a gate, handlers in menu order, one error handler."""

from __future__ import annotations

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import handlers
from bot.access import AccessPolicy, RateLimiter, RefusalMemory
from bot.config import BotConfig
from bot.context import CONTEXT_TYPES, BotServices
from bot.filters import ADDRESSED
from bot.history import QuestionHistory
from bot.replies import Responder
from index.api import CorpusAdmin, Library

ADMIN_COMMANDS = ["reload", "docs", "remove", "stats"]
MENU = [
    BotCommand("help", "使用说明和示例问题"),
    BotCommand("ask", "提问（群聊中使用）"),
    BotCommand("target", "查数字和目标，如 /target 加装电梯"),
]
THROTTLE_NOTICE_SECONDS = 60


def build_application(
    config: BotConfig,
    library: Library,
    token: str,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> Application:
    """Return the bot application, not yet initialised.

    Args:
        config: all settings (Bot API URLs, allow-lists, limits, history).
        library: the opened index.
        token: the bot token from BotFather.
        request, get_updates_request: transport overrides (tests pass recording ones).
    """
    telegram = config.telegram
    builder = (
        Application.builder()
        .token(token)
        .base_url(telegram.base_url)
        .base_file_url(telegram.base_file_url)
        .context_types(CONTEXT_TYPES)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(True)  # a reload or upload must not hold up others' questions
        .post_init(_post_init)
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    application = builder.build()
    application.bot_data.services = BotServices(
        library=library,
        admin=CorpusAdmin(library),
        responder=Responder(library, config.chat, telegram.max_question_chars),
        history=QuestionHistory(config.history),
        policy=AccessPolicy(telegram),
        limiter=RateLimiter(telegram.rate_limit_per_minute),
        refused=RefusalMemory(),
        throttled=RefusalMemory(repeat_after=THROTTLE_NOTICE_SECONDS),
        settings=telegram,
    )
    admins = filters.User(user_id=telegram.admins)  # with no admins configured it matches no one
    questions = filters.TEXT & ~filters.COMMAND

    application.add_handler(MessageHandler(~ADDRESSED, handlers.ignore), group=-2)
    application.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    application.add_handler(CommandHandler(["start", "help"], handlers.start))
    application.add_handler(CommandHandler("ask", handlers.ask))
    application.add_handler(CommandHandler(["target", "t"], handlers.target))
    application.add_handler(MessageHandler(questions, handlers.question))
    application.add_handler(CallbackQueryHandler(handlers.button))
    application.add_handler(CommandHandler("reload", handlers.reload, filters=admins))
    application.add_handler(CommandHandler("docs", handlers.docs, filters=admins))
    application.add_handler(CommandHandler("remove", handlers.remove, filters=admins))
    application.add_handler(CommandHandler("stats", handlers.stats, filters=admins))
    application.add_handler(CommandHandler(ADMIN_COMMANDS, handlers.admin_only))
    application.add_handler(MessageHandler(filters.Document.ALL & admins, handlers.upload))
    application.add_handler(MessageHandler(filters.Document.ALL, handlers.upload_refused))
    application.add_handler(MessageHandler(filters.COMMAND, handlers.unknown_command))
    application.add_error_handler(handlers.on_error)
    return application


async def _post_init(application: Application) -> None:
    """Publish the command menu and apply the history retention at startup."""
    await application.bot.set_my_commands(MENU)
    application.bot_data.services.history.purge()
