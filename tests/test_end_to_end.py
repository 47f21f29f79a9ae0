"""The whole bot, `bureau-bot run` as a separate process, against a local Bot API server."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR, STORE_NAME, copy_store
from tests.fake_bot_api import FakeBotApi, bot_environment, bot_run_command, start_bot, stop_bot, text_update

TOKEN = "123456:END-TO-END"
ADMIN, STAFF, STRANGER = 900, 1001, 2002
NEW_REPORT = "区住建局2024年工作总结\n一、2024年工作回顾\n全年新建口袋公园9个，改造背街小巷12条。\n"


def _document(user_id: int, file_id: str, name: str, size: int) -> dict:
    message = {
        "message_id": 77,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "王"},
        "from": {"id": user_id, "is_bot": False, "first_name": "王"},
        "document": {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_name": name, "file_size": size},
    }
    return {"message": message}


def _button(user_id: int, data: str) -> dict:
    message = {
        "message_id": 88,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "王"},
        "from": {"id": 4242, "is_bot": True, "first_name": "住建助手"},
        "text": "回答",
    }
    user = {"id": user_id, "is_bot": False, "first_name": "王"}
    return {"callback_query": {"id": "cb1", "from": user, "chat_instance": "1", "data": data, "message": message}}


@pytest.fixture
def running_bot(tmp_path: Path, seed_store: Path):
    api = FakeBotApi(TOKEN).start()
    shutil.copytree(seed_store / "corpus", tmp_path / "corpus")
    corpus = tmp_path / "corpus"
    copy_store(seed_store, tmp_path)  # the bot starts on a built store, as it does in service
    config = tmp_path / "config.toml"
    config.write_text(
        "[corpus]\ndir = 'corpus'\n"
        f"[storage]\nurl = 'sqlite:///{tmp_path / STORE_NAME}'\n"
        "[telegram]\n"
        f"base_url = '{api.base_url}'\nbase_file_url = '{api.base_file_url}'\n"
        f"admins = [{ADMIN}]\nallowed_users = [{STAFF}]\n",
        encoding="utf-8",
    )
    process = start_bot(config, TOKEN, cwd=tmp_path)
    try:
        api.wait_for("getUpdates", timeout=90)
        yield api, process, corpus
    finally:
        stop_bot(process, timeout=30)
        api.stop()


def test_staff_stranger_admin_upload_reload_and_buttons(running_bot):
    api, process, corpus = running_bot
    assert api.wait_for("getMe", timeout=1) is not None
    assert api.wait_for("setMyCommands", timeout=5) is not None

    # A staff question: cited passages with buttons.
    mark = len(api.calls)
    api.push(text_update(STAFF, "加装电梯累计完成了多少台？"))
    answer = api.wait_for("sendMessage", lambda p: p["chat_id"] == STAFF, after=mark)
    assert "既有住宅加装电梯" in answer["text"] and "《区住建局2022年工作总结" in answer["text"]
    buttons = {b["text"]: b["callback_data"] for row in answer["reply_markup"]["inline_keyboard"] for b in row}

    # A stranger gets one refusal with their id, and nothing from the reports.
    mark = len(api.calls)
    api.push(text_update(STRANGER, "保租房筹集了多少套"))
    refusal = api.wait_for("sendMessage", lambda p: p["chat_id"] == STRANGER, after=mark)
    assert str(STRANGER) in refusal["text"] and "保障性租赁住房" not in refusal["text"]

    # Buttons: feedback and context.
    mark = len(api.calls)
    api.push(_button(STAFF, buttons["👍"]))
    thanks = api.wait_for("answerCallbackQuery", after=mark)
    assert thanks["text"] == "感谢反馈！"
    mark = len(api.calls)
    context_label = next(label for label in buttons if label.startswith("上下文"))
    api.push(_button(STAFF, buttons[context_label]))
    context = api.wait_for("sendMessage", lambda p: p["text"].startswith("<b>上下文</b>"), after=mark)
    assert "加装电梯" in context["text"]

    # An admin uploads a report: downloaded, saved, indexed, reported.
    mark = len(api.calls)
    content = NEW_REPORT.encode("gbk")
    api.files["doc-1"] = content
    api.push(_document(ADMIN, "doc-1", "2024年工作总结.txt", len(content)))
    added = api.wait_for("editMessageText", lambda p: "已添加报告" in p["text"], after=mark)
    assert "2024年工作总结.txt" in added["text"]
    assert api.wait_for("download", after=mark)["file_id"] == "doc-1"
    assert (corpus / "2024年工作总结.txt").read_bytes() == content

    # The new report answers questions at once.
    mark = len(api.calls)
    api.push(text_update(STAFF, "口袋公园新建了多少个"))
    answer = api.wait_for("sendMessage", lambda p: p["chat_id"] == STAFF, after=mark)
    assert "口袋公园" in answer["text"] and "2024年工作总结" in answer["text"]

    # /reload after a file is removed by hand.
    (corpus / "2024年工作总结.txt").unlink()
    mark = len(api.calls)
    api.push(text_update(ADMIN, "/reload"))
    report = api.wait_for("editMessageText", lambda p: "重新加载完成" in p["text"], after=mark)
    assert "删除 1" in report["text"]

    # /stats: a summary and the week's questions as a file.
    mark = len(api.calls)
    api.push(text_update(ADMIN, "/stats"))
    stats = api.wait_for("sendMessage", lambda p: "使用情况" in p["text"], after=mark)
    assert "近 7 天 2 次" in stats["text"]
    sent = api.wait_for("sendDocument", after=mark)
    assert sent["document"]["filename"] == "近7天提问记录.csv"
    assert "口袋公园新建了多少个".encode() in sent["document"]["content"]

    assert api.violations == []
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert "Traceback" not in process.stderr.read()


def test_run_with_rejected_token_exits_with_one_line(tmp_path: Path):
    api = FakeBotApi("999:OTHER").start()
    try:
        config = tmp_path / "config.toml"
        config.write_text(f"[telegram]\nbase_url = '{api.base_url}'\nbase_file_url = '{api.base_file_url}'\n")
        shutil.copytree(PROJECT_DIR / "corpus", tmp_path / "corpus")
        result = subprocess.run(
            bot_run_command(config),
            env=bot_environment(TOKEN),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        api.stop()
    assert result.returncode == 1
    assert "Telegram 拒绝了这个令牌" in result.stderr and "Traceback" not in result.stderr
