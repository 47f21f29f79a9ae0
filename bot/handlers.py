"""Telegram callbacks. Replies are rendered by :mod:`bot.replies` and :mod:`bot.render`,
as the console's are; the index work runs in threads so no one waits for a reload."""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InputFile, Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.access import AccessPolicy, RateLimiter, RefusalMemory
from bot.config import TelegramSettings
from bot.history import QuestionHistory
from bot.keyboards import answer_keyboard, docs_keyboard, parse_callback
from bot.render import (
    ADMIN_ONLY_TEXT,
    UNKNOWN_COMMAND_TEXT,
    UPLOAD_ADMIN_ONLY_TEXT,
    render_error_details,
    render_help,
    render_progress,
    render_rate_limited,
    render_refusal,
    render_reload_report,
    render_removal,
    render_stats,
    render_upload_result,
)
from bot.replies import Responder, clean_text
from index.ingest.corpus_files import safe_file_name
from index.ingest.readers import DocumentReadError
from index.ingest.sync import ReloadError
from index.library import DocumentNotFound, DocumentRejected, ReloadBusyError

logger = logging.getLogger(__name__)

SERVICES_KEY = "services"
APOLOGY_TEXT = "抱歉，处理您的消息时出错了，请稍后再试。如果一直出错，请联系管理员。"
PROGRESS_INTERVAL_SECONDS = 1.5


@dataclass
class BotServices:
    """What the callbacks need, kept in ``application.bot_data``."""

    responder: Responder
    history: QuestionHistory
    policy: AccessPolicy
    limiter: RateLimiter
    refused: RefusalMemory
    throttled: RefusalMemory
    settings: TelegramSettings


def _services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    return context.bot_data[SERVICES_KEY]


def addressed_to_bot(update: Update, bot_id: int, bot_username: str | None) -> bool:
    """Whether the bot should react: private chats, buttons, and in groups only
    commands, mentions of the bot, and replies to the bot's messages."""
    if update.callback_query is not None:
        return True
    message = update.effective_message
    if message is None or update.effective_chat is None:
        return False
    if update.effective_chat.type == ChatType.PRIVATE:
        return True
    text = message.text or message.caption or ""
    if text.startswith("/"):
        command = text.split()[0]
        return "@" not in command or command.split("@", 1)[1].lower() == (bot_username or "").lower()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    mentions = message.parse_entities([MessageEntityType.MENTION]).values()
    return bot_username is not None and f"@{bot_username}".lower() in (m.lower() for m in mentions)


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop what is not for the bot, refuse strangers once, and limit the question rate."""
    if not addressed_to_bot(update, context.bot.id, context.bot.username):
        raise ApplicationHandlerStop
    services = _services(context)
    user = update.effective_user
    user_id = user.id if user else None
    chat_id = update.effective_chat.id if update.effective_chat else None
    if not services.policy.may_ask(user_id, chat_id):
        logger.info("refused user %s in chat %s", user_id, chat_id)
        if update.callback_query is not None:
            await update.callback_query.answer("您没有使用本机器人的权限。")
        elif user_id is not None and services.refused.should_tell(user_id):
            await update.effective_message.reply_text(render_refusal(user_id))
        raise ApplicationHandlerStop
    if user_id is not None and not services.policy.is_admin(user_id) and not services.limiter.allow(user_id):
        wait = services.limiter.retry_after(user_id)
        text = render_rate_limited(services.limiter.limit, wait)
        if update.callback_query is not None:
            await update.callback_query.answer(f"操作太频繁，请 {wait} 秒后再试。")
        elif services.throttled.should_tell(user_id):
            await update.effective_message.reply_text(text)
        raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send what the bot can do, with example questions (and admin commands to admins)."""
    admin = _services(context).policy.is_admin(update.effective_user.id if update.effective_user else None)
    await update.effective_message.reply_text(render_help(admin))


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the question written after /ask."""
    await _answer(update, context, " ".join(context.args or []))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a free-text question with figures and the top cited passages."""
    text = update.effective_message.text or ""
    if context.bot.username:
        text = text.replace(f"@{context.bot.username}", " ")
    await _answer(update, context, text)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    services = _services(context)
    page = await asyncio.to_thread(services.responder.answer_page, text)
    if not page.accepted:
        await update.effective_message.reply_text(page.text)
        return
    question_id = await asyncio.to_thread(
        services.history.record_question,
        update.effective_user.id,
        update.effective_chat.id,
        clean_text(text),
        list(page.result_ids),
    )
    markup = answer_keyboard(question_id, page.page, page.pages, page.passage_ids, page.first_rank)
    await update.effective_message.reply_text(page.text, reply_markup=markup)


async def target(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the figures matching the keyword after /target or /t."""
    services = _services(context)
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


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle an inline button: another page, a passage's context, feedback, /docs pages."""
    query = update.callback_query
    services = _services(context)
    press = parse_callback(query.data)
    if press is None:
        await query.answer("这个按钮已失效，请重新提问。")
        return
    if press.action == "docs":
        if not services.policy.is_admin(query.from_user.id):
            await query.answer(ADMIN_ONLY_TEXT)
            return
        text, pages = await asyncio.to_thread(services.responder.docs_page, press.first)
        await query.answer()
        await _edit(query.message, text, docs_keyboard(min(press.first, pages - 1), pages))
        return
    entry = await asyncio.to_thread(services.history.question, press.first)
    if entry is None:
        await query.answer("这条问答记录已过期，请重新提问。")
        return
    if press.action == "feedback":
        await asyncio.to_thread(services.history.record_feedback, entry.id, query.from_user.id, press.second)
        await query.answer("感谢反馈！" if press.second > 0 else "感谢反馈，我们会改进。")
    elif press.action == "context":
        await query.answer()
        text = await asyncio.to_thread(services.responder.context, press.second)
        await query.message.reply_text(text)
    else:
        page = await asyncio.to_thread(services.responder.answer_page, entry.question, press.second)
        await query.answer()
        markup = answer_keyboard(entry.id, page.page, page.pages, page.passage_ids, page.first_rank)
        await _edit(query.message, page.text, markup)


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Re-ingest the corpus folder, showing progress in one message (admins)."""
    services = _services(context)
    status = await update.effective_message.reply_text("正在重新加载报告……")
    progress = ProgressMessage(status, asyncio.get_running_loop())
    try:
        report = await asyncio.to_thread(services.responder.live.reload, progress)
    except ReloadError as error:
        prefix = "" if isinstance(error, ReloadBusyError) else "重新加载失败，仍在使用原来的索引："
        await progress.finish(f"{prefix}{html.escape(str(error))}")
        return
    await progress.finish(render_reload_report(report))


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Validate, save and ingest a report file sent by an admin."""
    services = _services(context)
    document = update.effective_message.document
    name = document.file_name or "未命名文件"
    limit = services.settings.max_upload_mb * 1_048_576
    try:
        safe_file_name(name)
    except DocumentReadError as error:
        await update.effective_message.reply_text(f"未添加 {html.escape(name)}：{html.escape(str(error))}")
        return
    if document.file_size and document.file_size > limit:
        await update.effective_message.reply_text(
            f"未添加 {html.escape(name)}：文件过大（{document.file_size / 1_048_576:.1f} MB，"
            f"上限 {services.settings.max_upload_mb:.0f} MB）"
        )
        return
    status = await update.effective_message.reply_text(f"已收到 {html.escape(name)}，正在检查和入库……")
    progress = ProgressMessage(status, asyncio.get_running_loop())
    try:
        telegram_file = await document.get_file()
        content = bytes(await telegram_file.download_as_bytearray())
        change = await asyncio.to_thread(services.responder.live.add_document, name, content, progress)
    except DocumentRejected as error:
        await progress.finish(f"未添加 {html.escape(name)}：{html.escape(str(error))}。已有报告不受影响。")
        return
    except ReloadError as error:
        await progress.finish(f"未添加 {html.escape(name)}：{html.escape(str(error))}。语料目录已恢复原样。")
        return
    await progress.finish(render_upload_result(change))


async def docs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the indexed documents, a page at a time (admins)."""
    text, pages = await asyncio.to_thread(_services(context).responder.docs_page, 0)
    await update.effective_message.reply_text(text, reply_markup=docs_keyboard(0, pages))


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Move a report out of the corpus and reindex (admins)."""
    name = " ".join(context.args or []).strip()
    if not name:
        await update.effective_message.reply_text(
            "请写上要移除的文件名，例如：/remove 2022年工作总结.docx（用 /docs 查看文件名）"
        )
        return
    services = _services(context)
    try:
        change = await asyncio.to_thread(services.responder.live.remove_document, name)
    except DocumentNotFound as error:
        listed = "\n".join(f"• <code>{html.escape(c)}</code>" for c in error.candidates[:10])
        await update.effective_message.reply_text(html.escape(str(error)) + ("\n" + listed if listed else ""))
        return
    except ReloadError as error:
        await update.effective_message.reply_text(f"未移除：{html.escape(str(error))}")
        return
    await update.effective_message.reply_text(render_removal(change))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send usage statistics, and the last week's questions as a CSV file (admins)."""
    history = _services(context).history
    usage = await asyncio.to_thread(history.stats)
    await update.effective_message.reply_text(render_stats(usage))
    if usage.week:
        table = await asyncio.to_thread(history.week_csv)
        await update.effective_message.reply_document(
            InputFile(table, filename="近7天提问记录.csv"), caption="近 7 天的提问记录（可用 Excel 打开）"
        )


async def admin_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell a non-admin that the command is for admins."""
    await update.effective_message.reply_text(ADMIN_ONLY_TEXT)


async def upload_refused(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell a non-admin that only admins add reports."""
    await update.effective_message.reply_text(UPLOAD_ADMIN_ONLY_TEXT)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say that a command does not exist and point to /help."""
    await update.effective_message.reply_text(UNKNOWN_COMMAND_TEXT)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a handler failure, apologise to the user, tell admins; the bot keeps running."""
    logger.error("handler failed for update %s", update, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(APOLOGY_TEXT)
        except TelegramError:  # the apology must never raise out of the error handler
            logger.exception("could not send the apology")
    services: BotServices | None = context.bot_data.get(SERVICES_KEY)
    if services is None or not services.settings.notify_admins_on_error or context.error is None:
        return
    summary = _summary(update)
    for admin in sorted(services.settings.admins):
        try:
            await context.bot.send_message(admin, render_error_details(summary, context.error))
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
