"""Load ``config.toml`` into one typed :class:`BotConfig`.

Each ``[section]`` of the file is one frozen dataclass below (or, for ``[search]`` and
``[passages]``, the index's own settings class); its field defaults are the only place
a default is written. Every key is optional, so a file holding only some keys (or no
file at all) works. Relative paths, including a relative SQLite path in a storage URL,
resolve against the folder of the config file. Unknown keys are errors that name the
nearest valid key, so a misspelt setting is reported instead of silently ignored.
Secrets (the bot token) never come from this file: they are read from environment
variables.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, ValidationError, create_model
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from index.api import DEFAULT_MAX_FILE_BYTES, MEGABYTE, IndexSettings, LexiconPaths, PassageLimits, RankingSettings

DEFAULT_CONFIG = Path("config.toml")
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"


class ConfigError(Exception):
    """The config file is unreadable or holds an invalid setting (message says which)."""


@dataclass(frozen=True)
class CorpusSection:
    """``[corpus]``: where the report files are.

    Attributes:
        dir: folder of report files, searched recursively.
        removed_dir: where removed and replaced files are moved; None means
            ``.removed`` inside ``dir``.
        max_file_mb: report files (and uploads) larger than this are refused.
    """

    dir: str = "corpus"
    removed_dir: str | None = None
    max_file_mb: Annotated[float, Field(gt=0)] = DEFAULT_MAX_FILE_BYTES / MEGABYTE


@dataclass(frozen=True)
class StorageSection:
    """``[storage]``: the SQLAlchemy URL of the index store."""

    url: str = "sqlite:///data/bureau.db"


@dataclass(frozen=True)
class LexiconSection:
    """``[lexicon]``: word list files; None means the bundled ones."""

    user_dict: str | None = None
    stopwords: str | None = None
    synonyms: str | None = None


@dataclass(frozen=True)
class ChatSettings:
    """``[chat]``: how answers are rendered.

    Attributes:
        answer_passages: passages shown per answer page (top-k), 1-10.
        excerpt_chars: longer passages are trimmed to about this many characters
            around the matched words, 60-1000.
    """

    answer_passages: Annotated[int, Field(ge=1, le=10)] = 3
    excerpt_chars: Annotated[int, Field(ge=60, le=1000)] = 220


@dataclass(frozen=True)
class TelegramSettings:
    """``[telegram]``: the Telegram front end. The token is not here: it is read from
    ``TELEGRAM_BOT_TOKEN``.

    Attributes:
        base_url, base_file_url: Bot API endpoints (a self-hosted server's, if any).
        admins: user ids that may reload, upload, remove and see statistics; they may
            always ask questions.
        allowed_users: user ids that may ask questions.
        allowed_chats: group ids whose members may ask questions there.
        open: answer everyone. With ``open`` false and empty allow-lists only admins
            are answered (private mode).
        rate_limit_per_minute: questions a user may ask per minute; 0 for no limit.
        max_question_chars: longer questions are refused with an explanation.
        notify_admins_on_error: send admins the details of a failed update.
    """

    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    admins: frozenset[int] = frozenset()
    allowed_users: frozenset[int] = frozenset()
    allowed_chats: frozenset[int] = frozenset()
    open: bool = False
    rate_limit_per_minute: Annotated[int, Field(ge=0)] = 20
    max_question_chars: Annotated[int, Field(ge=10, le=4000)] = 500
    notify_admins_on_error: bool = True


@dataclass(frozen=True)
class HistorySettings:
    """``[history]``: the question and feedback log.

    Attributes:
        url: SQLAlchemy URL of the log's own database (apart from the index store,
            so a reload writing the index never holds up the logging of a question).
        retention_days: questions and feedback older than this are deleted.
        timezone: IANA name of the zone "today" is counted in by /stats.
    """

    url: str = "sqlite:///data/history.db"
    retention_days: Annotated[int, Field(ge=1)] = 180
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class LoggingSettings:
    """``[logging]``: where diagnostics go.

    Attributes:
        file: log file of the command-line tools (reload, search, …): library warnings
            (pypdf's on odd PDFs, for one) go there, not onto the operator's screen.
            ``bureau-bot run`` logs to stderr as well, for journald.
        level: DEBUG, INFO, WARNING or ERROR.
    """

    file: str = "data/bureau-bot.log"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


# The file's sections, in the order config.toml documents them.
SECTIONS: dict[str, type] = {
    "corpus": CorpusSection,
    "storage": StorageSection,
    "lexicon": LexiconSection,
    "passages": PassageLimits,
    "search": RankingSettings,
    "chat": ChatSettings,
    "telegram": TelegramSettings,
    "history": HistorySettings,
    "logging": LoggingSettings,
}


@dataclass(frozen=True)
class BotConfig:
    """All settings, loaded once and passed in."""

    index: IndexSettings
    chat: ChatSettings = field(default_factory=ChatSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    source: Path | None = None


def load_config(path: Path | None = None) -> BotConfig:
    """Read a config file.

    Args:
        path: the file; None means ``./config.toml`` if it exists, else all defaults
            relative to the current folder.

    Raises:
        ConfigError: the file named explicitly does not exist, is not valid TOML, or a
            setting has a wrong name, type or value.
    """
    if path is None:
        path = DEFAULT_CONFIG
        if not path.exists():
            return _build({}, Path.cwd(), None, "defaults")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"配置文件不存在：{path}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"无法读取配置文件 {path}：{error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"配置文件 {path} 不是有效的 TOML：{error}") from error
    return _build(raw, path.resolve().parent, path, str(path))


def _build(raw: dict[str, Any], base: Path, source: Path | None, shown: str) -> BotConfig:
    unknown = [name for name in raw if name not in SECTIONS]
    if unknown:
        raise ConfigError(f"配置文件 {shown} 有误：{_unknown_key(unknown[0], list(SECTIONS))}")
    sections = {name: _section(name, cls, raw.get(name, {}), shown) for name, cls in SECTIONS.items()}

    def resolve(value: str) -> Path:
        return (base / Path(value).expanduser()).resolve()

    corpus: CorpusSection = sections["corpus"]
    words: LexiconSection = sections["lexicon"]
    defaults = LexiconPaths()
    lexicon = LexiconPaths(
        user_dict=resolve(words.user_dict) if words.user_dict else defaults.user_dict,
        stopwords=resolve(words.stopwords) if words.stopwords else defaults.stopwords,
        synonyms=resolve(words.synonyms) if words.synonyms else defaults.synonyms,
    )
    history: HistorySettings = sections["history"]
    try:
        ZoneInfo(history.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"[history] timezone 不是有效的时区名称：{history.timezone}") from error
    corpus_dir = resolve(corpus.dir)
    index = IndexSettings(
        corpus_dir=corpus_dir,
        removed_dir=resolve(corpus.removed_dir) if corpus.removed_dir else corpus_dir / ".removed",
        storage_url=resolve_storage_url(sections["storage"].url, base, "storage"),
        max_file_bytes=int(corpus.max_file_mb * MEGABYTE),
        lexicon=lexicon,
        ranking=sections["search"],
        passage_limits=sections["passages"],
    )
    return BotConfig(
        index=index,
        chat=sections["chat"],
        telegram=sections["telegram"],
        history=dataclasses.replace(history, url=resolve_storage_url(history.url, base, "history")),
        logging=dataclasses.replace(sections["logging"], file=str(resolve(sections["logging"].file))),
        source=source,
    )


def _section(name: str, cls: type, values: Any, shown: str) -> Any:
    """Validate one ``[section]`` against its dataclass and return an instance."""
    if not isinstance(values, dict):
        raise ConfigError(f"配置文件 {shown} 有误：[{name}] 应是一个节（section）/ must be a table")
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {f.name: (hints[f.name], f.default) for f in dataclasses.fields(cls)}
    model = create_model(f"{cls.__name__}File", __config__=ConfigDict(extra="forbid"), **fields)
    try:
        checked = model.model_validate(values)
        return cls(**{key: getattr(checked, key) for key in fields})
    except ValidationError as error:
        problems = "；".join(_describe(name, e, list(fields)) for e in error.errors())
        raise ConfigError(f"配置文件 {shown} 有误：{problems}") from error
    except ValueError as error:  # the settings class's own checks (__post_init__)
        raise ConfigError(f"配置文件 {shown} 有误：[{name}] {error}") from error


_MESSAGES = {
    "missing": "缺少必填项 / missing",
    "int_parsing": "应为整数 / must be a whole number",
    "int_type": "应为整数 / must be a whole number",
    "int_from_float": "应为整数 / must be a whole number",
    "float_parsing": "应为数字 / must be a number",
    "float_type": "应为数字 / must be a number",
    "bool_parsing": "应为 true 或 false / must be true or false",
    "bool_type": "应为 true 或 false / must be true or false",
    "string_type": "应为带引号的文字 / must be a quoted string",
    "list_type": "应为列表，如 [1, 2] / must be a list such as [1, 2]",
    "frozen_set_type": "应为列表，如 [1, 2] / must be a list such as [1, 2]",
}


def _describe(section: str, error: dict, keys: list[str]) -> str:
    location = ".".join(str(part) for part in (section, *error["loc"]))
    if error["type"] == "extra_forbidden":
        return _unknown_key(location, [f"{section}.{key}" for key in keys])
    context = error.get("ctx", {})
    bounds = {
        "greater_than": f"应大于 {context.get('gt')} / must be greater than {context.get('gt')}",
        "greater_than_equal": f"应不小于 {context.get('ge')} / must be at least {context.get('ge')}",
        "less_than": f"应小于 {context.get('lt')} / must be less than {context.get('lt')}",
        "less_than_equal": f"应不大于 {context.get('le')} / must be at most {context.get('le')}",
    }
    message = bounds.get(error["type"]) or _MESSAGES.get(error["type"]) or error["msg"]
    return f"[{location}] {message}"


def _unknown_key(location: str, valid: list[str]) -> str:
    """Say that a key is unknown, in Chinese and English, with the nearest valid key
    (compared by the last part of the name, so a section's prefix does not count)."""
    by_name = {key.rsplit(".", 1)[-1]: key for key in valid}
    close = difflib.get_close_matches(location.rsplit(".", 1)[-1], list(by_name), n=1, cutoff=0.6)
    if not close:
        return f"[{location}] 没有这个设置项 / unknown setting"
    nearest = by_name[close[0]].rsplit(".", 1)[-1]
    return f"[{location}] 没有这个设置项，是否想写 {nearest}？/ unknown setting, did you mean {nearest}?"


def resolve_storage_url(url: str, base: Path, section: str) -> str:
    """Make a relative SQLite file path absolute against ``base``; other URLs pass.

    Raises:
        ConfigError: ``url`` is not a database URL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ConfigError(f"[{section}] url 不是有效的数据库地址：{url}") from error
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    path = Path(database).expanduser()
    if not path.is_absolute():
        path = (base / path).resolve()
    return parsed.set(database=str(path)).render_as_string(hide_password=False)
