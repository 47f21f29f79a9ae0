"""The bureau-bot command line: its output contracts, run in-process through ``main``;
two tests run it as a separate process to prove the entry point and exit codes."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.render.markup import html_to_text
from bot.replies import Responder
from tests.conftest import DATA_DIR, DEV_SET, PROJECT_DIR, SEED_FILES, copy_store, open_library

SEARCH_KEYS = {"rank", "score", "doc_id", "doc_title", "place", "year", "section", "text"}
TARGET_KEYS = {
    "indicator", "value", "value_max", "value_text", "unit", "qualifier", "kind", "period", "year", "redacted",
    "sentence", "doc_id", "doc_title", "place", "section",
}  # fmt: skip


@pytest.fixture
def empty_deployment(tmp_path: Path) -> Path:
    """A folder with a partial config.toml and its own copy of the seed reports, no store."""
    folder = tmp_path / "deploy"
    (folder / "reports").mkdir(parents=True)
    for path in SEED_FILES:
        shutil.copy(path, folder / "reports" / path.name)
    (folder / "config.toml").write_text('[corpus]\ndir = "reports"\n', encoding="utf-8")
    return folder


@pytest.fixture
def deployment(empty_deployment: Path, seed_store: Path) -> Path:
    """The same deployment with its store already built (a copy of the session's seed store)."""
    (empty_deployment / "data").mkdir()
    copy_store(seed_store, empty_deployment / "data")
    for path in (empty_deployment / "data").iterdir():
        path.rename(path.with_name(path.name.replace("store.db", "bureau.db")))
    return empty_deployment


def cli(deployment: Path, capsys, *args: str, stdin: str = "", monkeypatch=None) -> tuple[int, str, str]:
    """Run ``bureau-bot ARGS --config deploy/config.toml`` in-process; return (status, out, err)."""
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = main([*args, "--config", str(deployment / "config.toml")])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_search_json_contract_and_first_use_build(empty_deployment, capsys):
    status, out, err = cli(empty_deployment, capsys, "search", "保租房今年筹集了多少套", "-k", "3", "--json")
    assert status == 0, err
    assert "正在从语料目录建立索引" in err
    hits = json.loads(out)
    assert 1 <= len(hits) <= 3
    for rank, hit in enumerate(hits, start=1):
        assert set(hit) == SEARCH_KEYS
        assert hit["rank"] == rank and isinstance(hit["score"], float)
        assert hit["doc_id"].endswith(".txt") and isinstance(hit["year"], int)
    assert "保障性租赁住房" in hits[0]["text"]
    assert (empty_deployment / "data" / "bureau.db").exists()  # relative to the config, not the cwd

    status, again, err = cli(empty_deployment, capsys, "search", "保租房今年筹集了多少套", "-k", "3", "--json")
    assert "正在从语料目录建立索引" not in err
    assert json.loads(again) == hits


def test_search_batch_mode_answers_one_line_per_query(deployment, capsys, monkeypatch):
    stdin = "加装电梯累计完成了多少台\n\n今天天气怎么样\n人防工程巡检系统\n"
    status, out, err = cli(deployment, capsys, "search", "-", "-k", "2", stdin=stdin, monkeypatch=monkeypatch)
    assert status == 0, err
    lines = out.splitlines()
    assert len(lines) == 4
    answers = [json.loads(line) for line in lines]
    assert answers[1] == [] and answers[2] == []
    assert "加装电梯" in answers[0][0]["text"] and "人防工程巡检系统" in answers[3][0]["text"]
    assert all(set(hit) == SEARCH_KEYS for answer in answers for hit in answer)


def test_search_plain_output(deployment, capsys):
    status, out, _ = cli(deployment, capsys, "search", "旱厕改造", "-k", "1")
    assert status == 0
    assert out.startswith("1. [") and "消除城市建成区旱厕" in out


def test_reload_and_docs(deployment, capsys):
    assert cli(deployment, capsys, "docs")[0] == 0
    (deployment / "reports" / "新报告.txt").write_text(
        "一、2024年重点工作\n全年新建口袋公园9个，改造提升背街小巷12条。\n", encoding="utf-8"
    )
    (deployment / "reports" / "空.txt").write_bytes(b"")
    status, out, err = cli(deployment, capsys, "reload", "--json")
    assert status == 0, err
    report = json.loads(out)
    assert report["added"] == ["新报告.txt"]
    assert report["failed"] == [{"doc_id": "空.txt", "reason": "文件为空"}]
    assert report["documents"] == 6 and report["passages"] > 100 and isinstance(report["seconds"], float)
    assert {"updated", "removed", "unchanged", "retokenized"} <= set(report)

    _, plain, _ = cli(deployment, capsys, "reload")
    assert "新增 0 · 更新 0 · 删除 0 · 未变 6 · 失败 1" in plain and "失败：空.txt：文件为空" in plain

    documents = json.loads(cli(deployment, capsys, "docs", "--json")[1])
    assert len(documents) == 6
    by_id = {d["doc_id"]: d for d in documents}
    assert by_id["新报告.txt"]["years"] == [2024] and by_id["新报告.txt"]["targets"] == 2
    assert {"title", "year", "level", "kind", "passages", "content_hash", "ingested_at"} <= set(by_id["新报告.txt"])


def test_chat_through_a_pipe_gives_the_telegram_replies(deployment, capsys, monkeypatch):
    questions = ["加装电梯累计完成了多少台？", "/help", "今天天气怎么样", "/nope", "/ask 旱厕改造"]
    stdin = "\n".join(questions) + "\n"
    status, out, err = cli(deployment, capsys, "chat", stdin=stdin, monkeypatch=monkeypatch)
    assert status == 0, err
    config = load_config(deployment / "config.toml")
    responder = Responder(open_library(deployment / "data", config.index.corpus_dir), config.chat)
    expected = "".join(html_to_text(responder.console_reply(q)) + "\n\n" for q in questions)
    assert out == expected
    assert "问>" not in out  # no prompt when stdin is not a terminal


def test_bad_config_is_reported_without_traceback(deployment, capsys):
    (deployment / "config.toml").write_text("[search]\nk1 = 'fast'\n", encoding="utf-8")
    status, _, err = cli(deployment, capsys, "search", "加装电梯")
    assert status == 2
    assert "[search.k1]" in err and "Traceback" not in err


def test_evaluate_prints_recall_and_mrr(deployment, capsys):
    status, out, err = cli(deployment, capsys, "evaluate", str(DEV_SET), "--json")
    assert status == 0, err
    report = json.loads(out)
    assert report["questions"] == 40
    assert report["recall@3"] >= 0.95 and report["mrr@10"] >= 0.9
    assert report["passage_chars"]["max"] <= 500


def test_targets_json_contract_with_filters(deployment, capsys):
    status, out, err = cli(deployment, capsys, "targets", "保租房", "--json")
    assert status == 0, err
    records = json.loads(out)
    assert records and all(set(r) == TARGET_KEYS for r in records)
    assert records[0]["indicator"] == "保障性租赁住房" and records[0]["redacted"] is True
    _, out, _ = cli(deployment, capsys, "targets", "老旧小区改造", "--year", "2022", "--kind", "plan", "--json")
    filtered = json.loads(out)
    assert filtered and all(r["year"] == 2022 and r["kind"] == "plan" for r in filtered)
    with pytest.raises(SystemExit) as refused:  # argparse names the choices
        cli(deployment, capsys, "targets", "停车位", "--kind", "done")
    assert refused.value.code == 2 and "plan" in capsys.readouterr().err


def test_targets_batch_mode(deployment, capsys, monkeypatch):
    stdin = "加装电梯\n\n火锅\n解危率\n"
    _, out, _ = cli(deployment, capsys, "targets", "-", "--json", stdin=stdin, monkeypatch=monkeypatch)
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 4 and lines[1] == [] and lines[2] == []
    assert lines[0][0]["indicator"] == "既有住宅加装电梯" and lines[3][0]["unit"] == "%"


def test_targets_plain_output_and_extraction_evaluation(deployment, capsys):
    _, plain, _ = cli(deployment, capsys, "targets", "解危率")
    assert plain.startswith("1. 解危率 · *%（原文数字已脱敏） · 比率 · 2022年")
    _, out, _ = cli(deployment, capsys, "evaluate-targets", str(DATA_DIR / "figures.jsonl"), "--json")
    report = json.loads(out)
    assert report["precision"] >= 0.9 and report["recall"] >= 0.9


def _process(deployment: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``python -m bot ARGS --config …`` as a separate process from an unrelated folder."""
    environment = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(deployment / "config.toml")],
        capture_output=True,
        text=True,
        cwd=deployment.parent,
        env=environment | {"PYTHONPATH": str(PROJECT_DIR)},
        timeout=120,
    )


def test_process_run_without_token_explains_in_one_line(empty_deployment):
    result = _process(empty_deployment, "run")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "未设置" in result.stderr
    assert "Traceback" not in result.stderr


def test_process_missing_corpus_is_one_line_and_status_one(empty_deployment):
    shutil.rmtree(empty_deployment / "reports")
    result = _process(empty_deployment, "search", "加装电梯")
    assert result.returncode == 1
    assert "语料目录不存在" in result.stderr and "Traceback" not in result.stderr


def test_abbreviations_lists_the_mined_table_and_search_says_how_it_read(deployment, capsys):
    code, out, _ = cli(deployment, capsys, "abbreviations", "物管", "群众")
    assert code == 0
    assert out.startswith("物管\t物业管理（") and "不在表中：群众" in out
    code, out, _ = cli(deployment, capsys, "abbreviations", "--json")
    table = json.loads(out)
    assert table["物管"][0]["term"] == "物业管理" and len(table) > 100
    code, out, _ = cli(deployment, capsys, "search", "物管投诉有多少", "-k", "1")
    assert out.startswith("（“物管”按“物业管理”查找）")


def test_the_readmes_first_command_shows_a_real_figure(deployment, capsys):
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    question = re.search(r'bureau-bot search "([^"]+)" -k 1', readme).group(1)
    code, out, _ = cli(deployment, capsys, "search", question, "-k", "1")
    assert code == 0 and "项目11个" in out  # a figure as written, not a redaction mark
