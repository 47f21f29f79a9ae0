"""The ``bureau-bot`` command line: search, reload, docs, chat, run, evaluate.

Exit status: 0 success, 1 the command failed (message on stderr), 2 bad usage or
configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from bot.config import TOKEN_ENV, BotConfig, ConfigError, LoggingSettings, load_config
from bot.console import run_console
from bot.render.admin import render_reload_report
from bot.render.answers import reading_notes
from bot.render.figures import render_target_line
from bot.render.markup import html_to_text
from bot.replies import Responder
from index.api import (
    FIGURE_KINDS,
    OVERRIDES_FILE,
    IndexFailure,
    Library,
    evaluate_figures,
    evaluate_retrieval,
    keep_freed_memory,
)

DESCRIPTION = "Cited answers from a housing bureau's work reports."
CONFIG_HELP = "config file (default: ./config.toml); before or after the sub-command"
BROKEN_PIPE_STATUS = 128 + 13  # as a process ended by SIGPIPE


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.command_config or args.config)  # the sub-command's position wins
    except ConfigError as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    configure_logging(config.logging, to_stderr=args.command is _run)
    keep_freed_memory()  # large per-question arrays from the heap, not fresh pages each time
    try:
        status = args.command(args, config)
        sys.stdout.flush()
        return status
    except IndexFailure as error:
        print(f"错误：{error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader closed our output (`bureau-bot docs | head -1`): a normal way to
        # stop reading. Point stdout at /dev/null so the flush at exit cannot fail
        # again (the recipe of the Python docs, "Note on SIGPIPE"), and exit as a tool
        # ended by SIGPIPE does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE_STATUS


def configure_logging(settings: LoggingSettings, to_stderr: bool) -> None:
    """Send log records and Python warnings to the log file (and stderr when asked).

    Without a handler, Python prints library warnings (pypdf's) on stderr, which is
    the operator's screen for the command-line tools. A log file that cannot be
    opened is not fatal: logging then falls back to stderr.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler()] if to_stderr else []
    try:
        Path(settings.file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(settings.file, encoding="utf-8"))
    except OSError:
        handlers = handlers or [logging.StreamHandler()]
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "bureau_bot", False)]:  # a second main() in one process
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        handler.bureau_bot = True
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(settings.level)
    logging.captureWarnings(True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token in URLs


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one sub-command per operation."""
    common = argparse.ArgumentParser(add_help=False)
    # Its own destination, so that a sub-command's default never hides the global option.
    common.add_argument("--config", dest="command_config", type=Path, default=None, help=CONFIG_HELP)
    parser = argparse.ArgumentParser(prog="bureau-bot", description=DESCRIPTION)
    parser.add_argument("--config", dest="config", type=Path, default=None, help=CONFIG_HELP)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    search = commands.add_parser("search", parents=[common], help="print the top passages for a query")
    search.add_argument("query", help="the question; '-' reads one query per line from stdin (JSON lines out)")
    search.add_argument("-k", type=_positive, default=5, help="number of passages (default 5)")
    search.add_argument("--json", action="store_true", help="print a JSON list")
    search.set_defaults(command=_search)

    targets = commands.add_parser("targets", parents=[common], help="look up figures and targets by keyword")
    targets.add_argument("keyword", help="e.g. 保租房; '-' reads one keyword per line from stdin (JSON lines out)")
    targets.add_argument("--year", type=int, help="only figures about this year")
    targets.add_argument("--kind", choices=FIGURE_KINDS, help="only plans, achievements, rates or others")
    targets.add_argument("--limit", type=_positive, help="at most this many (default: all)")
    targets.add_argument("--json", action="store_true", help="print a JSON list")
    targets.set_defaults(command=_targets)

    reload = commands.add_parser("reload", parents=[common], help="ingest the corpus folder, print what changed")
    reload.add_argument("--json", action="store_true")
    reload.set_defaults(command=_reload)

    docs = commands.add_parser("docs", parents=[common], help="list the indexed documents")
    docs.add_argument("--json", action="store_true")
    docs.set_defaults(command=_docs)

    abbreviations = commands.add_parser(
        "abbreviations", parents=[common], help="list the abbreviations mined from the reports (加梯 -> 加装电梯)"
    )
    abbreviations.add_argument("words", nargs="*", help="only these short forms")
    abbreviations.add_argument("--json", action="store_true")
    abbreviations.set_defaults(command=_abbreviations)
    chat = commands.add_parser("chat", parents=[common], help="console chat with the bot's replies")
    chat.set_defaults(command=_chat)

    run = commands.add_parser("run", parents=[common], help="run the Telegram bot (long polling)")
    run.set_defaults(command=_run)

    evaluation = commands.add_parser("evaluate", parents=[common], help="recall@k and MRR on judged questions")
    evaluation.add_argument("questions", type=Path, help="JSON Lines file, e.g. ../shared/eval/dev.jsonl")
    evaluation.add_argument("--json", action="store_true")
    evaluation.set_defaults(command=_evaluate)

    extraction = commands.add_parser(
        "evaluate-targets", parents=[common], help="precision and recall of figure extraction on labelled sentences"
    )
    extraction.add_argument("labelled", type=Path, help="JSON Lines file, e.g. tests/data/figures.jsonl")
    extraction.add_argument("--json", action="store_true")
    extraction.set_defaults(command=_evaluate_targets)
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {value}")
    return number


def _open(config: BotConfig) -> Library:
    library = Library(config.index, workers=os.cpu_count() or 1)
    library.open()
    return library


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False, default=str))


def _search(args: argparse.Namespace, config: BotConfig) -> int:
    library = _open(config)
    if args.query == "-":
        for line in sys.stdin:
            query = line.strip()
            hits = library.search(query, args.k) if query else []
            _print_json([h.to_dict() for h in hits])
            sys.stdout.flush()
        return 0
    found = library.answer(args.query, args.k)
    hits = found.hits
    if args.json:
        _print_json([h.to_dict() for h in hits])
        return 0
    for note in reading_notes(found):
        print(f"（{note}）")
    if not hits:
        print("没有找到相关段落。")
    for hit in hits:
        passage = hit.passage
        where = "".join(f" · {part}" for part in (passage.place, f"{passage.year}年" if passage.year else None) if part)
        print(f"{hit.rank}. [{hit.score:.2f}] 《{passage.doc_title}》{where} ({passage.doc_id})")
        if passage.section:
            print(f"   {passage.section}")
        print(f"   {passage.text}\n")
    return 0


def _targets(args: argparse.Namespace, config: BotConfig) -> int:
    library = _open(config)

    def lookup(keyword: str) -> list:
        return library.targets(keyword, year=args.year, kind=args.kind, limit=args.limit) if keyword else []

    if args.keyword == "-":
        for line in sys.stdin:
            _print_json([r.to_dict() for r in lookup(line.strip())])
            sys.stdout.flush()
        return 0
    records = lookup(args.keyword.strip())
    if args.json:
        _print_json([r.to_dict() for r in records])
        return 0
    if not records:
        print("没有找到相关数字。")
    for number, record in enumerate(records, start=1):
        print(f"{number}. {html_to_text(render_target_line(record))}")
        print(f"   {record.sentence}")
    return 0


def _reload(args: argparse.Namespace, config: BotConfig) -> int:
    report = Library(config.index, workers=os.cpu_count() or 1).reload()
    if args.json:
        _print_json(report.to_dict())
    else:
        print(html_to_text(render_reload_report(report)))
    return 0


def _docs(args: argparse.Namespace, config: BotConfig) -> int:
    documents = _open(config).documents()
    if args.json:
        _print_json([d.to_dict() for d in documents])
        return 0
    title_sources = {"text": "", "style": "", "composed": "（据正文拟定）", "file": "（文件名）"}
    for d in documents:
        covered = "、".join(str(y) for y in d.years)
        year = f"{d.year}年{d.period or ''}" if d.year else "年份不详"
        if covered and covered != str(d.year):
            year += f"（涉及 {covered}）"
        fields = [
            d.id,
            f"《{d.title}》{title_sources.get(d.title_from, '')}",
            d.place or "地点不详",
            year,
            d.kind,
            f"{d.passages} 段",
            f"{d.figures} 个数字",
        ]
        if d.overridden:
            fields.append("已校正：" + "、".join(d.overridden))
        print("\t".join(fields))
    print(f"共 {len(documents)} 份文档；“已校正”的项取自 {OVERRIDES_FILE}，其余由正文推断")
    return 0


def _abbreviations(args: argparse.Namespace, config: BotConfig) -> int:
    table = _open(config).abbreviations(args.words)
    if args.json:
        _print_json({short: [{"term": e.term, "fit": round(e.fit, 3), "passages": e.frequency} for e in found]
                     for short, found in table})  # fmt: skip
        return 0
    for short, found in table:
        print(f"{short}\t" + "、".join(f"{e.term}（{e.fit:.2f}，{e.frequency} 段）" for e in found))
    if args.words and len(table) < len(args.words):
        listed = {short for short, _ in table}
        print(
            "不在表中："
            + "、".join(w for w in args.words if w not in listed)
            + "（报告里用到的词、或缩写不出报告中的词）"
        )
    print(f"共 {len(table)} 条；synonyms.txt 中列出的词按同义词查找，优先于此表")
    return 0


def _chat(args: argparse.Namespace, config: BotConfig) -> int:
    responder = Responder(_open(config), config.chat, config.telegram.max_question_chars)
    run_console(responder, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())
    return 0


def _run(args: argparse.Namespace, config: BotConfig) -> int:
    from telegram import Update

    from bot.telegram_app import build_application

    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        print(
            f"未设置环境变量 {TOKEN_ENV}，无法启动 Telegram 机器人。/ {TOKEN_ENV} is not set: "
            "export the token BotFather gave you and run again.",
            file=sys.stderr,
        )
        return 2
    problem = asyncio.run(_check_token(token, config))
    if problem:
        print(problem, file=sys.stderr)
        return 1
    library = Library(config.index, isolate_reloads=True)  # reloads must not hold up answers
    library.open()
    application = build_application(config, library, token)
    # New messages and button presses only: an edited old question is not asked again.
    application.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])
    return 0


async def _check_token(token: str, config: BotConfig) -> str | None:
    """Ask the Bot API who we are before starting; return a one-line problem, or None.

    Done apart from the application, whose own start-up would log a traceback (and
    the token) for a rejected token.
    """
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    try:
        async with Bot(token, base_url=config.telegram.base_url, base_file_url=config.telegram.base_file_url):
            return None
    except InvalidToken:
        return f"Telegram 拒绝了这个令牌，请检查 {TOKEN_ENV}。/ Telegram rejected the token in {TOKEN_ENV}."
    except NetworkError as error:
        return f"无法连接 Telegram 服务器（{config.telegram.base_url}）：{error} / Cannot reach the Bot API server."


def _evaluate(args: argparse.Namespace, config: BotConfig) -> int:
    library = _open(config)
    try:
        report = evaluate_retrieval(library, args.questions)
    except (OSError, ValueError) as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    summary = report.to_dict()
    if args.json:
        _print_json(summary)
        return 0
    print(f"questions: {summary['questions']}")
    for k, value in report.recall.items():
        print(f"recall@{k}: {value:.3f}")
    print(f"MRR@10: {report.mrr:.3f}")
    print("passage chars: " + ", ".join(f"{k}={v}" for k, v in report.passage_chars.items()))
    for miss in summary["misses"]:
        print(f"  not first: {miss['id']} {miss['question']} (first hit rank: {miss['first_hit_rank']})")
    return 0


def _evaluate_targets(args: argparse.Namespace, config: BotConfig) -> int:
    library = _open(config)
    try:
        summary = evaluate_figures(library, args.labelled).to_dict()
    except (OSError, ValueError) as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(summary)
        return 0
    for key in ("sentences", "labelled_figures", "predicted_figures", "matched", "precision", "recall"):
        print(f"{key}: {summary[key]}")
    for key in ("kind_accuracy", "year_accuracy", "value_accuracy", "qualifier_accuracy"):
        print(f"{key}: {summary[key]}")
    for label in ("misses", "spurious", "kind_errors", "year_errors"):
        for line in summary[label]:
            print(f"  {label}: {line}")
    return 0
