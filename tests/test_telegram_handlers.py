"""Telegram handlers through python-telegram-bot's real Application, offline."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3

import pytest
import pytest_asyncio

from bot.config import BotConfig, HistorySettings, TelegramSettings
from bot.keyboards import CALLBACK_DATA_LIMIT
from bot.render.texts import APOLOGY_TEXT, BUTTON_EXPIRED_TEXT
from bot.telegram_app import build_application
from index.api import Library
from tests.conftest import docx_bytes, open_library, write_corpus
from tests.telegram_fakes import RecordingRequest, callback_update, document_update, message_update
from tests.telegram_html import assert_telegram_html

ADMIN, STAFF, STRANGER, GROUP_MEMBER = 900, 1001, 2002, 3003
GROUP = -100500
SETTINGS = TelegramSettings(
    admins=frozenset({ADMIN}),
    allowed_users=frozenset({STAFF}),
    allowed_chats=frozenset({GROUP}),
    rate_limit_per_minute=5,
)


async def _start(live: Library, history_dir, settings: TelegramSettings = SETTINGS):
    request = RecordingRequest()
    history = HistorySettings(url=f"sqlite:///{history_dir / 'history.db'}")
    config = BotConfig(index=live.settings, telegram=settings, history=history)
    application = build_application(config, live, "123:TEST", request=request, get_updates_request=RecordingRequest())
    await application.initialize()
    return application, request


@pytest_asyncio.fixture
async def telegram(seed_index, tmp_path):
    application, request = await _start(seed_index, tmp_path)
    yield application, request
    await application.shutdown()


@pytest_asyncio.fixture
async def admin_telegram(tmp_path, seed_corpus):
    """A bot over a writable corpus, for admin operations that change it."""
    live = open_library(tmp_path, seed_corpus)
    application, request = await _start(live, tmp_path)
    yield application, request, live
    await application.shutdown()


def check_sent(request: RecordingRequest, since: int = 0) -> list[dict]:
    """Every text sent or edited since call ``since`` is valid Telegram HTML with
    callback data within the limit; return those calls."""
    calls = [p for name, p in request.calls[since:] if name in ("sendMessage", "editMessageText")]
    for parameters in calls:
        assert parameters["parse_mode"] == "HTML"
        assert_telegram_html(parameters["text"])
        for row in (parameters.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                assert len(button["callback_data"].encode()) <= CALLBACK_DATA_LIMIT
    return calls


async def send(telegram, update) -> list[dict]:
    application, request = telegram[0], telegram[1]
    before = len(request.calls)
    await application.process_update(update)
    return check_sent(request, before)


async def say(telegram, text: str, user_id: int = STAFF, **kwargs) -> list[dict]:
    return await send(telegram, message_update(telegram[0].bot, text, user_id, **kwargs))


async def one(telegram, text: str, user_id: int = STAFF, **kwargs) -> dict:
    replies = await say(telegram, text, user_id, **kwargs)
    assert len(replies) == 1, replies
    return replies[0]


# Staff questions


@pytest.mark.asyncio
async def test_help_for_staff_and_for_admins(telegram):
    staff = (await one(telegram, "/help"))["text"]
    assert "加装电梯累计完成了多少台" in staff and "/ask" in staff and "/reload" not in staff
    admin = (await one(telegram, "/start", ADMIN))["text"]
    assert "/reload" in admin and "/remove" in admin and "/stats" in admin


@pytest.mark.asyncio
async def test_question_gets_figures_cited_passages_and_buttons(telegram):
    reply = await one(telegram, "加装电梯累计完成了多少台？")
    plain = assert_telegram_html(reply["text"])
    figures, passages = plain.split("\n\n", 1)
    assert figures.startswith("📊 相关数字\n• 既有住宅加装电梯 · *台（原文数字已脱敏） · 完成 · 2022年")
    assert passages.startswith("1. 《区住建局2022年工作总结和2023年工作思路的汇报》 · 2022年")
    assert "<b>加装电梯</b>" in reply["text"]
    labels = [b["text"] for row in reply["reply_markup"]["inline_keyboard"] for b in row]
    assert "上下文" in labels[0] and "👍" in labels and "👎" in labels


@pytest.mark.asyncio
async def test_the_answer_says_how_it_read_the_question(telegram):
    reply = await one(telegram, "加状电梯今年完成了多少台")
    lines = assert_telegram_html(reply["text"]).split("\n")
    assert lines[0] == "“加状电梯”按“加装电梯”查找"
    assert lines[1].startswith("“今年”按 2023 年理解")  # the newest seed report is about 2023
    assert "<i>“加状电梯”按“加装电梯”查找" in reply["text"]


@pytest.mark.asyncio
async def test_broad_question_pages_through_results(telegram):
    first = await one(telegram, "老旧小区改造")
    plain = assert_telegram_html(first["text"])
    assert "3. 《" in plain and "4. 《" not in plain and "第 1/" in plain
    buttons = {b["text"]: b["callback_data"] for row in first["reply_markup"]["inline_keyboard"] for b in row}
    replies = await send(telegram, callback_update(telegram[0].bot, buttons["更多结果 ➡️"], first["text"]))
    (edited,) = replies
    page_two = assert_telegram_html(edited["text"])
    assert "4. 《" in page_two and "第 2/" in page_two and "1. 《" not in page_two
    answered = telegram[1].sent("answerCallbackQuery")
    assert answered


@pytest.mark.asyncio
async def test_context_button_shows_the_neighbours(telegram):
    first = await one(telegram, "做好棚改工作收尾攻坚")
    context_data = first["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    (context_reply,) = await send(telegram, callback_update(telegram[0].bot, context_data))
    plain = assert_telegram_html(context_reply["text"])
    assert plain.startswith("上下文")
    assert "做好棚改工作收尾攻坚" in plain and "推动老旧小区改造进入新阶段" in plain  # the passage before


@pytest.mark.asyncio
async def test_feedback_is_stored(telegram):
    first = await one(telegram, "旱厕改造")
    buttons = {b["text"]: b["callback_data"] for row in first["reply_markup"]["inline_keyboard"] for b in row}
    await send(telegram, callback_update(telegram[0].bot, buttons["👍"]))
    assert telegram[1].sent("answerCallbackQuery")[-1]["text"] == "感谢反馈！"
    stats = telegram[0].bot_data.services.history.stats()
    assert stats.thumbs_up >= 1


@pytest.mark.asyncio
async def test_stale_or_forged_buttons_are_answered_politely(telegram):
    await send(telegram, callback_update(telegram[0].bot, "p:AAAAAAAAAAAA:1"))  # a token never issued
    assert telegram[1].sent("answerCallbackQuery")[-1]["text"] == BUTTON_EXPIRED_TEXT
    await send(telegram, callback_update(telegram[0].bot, "rm -rf /"))
    assert "失效" in telegram[1].sent("answerCallbackQuery")[-1]["text"]


@pytest.mark.asyncio
async def test_ask_command_answers_like_a_message(telegram):
    by_command = await one(telegram, "/ask 人防工程巡检系统")
    by_message = await one(telegram, "人防工程巡检系统")
    assert by_command["text"] == by_message["text"]


@pytest.mark.asyncio
async def test_nothing_found_is_said_honestly(telegram):
    assert (await one(telegram, "今天天气怎么样"))["text"].startswith("没有在报告中找到")


@pytest.mark.asyncio
async def test_html_in_a_question_is_escaped(telegram):
    assert "<script>" not in (await one(telegram, "<script>火锅</script>"))["text"]


@pytest.mark.asyncio
async def test_ask_without_question_explains_usage(telegram):
    assert "/ask 加装电梯" in (await one(telegram, "/ask"))["text"]


@pytest.mark.asyncio
async def test_very_long_question_is_refused_politely(telegram):
    assert "问题太长" in (await one(telegram, "加装电梯" * 2500))["text"]


@pytest.mark.asyncio
async def test_unknown_command(telegram):
    assert "没有这个命令" in (await one(telegram, "/delete_everything"))["text"]


@pytest.mark.asyncio
@pytest.mark.parametrize("command", ["/target 加装电梯", "/t 加装电梯"])
async def test_target_command_and_alias(telegram, command):
    plain = assert_telegram_html((await one(telegram, command))["text"])
    assert plain.startswith("“加装电梯”的数字（共 3 条）")
    assert "1. 既有住宅加装电梯 · *台（原文数字已脱敏） · 完成 · 2022年" in plain


@pytest.mark.asyncio
async def test_question_without_a_number_has_no_figures_block(telegram):
    assert "相关数字" not in (await one(telegram, "智慧物业平台在哪些小区试点"))["text"]


# Access


@pytest.mark.asyncio
async def test_stranger_is_refused_once_with_their_id(telegram):
    first = await one(telegram, "加装电梯累计完成了多少台？", STRANGER)
    text = assert_telegram_html(first["text"])
    assert str(STRANGER) in text and "管理员" in text and "加装电梯" not in text
    assert await say(telegram, "保租房筹集了多少", STRANGER) == []  # not told again
    assert await say(telegram, "/target 加装电梯", STRANGER) == []


@pytest.mark.asyncio
async def test_private_mode_without_allow_lists(seed_index, tmp_path):
    application, request = await _start(seed_index, tmp_path, TelegramSettings(admins=frozenset({ADMIN})))
    try:
        refused = await one((application, request), "加装电梯", STAFF)
        assert str(STAFF) in refused["text"]
        answered = await one((application, request), "加装电梯", ADMIN)
        assert "加装电梯" in answered["text"]
    finally:
        await application.shutdown()


@pytest.mark.asyncio
async def test_open_mode_answers_everyone(seed_index, tmp_path):
    application, request = await _start(seed_index, tmp_path, TelegramSettings(open=True))
    try:
        assert "加装电梯" in (await one((application, request), "加装电梯", STRANGER))["text"]
    finally:
        await application.shutdown()


@pytest.mark.asyncio
async def test_group_answers_only_when_addressed(telegram):
    assert await say(telegram, "加装电梯完成了多少台", GROUP_MEMBER, chat_id=GROUP) == []
    mentioned = await one(telegram, "@bureau_bot 加装电梯完成了多少台", GROUP_MEMBER, chat_id=GROUP)
    assert "既有住宅加装电梯" in mentioned["text"]
    replied = await one(telegram, "保租房呢", GROUP_MEMBER, chat_id=GROUP, reply_to_bot=True)
    assert "保障性租赁住房" in replied["text"]
    assert "加装电梯" in (await one(telegram, "/ask@bureau_bot 加装电梯", GROUP_MEMBER, chat_id=GROUP))["text"]
    assert await say(telegram, "/ask@other_bot 加装电梯", GROUP_MEMBER, chat_id=GROUP) == []


@pytest.mark.asyncio
async def test_group_not_on_the_list_is_refused(telegram):
    refused = await one(telegram, "@bureau_bot 加装电梯", GROUP_MEMBER, chat_id=-100999)
    assert str(GROUP_MEMBER) in refused["text"]


@pytest.mark.asyncio
async def test_rate_limit_is_explained_once(telegram):
    for _ in range(5):
        assert len(await say(telegram, "旱厕改造")) == 1
    limited = await one(telegram, "旱厕改造")
    assert "每分钟最多 5 次" in limited["text"]
    assert await say(telegram, "旱厕改造") == []
    assert len(await say(telegram, "旱厕改造", ADMIN)) == 1  # admins are not limited


@pytest.mark.asyncio
async def test_handler_failure_is_apologised_for_and_admins_told(telegram, monkeypatch):
    application, _request = telegram
    responder = application.bot_data.services.responder

    def broken(question: str, page: int = 0):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(responder, "answer_page", broken)  # a fault injected, not a faked result
    replies = await say(telegram, "加装电梯")
    assert replies[0]["text"] == APOLOGY_TEXT
    (to_admin,) = [r for r in replies[1:] if r["chat_id"] == ADMIN]
    assert "RuntimeError: index exploded" in to_admin["text"]
    assert len(await say(telegram, "/help")) == 1  # the bot keeps answering


# Admin operations


@pytest.mark.asyncio
@pytest.mark.parametrize("command", ["/reload", "/docs", "/remove x.txt", "/stats"])
async def test_admin_commands_are_refused_to_staff(telegram, command):
    assert "仅限管理员" in (await one(telegram, command))["text"]


@pytest.mark.asyncio
async def test_reload_reports_changes(admin_telegram):
    _application, _request, live = admin_telegram
    (live.settings.corpus_dir / "新报告.txt").write_text(
        "一、2024年重点工作\n全年新建口袋公园9个。\n", encoding="utf-8"
    )
    replies = await say(admin_telegram, "/reload", ADMIN)
    status, final = replies[0], replies[-1]
    assert status["text"].startswith("正在重新加载")
    text = assert_telegram_html(final["text"])
    assert "新增 1" in text and "新增：新报告.txt" in text and "个数字" in text


@pytest.mark.asyncio
async def test_admin_upload_is_saved_safely_and_indexed(admin_telegram):
    application, request, live = admin_telegram
    content = docx_bytes("区住建局2024年工作总结", "一、2024年工作回顾", "全年新建口袋公园9个，改造背街小巷12条。")
    request.files["f1"] = content
    replies = await send(
        admin_telegram, document_update(application.bot, "f1", "../../2024总结.docx", len(content), ADMIN)
    )
    final = assert_telegram_html(replies[-1]["text"])
    assert final.startswith("已添加报告：2024总结.docx")
    assert "提取 2 个数字" in final
    assert (live.settings.corpus_dir / "2024总结.docx").read_bytes() == content
    assert live.search("口袋公园")[0].passage.doc_id == "2024总结.docx"

    again = docx_bytes("区住建局2024年工作总结", "一、2024年工作回顾", "全年新建口袋公园11个。")
    request.files["f2"] = again
    replies = await send(admin_telegram, document_update(application.bot, "f2", "2024总结.docx", len(again), ADMIN))
    assert "旧文件已移到" in replies[-1]["text"]
    assert len(list(live.settings.removed_folder.iterdir())) == 1


@pytest.mark.asyncio
async def test_unreadable_upload_is_rejected_and_nothing_is_added(admin_telegram):
    application, request, live = admin_telegram
    before = sorted(p.name for p in live.settings.corpus_dir.iterdir())
    request.files["bad"] = b"PK\x03\x04 definitely not a word document"
    replies = await send(admin_telegram, document_update(application.bot, "bad", "报告.docx", 40, ADMIN))
    assert "未添加" in replies[-1]["text"] and "无法打开 .docx" in replies[-1]["text"]
    assert sorted(p.name for p in live.settings.corpus_dir.iterdir()) == before
    (refused,) = await send(admin_telegram, document_update(application.bot, "x", "表格.xlsx", 10, ADMIN))
    assert "不支持的文件类型" in refused["text"]


@pytest.mark.asyncio
async def test_staff_upload_is_refused(admin_telegram):
    application, request, _live = admin_telegram
    request.files["f"] = b"whatever"
    (reply,) = await send(admin_telegram, document_update(application.bot, "f", "a.txt", 8, STAFF))
    assert "只有管理员" in reply["text"]
    assert ("getFile", {"file_id": "f"}) not in request.calls


@pytest.mark.asyncio
async def test_docs_remove_and_stats(admin_telegram):
    _application, request, live = admin_telegram
    (listing,) = await say(admin_telegram, "/docs", ADMIN)
    assert "已索引的报告（共 5 份" in assert_telegram_html(listing["text"])
    (ambiguous,) = await say(admin_telegram, "/remove 00", ADMIN)
    assert "有 5 份文档" in ambiguous["text"]
    (removed,) = await say(admin_telegram, "/remove 002_88c0d581ec614d59.txt", ADMIN)
    assert "已移除" in removed["text"] and len(live.documents()) == 4
    assert (live.settings.removed_folder).exists()
    await say(admin_telegram, "加装电梯累计完成了多少台")
    await say(admin_telegram, "火锅店推荐")
    (stats,) = await say(admin_telegram, "/stats", ADMIN)
    text = assert_telegram_html(stats["text"])
    assert "今天提问 2 次" in text and "火锅店推荐 ×1" in text
    assert request.sent("sendDocument")


@pytest.mark.asyncio
async def test_docs_pages_with_buttons(tmp_path):
    reports = {f"报告{number:02d}.txt": f"一、2024年重点工作\n新建口袋公园{number + 1}个。\n" for number in range(12)}
    live = open_library(tmp_path, write_corpus(tmp_path, reports))
    application, request = await _start(live, tmp_path, dataclasses.replace(SETTINGS))
    try:
        (listing,) = await say((application, request), "/docs", ADMIN)
        assert "第 1/2 页" in listing["text"]
        data = listing["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        (page_two,) = await send((application, request), callback_update(application.bot, data, user_id=ADMIN))
        assert "第 2/2 页" in page_two["text"] and "报告11.txt" in page_two["text"]
    finally:
        await application.shutdown()


@pytest.mark.asyncio
async def test_questions_are_answered_while_a_reload_runs(admin_telegram):
    application, request, live = admin_telegram
    for copy in range(2):  # ten new reports to write into the store (edited, so none is a duplicate)
        for path in sorted(live.settings.corpus_dir.glob("00*.txt"))[:5]:
            edited = path.read_text(encoding="utf-8") + f"\n附：第{copy + 1}次修订稿。\n"
            (live.settings.corpus_dir / f"copy{copy}_{path.name}").write_text(edited, encoding="utf-8")
    store = sqlite3.connect(live.engine.url.database, isolation_level=None)
    store.execute("BEGIN IMMEDIATE")  # hold the store's write lock: the reload cannot finish until released
    try:
        reload_task = asyncio.create_task(application.process_update(message_update(application.bot, "/reload", ADMIN)))
        before = len(request.calls)
        await application.process_update(message_update(application.bot, "旱厕改造", STAFF))
        answered = [p for name, p in request.calls[before:] if name == "sendMessage" and p["chat_id"] == STAFF]
        assert answered and "旱厕" in answered[0]["text"]
        assert not reload_task.done()  # the answer came while the reload was still running
    finally:
        store.execute("COMMIT")
        store.close()
    await reload_task
    assert "新增 10" in request.sent("editMessageText")[-1]["text"]


# Buttons belong to the answer they are under (issue 8)


def _buttons(reply: dict) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in reply["reply_markup"]["inline_keyboard"] for b in row}


@pytest.mark.asyncio
async def test_another_user_cannot_use_or_guess_someone_elses_buttons(telegram):
    application, request = telegram
    mine = await one(telegram, "老旧小区改造", ADMIN)
    theirs = _buttons(mine)
    other = await one(telegram, "旱厕改造", STAFF)
    own = _buttons(other)
    assert theirs["👍"].split(":")[1] != own["👍"].split(":")[1]
    assert not theirs["👍"].split(":")[1].isdigit()  # not a sequential id
    for label in ("更多结果 ➡️", "👍", next(k for k in theirs if k.startswith("上下文"))):
        before = len(request.calls)
        replies = await send(telegram, callback_update(application.bot, theirs[label], user_id=STAFF))
        assert replies == []  # nothing sent or edited: no question text, no passages
        assert request.calls[before:][-1][1]["text"] == BUTTON_EXPIRED_TEXT
    assert application.bot_data.services.history.stats().thumbs_up == 0
    await send(telegram, callback_update(application.bot, "p:" + "x" * 12 + ":0"))  # a guessed token
    assert request.sent("answerCallbackQuery")[-1]["text"] == BUTTON_EXPIRED_TEXT


@pytest.mark.asyncio
async def test_buttons_of_a_group_answer_work_for_that_group_only(telegram):
    application, request = telegram
    answer = await one(telegram, "@bureau_bot 老旧小区改造", GROUP_MEMBER, chat_id=GROUP)
    more = _buttons(answer)["更多结果 ➡️"]
    (edited,) = await send(telegram, callback_update(application.bot, more, user_id=STAFF, chat_id=GROUP))
    assert "第 2/" in edited["text"]  # another member of the group may page it
    assert await send(telegram, callback_update(application.bot, more, user_id=STAFF)) == []
    assert request.sent("answerCallbackQuery")[-1]["text"] == BUTTON_EXPIRED_TEXT


@pytest.mark.asyncio
@pytest.mark.parametrize("value", ["+7", "0", "-2", "+1x"])
async def test_forged_feedback_value_is_an_expired_button_not_an_error(telegram, value):
    application, request = telegram
    answer = await one(telegram, "旱厕改造", STAFF)
    token = _buttons(answer)["👍"].split(":")[1]
    replies = await send(telegram, callback_update(application.bot, f"f:{token}:{value}"))
    assert replies == []  # no apology, and no error report to the admins
    assert request.sent("answerCallbackQuery")[-1]["text"] == BUTTON_EXPIRED_TEXT


@pytest.mark.asyncio
async def test_double_tap_on_feedback_is_recorded_once(telegram):
    application, request = telegram
    for _ in range(5):
        answer = await one(telegram, "旱厕改造", ADMIN)
        thumbs = _buttons(answer)["👍"]
        presses = [callback_update(application.bot, thumbs, user_id=ADMIN) for _ in range(2)]
        before = len(request.calls)
        await asyncio.gather(*(application.process_update(press) for press in presses))
        answers = [p["text"] for name, p in request.calls[before:] if name == "answerCallbackQuery"]
        assert answers == ["感谢反馈！", "感谢反馈！"]
        assert not [p for name, p in request.calls[before:] if name == "sendMessage"]  # no apology, no report
    assert application.bot_data.services.history.stats().thumbs_up == 5


@pytest.mark.asyncio
async def test_uploading_a_file_the_corpus_already_has_finishes_its_message(admin_telegram):
    application, request, live = admin_telegram
    path = next(live.settings.corpus_dir.glob("001_*.txt"))
    content = path.read_bytes()
    request.files["same"] = content
    replies = await send(admin_telegram, document_update(application.bot, "same", path.name, len(content), ADMIN))
    final = assert_telegram_html(replies[-1]["text"])
    assert "内容没有变化" in final and "正在检查" not in final
    assert not live.settings.removed_folder.exists()  # nothing moved aside
    replies = await send(admin_telegram, document_update(application.bot, "same", "副本.txt", len(content), ADMIN))
    final = assert_telegram_html(replies[-1]["text"])
    assert "内容相同" in final and path.name in final
    assert not (live.settings.corpus_dir / "副本.txt").exists()


@pytest.mark.asyncio
async def test_an_upload_that_fails_unexpectedly_ends_its_progress_message(tmp_path, seed_corpus):
    (tmp_path / "removed-is-a-file").write_text("x", encoding="utf-8")
    live = open_library(tmp_path, seed_corpus, removed_dir=tmp_path / "removed-is-a-file")
    application, request = await _start(live, tmp_path)
    try:
        path = next(seed_corpus.glob("001_*.txt"))
        content = path.read_bytes() + "\n六、补充\n全年新建口袋公园9个。\n".encode()
        request.files["f"] = content
        upload = document_update(application.bot, "f", path.name, len(content), ADMIN)
        replies = await send((application, request), upload)
        status = [r for r in replies if r.get("message_id")]
        final = assert_telegram_html(status[-1]["text"])
        assert final.startswith(f"未添加 {path.name}") and "正在检查" not in final
        assert path.read_bytes() != content  # the corpus file is as before
    finally:
        await application.shutdown()


@pytest.mark.asyncio
async def test_long_upload_name_is_saved_under_a_capped_name(admin_telegram):
    application, request, live = admin_telegram
    name = "关于" + "住房和城乡建设局年度工作总结" * 7 + ".txt"
    content = "区住建局2024年工作总结\n一、2024年工作回顾\n全年新建口袋公园9个。\n".encode()
    request.files["long"] = content
    replies = await send(admin_telegram, document_update(application.bot, "long", name, len(content), ADMIN))
    assert "已添加报告" in replies[-1]["text"]
    assert live.search("口袋公园")[0].passage.doc_id.endswith(".txt")
