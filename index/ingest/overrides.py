"""An admin's corrections of what the text says about a report: ``metadata.toml``.

One TOML table per report file in the corpus folder, named by its path there::

    ["10_xxcounty_2024_report.txt"]
    title = "某县自建房安全专项整治工作汇报"
    place = "某县"
    year = 2024          # the year reported on
    years = [2024]       # every year it covers
    period = "上半年"
    kind = "进展"        # 总结 / 计划 / 讲话 / 进展 / 新闻 / 其他

Every key is optional; what is set replaces what was inferred, and ``docs`` shows which
values were set. A reload applies changes to this file (only the reports whose entry
changed are parsed again). A bad entry or key is reported with the reload and left out;
it never stops the reload.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from index.ingest.corpus_files import METADATA_FILE, FailedDocument
from index.ingest.metadata import KINDS

OVERRIDES_FILE = METADATA_FILE
_TYPES = {"title": str, "place": str, "year": int, "years": list, "period": str, "kind": str}


def load_overrides(corpus_dir: Path, doc_ids: set[str]) -> tuple[dict[str, dict], list[FailedDocument]]:
    """Return (doc id -> its valid settings, problems found) from ``metadata.toml``.

    A missing file means no settings. Problems name the entry and the key, in Chinese.
    """
    path = corpus_dir / OVERRIDES_FILE
    if not path.exists():
        return {}, []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return {}, [FailedDocument(OVERRIDES_FILE, f"无法读取报告信息文件，本次未使用：{error}")]
    settings: dict[str, dict] = {}
    problems: list[FailedDocument] = []
    for doc_id, entry in raw.items():
        if not isinstance(entry, dict):
            problems.append(FailedDocument(OVERRIDES_FILE, f"[{doc_id}] 应是一个表：['文件名'] 一行，下面逐行写设置"))
            continue
        if doc_id not in doc_ids:
            problems.append(FailedDocument(OVERRIDES_FILE, f"[{doc_id}] 语料目录中没有这个文件，已忽略"))
            continue
        valid = {}
        for key, value in entry.items():
            problem = _problem(key, value)
            if problem:
                problems.append(FailedDocument(OVERRIDES_FILE, f"[{doc_id}] {key}：{problem}，已忽略"))
            else:
                valid[key] = sorted(value) if key == "years" else value
        if valid:
            settings[doc_id] = valid
    return settings, problems


def fingerprint(settings: dict | None) -> str:
    """Return the canonical JSON of one report's settings ("" for none), as stored."""
    return json.dumps(settings, ensure_ascii=False, sort_keys=True) if settings else ""


def _problem(key: str, value) -> str | None:
    if key not in _TYPES:
        return f"没有这个设置项（可用：{', '.join(_TYPES)}）"
    if not isinstance(value, _TYPES[key]) or isinstance(value, bool):
        return "类型不对，应为" + {str: "文字", int: "年份数字", list: "年份列表"}[_TYPES[key]]
    if key == "kind" and value not in KINDS:
        return f"应为 {' / '.join(KINDS)} 之一"
    if key == "year" and not 1900 <= value <= 2099:
        return "应为四位年份"
    if key == "years" and not all(isinstance(y, int) and 1900 <= y <= 2099 for y in value):
        return "应为四位年份的列表，如 [2022, 2023]"
    if isinstance(value, str) and not value.strip():
        return "不能为空"
    return None
