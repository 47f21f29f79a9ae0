"""The bureau-bot command line, run as a separate process like external tooling does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from bot.render import html_to_text
from bot.replies import Responder
from index.library import LiveIndex
from tests.conftest import DEV_SET, SEED_FILES

SEARCH_KEYS = {"rank", "score", "doc_id", "doc_title", "year", "section", "text"}


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """A folder with a partial config.toml and its own copy of the seed reports."""
    folder = tmp_path / "deploy"
    (folder / "reports").mkdir(parents=True)
    for path in SEED_FILES:
        shutil.copy(path, folder / "reports" / path.name)
    (folder / "config.toml").write_text('[corpus]\ndir = "reports"\n', encoding="utf-8")
    return folder


def run(deployment: Path, *args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m bot ARGS --config deploy/config.toml`` from an unrelated folder."""
    environment = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(deployment / "config.toml")],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=deployment.parent,
        env=environment | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        timeout=120,
    )


def test_search_json_contract_and_first_use_build(deployment):
    result = run(deployment, "search", "保租房今年筹集了多少套", "-k", "3", "--json")
    assert result.returncode == 0, result.stderr
    assert "正在从语料目录建立索引" in result.stderr
    hits = json.loads(result.stdout)
    assert 1 <= len(hits) <= 3
    for rank, hit in enumerate(hits, start=1):
        assert set(hit) == SEARCH_KEYS
        assert hit["rank"] == rank and isinstance(hit["score"], float)
        assert hit["doc_id"].endswith(".txt") and isinstance(hit["year"], int)
    assert "保障性租赁住房" in hits[0]["text"]
    assert (deployment / "data" / "bureau.db").exists()  # relative to the config, not the cwd

    again = run(deployment, "search", "保租房今年筹集了多少套", "-k", "3", "--json")
    assert "正在从语料目录建立索引" not in again.stderr
    assert json.loads(again.stdout) == hits


def test_search_batch_mode_answers_one_line_per_query(deployment):
    result = run(
        deployment, "search", "-", "-k", "2", stdin="加装电梯累计完成了多少台\n\n今天天气怎么样\n人防工程巡检系统\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    answers = [json.loads(line) for line in lines]
    assert answers[1] == [] and answers[2] == []
    assert "加装电梯" in answers[0][0]["text"] and "人防工程巡检系统" in answers[3][0]["text"]
    assert all(set(hit) == SEARCH_KEYS for answer in answers for hit in answer)


def test_search_plain_output(deployment):
    result = run(deployment, "search", "旱厕改造", "-k", "1")
    assert result.returncode == 0
    assert result.stdout.startswith("1. [") and "消除城市建成区旱厕" in result.stdout


def test_reload_and_docs(deployment):
    assert run(deployment, "docs").returncode == 0
    (deployment / "reports" / "新报告.txt").write_text(
        "一、2024年重点工作\n全年新建口袋公园9个，改造提升背街小巷12条。\n", encoding="utf-8"
    )
    (deployment / "reports" / "空.txt").write_bytes(b"")
    result = run(deployment, "reload", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == ["新报告.txt"]
    assert report["failed"] == [{"doc_id": "空.txt", "reason": "文件为空"}]
    assert report["documents"] == 6 and report["passages"] > 100 and report["seconds"] >= 0
    assert {"updated", "removed", "unchanged", "retokenized"} <= set(report)

    plain = run(deployment, "reload")
    assert "新增 0，更新 0，删除 0，未变 6，失败 1" in plain.stdout

    documents = json.loads(run(deployment, "docs", "--json").stdout)
    assert len(documents) == 6
    by_id = {d["doc_id"]: d for d in documents}
    assert by_id["新报告.txt"]["years"] == [2024]
    assert {"title", "year", "level", "kind", "passages", "content_hash", "ingested_at"} <= set(by_id["新报告.txt"])


def test_chat_through_a_pipe_gives_the_telegram_replies(deployment):
    questions = ["加装电梯累计完成了多少台？", "/help", "今天天气怎么样", "/nope", "/ask 旱厕改造"]
    result = run(deployment, "chat", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    live = LiveIndex(load_config(deployment / "config.toml").index, notice=lambda message: None)
    live.open()
    responder = Responder(live, load_config(deployment / "config.toml").chat)
    expected = "".join(html_to_text(responder.console_reply(q)) + "\n\n" for q in questions)
    assert result.stdout == expected
    assert "问>" not in result.stdout  # no prompt when stdin is a pipe


def test_run_without_token_explains_in_one_line(deployment):
    result = run(deployment, "run")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "未设置" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_is_reported_without_traceback(deployment):
    (deployment / "config.toml").write_text("[search]\nk1 = 'fast'\n", encoding="utf-8")
    result = run(deployment, "search", "加装电梯")
    assert result.returncode == 2
    assert "[search.k1]" in result.stderr and "Traceback" not in result.stderr


def test_missing_corpus_is_reported_without_traceback(deployment):
    shutil.rmtree(deployment / "reports")
    result = run(deployment, "search", "加装电梯")
    assert result.returncode == 1
    assert "语料目录不存在" in result.stderr and "Traceback" not in result.stderr


def test_evaluate_prints_recall_and_mrr(deployment):
    result = run(deployment, "evaluate", str(DEV_SET), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["questions"] == 40
    assert report["recall@3"] >= 0.95 and report["mrr@10"] >= 0.9
    assert report["passage_chars"]["max"] <= 500


TARGET_KEYS = {
    "indicator", "value", "value_text", "unit", "qualifier", "kind", "period", "year", "redacted",
    "sentence", "doc_id", "doc_title", "section",
}  # fmt: skip


def test_targets_json_contract_with_filters(deployment):
    result = run(deployment, "targets", "保租房", "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert records and all(set(r) == TARGET_KEYS for r in records)
    assert records[0]["indicator"] == "保障性租赁住房" and records[0]["redacted"] is True
    filtered = json.loads(
        run(deployment, "targets", "老旧小区改造", "--year", "2022", "--kind", "plan", "--json").stdout
    )
    assert filtered and all(r["year"] == 2022 and r["kind"] == "plan" for r in filtered)
    assert run(deployment, "targets", "停车位", "--kind", "done").returncode == 2  # argparse names the choices


def test_targets_batch_mode(deployment):
    result = run(deployment, "targets", "-", "--json", stdin="加装电梯\n\n火锅\n解危率\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4 and lines[1] == [] and lines[2] == []
    assert lines[0][0]["indicator"] == "既有住宅加装电梯" and lines[3][0]["unit"] == "%"


def test_targets_plain_output_and_extraction_evaluation(deployment):
    plain = run(deployment, "targets", "解危率")
    assert plain.stdout.startswith("1. 解危率 · *%（原文数字已脱敏） · 比率 · 2022年")
    result = run(deployment, "evaluate-targets", str(Path(__file__).parent / "data" / "figures.jsonl"), "--json")
    report = json.loads(result.stdout)
    assert report["precision"] >= 0.9 and report["recall"] >= 0.9
