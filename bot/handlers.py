"""Telegram callbacks. Replies are rendered by :mod:`bot.replies` and :mod:`bot.render`,
as the console's are; the index work runs in threads so no one waits for a reload."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence

from telegram import InputFile, Message, Update
from telegram.constants import FileSizeLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import BureauContext
from bot.keyboards import answer_keyboard, docs_keyboard, parse_callback
from bot.render.admin import (
    render_candidates,
    render_error_details,
    render_failure,
    render_progress,
    render_rate_limited,
    render_refusal,
    render_reload_report,
    render_removal,
    render_stats,
    render_upload_result,
)
from bot.render.markup import escape
from bot.render.texts import (
    ADMIN_HELP_TEXT,
    ADMIN_ONLY_TEXT,
    ANSWER_EXPIRED_TEXT,
    APOLOGY_TEXT,
    BUTTON_EXPIRED_TEXT,
    HELP_TEXT,
    NO_PERMISSION_TEXT,
    RELOAD_FAILED_PREFIX,
    RELOAD_STARTED_TEXT,
    REMOVE_USAGE_TEXT,
    STATS_CSV_CAPTION,
    STATS_CSV_NAME,
    THANKS_DOWN_TEXT,
    THANKS_UP_TEXT,
    UNKNOWN_COMMAND_TEXT,
    UPLOAD_ADMIN_ONLY_TEXT,
    UPLOAD_TOO_BIG_FOR_BOT_API_TEXT,
    rate_limited_button,
)
from bot.replies import clean_text
from index.api import DocumentNotFound, DocumentRejected, IndexFailure, ReloadBusyError

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 1.5
# The public Bot API lets bots download files up to FILESIZE_DOWNLOAD; a self-hosted one more.
PUBLIC_API_HOST = "api.telegram.org"


async def ignore(update: Update, context: BureauContext) -> None:
    """Stop a group message that is not for this bot: no handler sees it."""
    raise ApplicationHandlerStop


async def gate(update: Update, context: BureauContext) -> None:
    """Refuse strangers once, and limit the question rate."""
    services = context.services
    user = update.effective_user
    user_id = user.id if user else None
    chat_id = update.effective_chat.id if update.effective_chat else None
    if not services.policy.may_ask(user_id, chat_id):
        logger.info("refused user %s in chat %s", user_id, chat_id)
        if update.callback_query is not None:
            await update.callback_query.answer(NO_PERMISSION_TEXT)
        elif user_id is not None and services.refused.should_tell(user_id):
            await update.effective_message.reply_text(render_refusal(user_id))
        raise ApplicationHandlerStop
    if user_id is not None and not services.policy.is_admin(user_id) and not services.limiter.allow(user_id):
        wait = services.limiter.retry_after(user_id)
        text = render_rate_limited(services.limiter.limit, wait)
        if update.callback_query is not None:
            await update.callback_query.answer(rate_limited_button(wait))
        elif services.throttled.should_tell(user_id):
            await update.effective_message.reply_text(text)
        raise ApplicationHandlerStop


async def start(update: Update, context: BureauContext) -> None:
    """Send what the bot can do, with example questions (and admin commands to admins)."""
    admin = context.services.policy.is_admin(update.effective_user.id if update.effective_user else None)
    await update.effective_message.reply_text(HELP_TEXT + (ADMIN_HELP_TEXT if admin else ""))


async def ask(update: Update, context: BureauContext) -> None:
    """Answer the question written after /ask."""
    await _answer(update, context, " ".join(context.args or []))


async def question(update: Update, context: BureauContext) -> None:
    """Answer a free-text question with figures and the top cited passages."""
    text = update.effective_message.text or ""
    if context.bot.username:
        text = text.replace(f"@{context.bot.username}", " ")
    await _answer(update, context, text)


async def _answer(update: Update, context: BureauContext, text: str) -> None:
    services = context.services
    page = await asyncio.to_thread(services.responder.answer_page, text)
    if not page.accepted:
        await update.effective_message.reply_text(page.text)
        return
    entry = await asyncio.to_thread(
        services.history.record_question,
        update.effective_user.id,
        update.effective_chat.id,
        clean_text(text),
        list(page.result_ids),
    )
    markup = answer_keyboard(entry.token, page.page, page.pages, page.passage_ids, page.first_rank)
    await update.effective_message.reply_text(page.text, reply_markup=markup)


async def target(update: Update, context: BureauContext) -> None:
    """Send the figures matching the keyword after /target or /t."""
    services = context.services
    keyword = " ".join(context.args or [])
    reply = await asyncio.to_thread(services.responder.targets, keyword)
    if reply.accepted:
        await asyncio.to_thread(
            services.history.record_question,
            update.effective_user.id,
            update.effective_chat.id,
            clean_text(keyword),
            [],
            "target",
            reply.found,
        )
    await update.effective_message.reply_text(reply.text)


async def button(update: Update, context: BureauContext) -> None:
    """Handle an inline button: another page, a passage's context, feedback, /docs pages.

    A button acts only in the chat its answer was sent to (a user's private chat, or
    the group where anyone may page the group's answer); anything else, including
    data a client made up, is answered as an expired button.
    """
    query = update.callback_query
    services = context.services
    press = parse_callback(query.data)
    if press is None:
        await query.answer(BUTTON_EXPIRED_TEXT)
        return
    if press.action == "docs":
        if not services.policy.is_admin(query.from_user.id):
            await query.answer(ADMIN_ONLY_TEXT)
            return
        text, pages = await asyncio.to_thread(services.responder.docs_page, press.value)
        await query.answer()
        await _edit(query.message, text, docs_keyboard(min(press.value, pages - 1), pages))
        return
    entry = await asyncio.to_thread(services.history.question, press.token)
    chat = query.message.chat.id if query.message is not None else None
    if entry is None or entry.chat_id != chat:
        await query.answer(BUTTON_EXPIRED_TEXT)
        return
    if press.action == "feedback":
        voter = query.from_user.id
        recorded = await asyncio.to_thread(services.history.record_feedback, entry.id, voter, press.value)
        thanks = THANKS_UP_TEXT if press.value > 0 else THANKS_DOWN_TEXT
        await query.answer(thanks if recorded else ANSWER_EXPIRED_TEXT)
    elif press.action == "context":
        if press.value not in json.loads(entry.results):
            await query.answer(BUTTON_EXPIRED_TEXT)
            return
        await query.answer()
        text = await asyncio.to_thread(services.responder.context, press.value)
        await query.message.reply_text(text)
    else:
        page = await asyncio.to_thread(services.responder.answer_page, entry.question, press.value)
        await query.answer()
        markup = answer_keyboard(entry.token, page.page, page.pages, page.passage_ids, page.first_rank)
        await _edit(query.message, page.text, markup)


async def reload(update: Update, context: BureauContext) -> None:
    """Re-ingest the corpus folder, showing progress in one message (admins)."""
    services = context.services
    status = await update.effective_message.reply_text(RELOAD_STARTED_TEXT)
    progress = ProgressMessage(status, asyncio.get_running_loop())
    try:
        report = await asyncio.to_thread(services.library.reload, progress)
    except IndexFailure as error:
        prefix = "" if isinstance(error, ReloadBusyError) else RELOAD_FAILED_PREFIX
        await progress.finish(f"{prefix}{escape(str(error))}")
        return
    await progress.finish(render_reload_report(report))


async def upload(update: Update, context: BureauContext) -> None:
    """Validate, save and ingest a report file sent by an admin."""
    services = context.services
    document = update.effective_message.document
    name = document.file_name or "未命名文件"
    try:
        services.admin.check_upload(name, document.file_size)
    except DocumentRejected as error:
        await update.effective_message.reply_text(f"未添加 {escape(name)}：{escape(str(error))}")
        return
    too_big_for_api = (document.file_size or 0) > FileSizeLimit.FILESIZE_DOWNLOAD
    if too_big_for_api and PUBLIC_API_HOST in services.settings.base_file_url:
        await update.effective_message.reply_text(f"未添加 {escape(name)}：{UPLOAD_TOO_BIG_FOR_BOT_API_TEXT}")
        return
    status = await update.effective_message.reply_text(f"已收到 {escape(name)}，正在检查和入库……")
    progress = ProgressMessage(status, asyncio.get_running_loop())
    try:
        telegram_file = await document.get_file()
        content = bytes(await telegram_file.download_as_bytearray())
        change = await asyncio.to_thread(services.admin.add, name, content, progress)
    except DocumentRejected as error:
        await progress.finish(f"未添加 {escape(name)}：{escape(str(error))}。已有报告不受影响。")
        return
    except IndexFailure as error:
        await progress.finish(f"未添加 {escape(name)}：{escape(str(error))}。语料目录已恢复原样。")
        return
    except Exception as error:
        # Whatever failed, the admin's status message must not stay at "正在检查…".
        await progress.finish(f"未添加 {escape(name)}：{escape(render_failure(error))}。语料目录已恢复原样。")
        raise AnsweredFailure from error
    await progress.finish(render_upload_result(change))


async def docs(update: Update, context: BureauContext) -> None:
    """List the indexed documents, a page at a time (admins)."""
    text, pages = await asyncio.to_thread(context.services.responder.docs_page, 0)
    await update.effective_message.reply_text(text, reply_markup=docs_keyboard(0, pages))


async def remove(update: Update, context: BureauContext) -> None:
    """Move a report out of the corpus and reindex (admins)."""
    name = " ".join(context.args or []).strip()
    if not name:
        await update.effective_message.reply_text(REMOVE_USAGE_TEXT)
        return
    services = context.services
    try:
        change = await asyncio.to_thread(services.admin.remove, name)
    except DocumentNotFound as error:
        await update.effective_message.reply_text(render_candidates(str(error), error.candidates))
        return
    except IndexFailure as error:
        await update.effective_message.reply_text(f"未移除：{escape(str(error))}")
        return
    await update.effective_message.reply_text(render_removal(change))


async def stats(update: Update, context: BureauContext) -> None:
    """Send usage statistics, and the last week's questions as a CSV file (admins)."""
    history = context.services.history
    usage = await asyncio.to_thread(history.stats)
    await update.effective_message.reply_text(render_stats(usage))
    if usage.week:
        table = await asyncio.to_thread(history.week_csv)
        await update.effective_message.reply_document(
            InputFile(table, filename=STATS_CSV_NAME), caption=STATS_CSV_CAPTION
        )


async def admin_only(update: Update, context: BureauContext) -> None:
    """Tell a non-admin that the command is for admins."""
    await update.effective_message.reply_text(ADMIN_ONLY_TEXT)


async def upload_refused(update: Update, context: BureauContext) -> None:
    """Tell a non-admin that only admins add reports."""
    await update.effective_message.reply_text(UPLOAD_ADMIN_ONLY_TEXT)


async def unknown_command(update: Update, context: BureauContext) -> None:
    """Say that a command does not exist and point to /help."""
    await update.effective_message.reply_text(UNKNOWN_COMMAND_TEXT)


class AnsweredFailure(Exception):
    """A handler failed after telling the user so itself; ``__cause__`` is the failure.

    The error handler then reports it to the admins without a second apology.
    """


async def on_error(update: object, context: BureauContext) -> None:
    """Log a handler failure, apologise to the user, tell admins; the bot keeps running."""
    error = context.error
    answered = isinstance(error, AnsweredFailure)
    if answered and isinstance(error.__cause__, Exception):
        error = error.__cause__
    logger.error("handler failed for update %s", update, exc_info=error)
    if not answered and isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(APOLOGY_TEXT)
        except TelegramError:  # the apology must never raise out of the error handler
            logger.exception("could not send the apology")
    services = context.bot_data.services
    if services is None or not services.settings.notify_admins_on_error or error is None:
        return
    summary = _summary(update)
    for admin in sorted(services.settings.admins):
        try:
            await context.bot.send_message(admin, render_error_details(summary, error))
        except TelegramError:
            logger.exception("could not notify admin %s", admin)


def _summary(update: object) -> str:
    if isinstance(update, Update):
        user = update.effective_user.id if update.effective_user else "?"
        text = update.effective_message.text if update.effective_message else None
        data = update.callback_query.data if update.callback_query else None
        return f"用户 {user}：{text or data or '（非文字消息）'}"
    return str(update)


async def _edit(message: Message | None, text: str, markup=None) -> None:
    if message is None:
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


class ProgressMessage:
    """Show a reload's progress by editing one message, from the worker thread.

    Called as ``progress(done, total, doc_id)`` by :func:`index.ingest.sync_corpus`;
    edits at most every ``PROGRESS_INTERVAL_SECONDS``. :meth:`finish` waits for
    pending edits, then writes the final text, so a late progress edit can never
    overwrite the result.
    """

    def __init__(self, message: Message, loop: asyncio.AbstractEventLoop) -> None:
        self.message = message
        self.loop = loop
        self.pending: list = []
        self._last = 0.0

    def __call__(self, done: int, total: int, doc_id: str) -> None:
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_SECONDS:
            return
        self._last = now
        future = asyncio.run_coroutine_threadsafe(_edit(self.message, render_progress(done, total, doc_id)), self.loop)
        self.pending.append(future)

    async def finish(self, text: str, markup=None) -> None:
        """Wait for pending progress edits, then show ``text``."""
        waiting: Sequence = [asyncio.wrap_future(f) for f in self.pending]
        await asyncio.gather(*waiting, return_exceptions=True)
        await _edit(self.message, text, markup)
