"""Telegram handlers through python-telegram-bot's real Application, offline."""

from __future__ import annotations

import pytest
import pytest_asyncio

from bot.config import BotConfig, ChatSettings
from bot.handlers import APOLOGY_TEXT
from bot.replies import Responder
from bot.telegram_app import build_application
from tests.telegram_fakes import RecordingRequest, message_update
from tests.telegram_html import assert_telegram_html


@pytest_asyncio.fixture
async def telegram(seed_index):
    request = RecordingRequest()
    config = BotConfig(index=seed_index.settings)
    application = build_application(
        config,
        Responder(seed_index, ChatSettings()),
        "123:TEST",
        request=request,
        get_updates_request=RecordingRequest(),
    )
    await application.initialize()
    yield application, request
    await application.shutdown()


async def send(telegram, text: str) -> dict:
    application, request = telegram
    before = len(request.sent())
    await application.process_update(message_update(application.bot, text))
    replies = request.sent()[before:]
    assert len(replies) == 1, replies
    assert replies[0]["parse_mode"] == "HTML"
    assert_telegram_html(replies[0]["text"])
    return replies[0]


@pytest.mark.asyncio
@pytest.mark.parametrize("command", ["/start", "/help"])
async def test_start_and_help(telegram, command):
    reply = await send(telegram, command)
    assert "加装电梯累计完成了多少台" in reply["text"] and "/ask" in reply["text"]


@pytest.mark.asyncio
async def test_question_gets_cited_passages_best_first(telegram):
    reply = await send(telegram, "加装电梯累计完成了多少台？")
    markup = reply["text"]
    plain = assert_telegram_html(markup)
    figures, passages = plain.split("\n\n", 1)
    assert figures.startswith("📊 相关数字\n• 既有住宅加装电梯 · *台（原文数字已脱敏） · 完成 · 2022年")
    assert passages.startswith("1. 《区住建局2022年工作总结和2023年工作思路的汇报》 · 2022年")
    assert "累计完成既有住宅加装电梯*台" in passages
    assert "<b>加装电梯</b>" in markup


@pytest.mark.asyncio
async def test_broad_question_gets_at_most_three_passages(telegram):
    plain = assert_telegram_html((await send(telegram, "老旧小区改造"))["text"])
    assert "3. 《" in plain and "4. 《" not in plain


@pytest.mark.asyncio
async def test_ask_command_answers_like_a_message(telegram):
    by_command = await send(telegram, "/ask 人防工程巡检系统")
    by_message = await send(telegram, "人防工程巡检系统")
    assert by_command["text"] == by_message["text"]
    assert "人防工程巡检系统" in by_command["text"]


@pytest.mark.asyncio
async def test_nothing_found_is_said_honestly(telegram):
    reply = await send(telegram, "今天天气怎么样")
    assert reply["text"].startswith("没有在报告中找到")


@pytest.mark.asyncio
async def test_html_in_a_question_is_escaped(telegram):
    reply = await send(telegram, "<script>火锅</script>")
    assert "<script>" not in reply["text"]


@pytest.mark.asyncio
async def test_ask_without_question_explains_usage(telegram):
    reply = await send(telegram, "/ask")
    assert "/ask 加装电梯" in reply["text"]


@pytest.mark.asyncio
async def test_very_long_question_is_refused_politely(telegram):
    reply = await send(telegram, "加装电梯" * 2500)
    assert "问题太长" in reply["text"]


@pytest.mark.asyncio
async def test_unknown_command(telegram):
    reply = await send(telegram, "/delete_everything")
    assert "没有这个命令" in reply["text"]


@pytest.mark.asyncio
async def test_handler_failure_is_apologised_for(telegram, monkeypatch):
    application, request = telegram
    responder = application.bot_data["responder"]

    def broken(question: str) -> str:
        raise RuntimeError("index exploded")

    monkeypatch.setattr(responder, "answer", broken)  # a fault injected, not a faked result
    before = len(request.sent())
    await application.process_update(message_update(application.bot, "加装电梯"))
    replies = request.sent()[before:]
    assert [r["text"] for r in replies] == [APOLOGY_TEXT]


@pytest.mark.asyncio
@pytest.mark.parametrize("command", ["/target 加装电梯", "/t 加装电梯"])
async def test_target_command_and_alias(telegram, command):
    plain = assert_telegram_html((await send(telegram, command))["text"])
    assert plain.startswith("“加装电梯”的数字（共 3 条）")
    assert "1. 既有住宅加装电梯 · *台（原文数字已脱敏） · 完成 · 2022年" in plain


@pytest.mark.asyncio
async def test_target_without_keyword_explains_usage(telegram):
    assert "/target 加装电梯" in (await send(telegram, "/target"))["text"]


@pytest.mark.asyncio
async def test_question_without_a_number_has_no_figures_block(telegram):
    assert "相关数字" not in (await send(telegram, "智慧物业平台在哪些小区试点"))["text"]
