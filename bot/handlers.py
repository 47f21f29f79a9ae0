"""Telegram callbacks. Each renders through :mod:`bot.replies`, as the console does."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.render import UNKNOWN_COMMAND_TEXT, render_help
from bot.replies import Responder

logger = logging.getLogger(__name__)

RESPONDER_KEY = "responder"
APOLOGY_TEXT = "抱歉，处理您的消息时出错了，请稍后再试。如果一直出错，请联系管理员。"


def _responder(context: ContextTypes.DEFAULT_TYPE) -> Responder:
    return context.bot_data[RESPONDER_KEY]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send what the bot can do, with example questions."""
    await update.effective_message.reply_text(render_help())


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the question written after /ask."""
    question = " ".join(context.args or [])
    reply = await asyncio.to_thread(_responder(context).answer, question)
    await update.effective_message.reply_text(reply)


async def target(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the figures matching the keyword after /target or /t."""
    keyword = " ".join(context.args or [])
    reply = await asyncio.to_thread(_responder(context).targets, keyword)
    await update.effective_message.reply_text(reply)


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a free-text question with the top cited passages."""
    reply = await asyncio.to_thread(_responder(context).answer, update.effective_message.text)
    await update.effective_message.reply_text(reply)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say that a command does not exist and point to /help."""
    await update.effective_message.reply_text(UNKNOWN_COMMAND_TEXT)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a handler failure and apologise to the user; the bot keeps running."""
    logger.error("handler failed for update %s", update, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(APOLOGY_TEXT)
        except Exception:  # the apology must never raise out of the error handler
            logger.exception("could not send the apology")
