"""Load ``config.toml`` into one typed :class:`BotConfig`.

Every setting has a default, so a file holding only some keys (or no file at all)
works. Relative paths, including a relative SQLite path in ``[storage] url``, resolve
against the folder of the config file. Unknown keys are errors, so a misspelt setting
is reported instead of silently ignored. Secrets (the bot token) never come from this
file: they are read from environment variables.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from index.ingest.passages import PassageLimits
from index.settings import IndexSettings, RankingSettings
from index.text.lexicon import LexiconPaths

DEFAULT_CONFIG = Path("config.toml")
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"


class ConfigError(Exception):
    """The config file is unreadable or holds an invalid setting (message says which)."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Corpus(_Section):
    dir: str = "corpus"
    removed_dir: str | None = None
    max_file_mb: float = Field(20, gt=0)


class _Storage(_Section):
    url: str = "sqlite:///data/bureau.db"


class _Lexicon(_Section):
    user_dict: str | None = None
    stopwords: str | None = None
    synonyms: str | None = None


class _Passages(_Section):
    min_chars: int = Field(60, gt=0)
    target_chars: int = Field(300, gt=0)
    max_chars: int = Field(500, gt=0)


class _Search(_Section):
    variant: str = "lucene"
    k1: float = 1.2
    b: float = 0.75
    delta: float = 1.0
    min_coverage: float = 0.45


class _Chat(_Section):
    answer_passages: int = Field(3, ge=1, le=10)
    excerpt_chars: int = Field(220, ge=60, le=1000)


class _Telegram(_Section):
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    admins: list[int] = []
    allowed_users: list[int] = []
    allowed_chats: list[int] = []
    open: bool = False
    rate_limit_per_minute: int = Field(20, ge=0)
    max_question_chars: int = Field(500, ge=10, le=4000)
    max_upload_mb: float = Field(20, gt=0, le=2000)
    notify_admins_on_error: bool = True


class _History(_Section):
    retention_days: int = Field(180, ge=1)
    timezone: str = "Asia/Shanghai"


class _File(_Section):
    corpus: _Corpus = _Corpus()
    storage: _Storage = _Storage()
    lexicon: _Lexicon = _Lexicon()
    passages: _Passages = _Passages()
    search: _Search = _Search()
    chat: _Chat = _Chat()
    telegram: _Telegram = _Telegram()
    history: _History = _History()


@dataclass(frozen=True)
class ChatSettings:
    """How answers are rendered.

    Attributes:
        answer_passages: passages shown per answer (top-k).
        excerpt_chars: longer passages are trimmed to about this many characters
            around the matched words.
    """

    answer_passages: int = 3
    excerpt_chars: int = 220


@dataclass(frozen=True)
class TelegramSettings:
    """The Telegram front end. The token is not here: it is read from ``TELEGRAM_BOT_TOKEN``.

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
        max_upload_mb: larger uploaded reports are refused (the public Bot API
            serves files up to 20 MB).
        notify_admins_on_error: send admins the details of a failed update.
    """

    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    admins: frozenset[int] = frozenset()
    allowed_users: frozenset[int] = frozenset()
    allowed_chats: frozenset[int] = frozenset()
    open: bool = False
    rate_limit_per_minute: int = 20
    max_question_chars: int = 500
    max_upload_mb: float = 20
    notify_admins_on_error: bool = True


@dataclass(frozen=True)
class HistorySettings:
    """Question and feedback log.

    Attributes:
        retention_days: questions and feedback older than this are deleted.
        timezone: IANA name of the zone "today" is counted in by /stats.
    """

    retention_days: int = 180
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class BotConfig:
    """All settings, loaded once and passed in."""

    index: IndexSettings
    chat: ChatSettings = field(default_factory=ChatSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
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
            return _build(_File(), Path.cwd(), None)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"配置文件不存在：{path}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"无法读取配置文件 {path}：{error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"配置文件 {path} 不是有效的 TOML：{error}") from error
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(f"[{'.'.join(str(p) for p in e['loc'])}] {e['msg']}" for e in error.errors())
        raise ConfigError(f"配置文件 {path} 有误：{problems}") from error
    return _build(parsed, path.resolve().parent, path)


def _build(parsed: _File, base: Path, source: Path | None) -> BotConfig:
    def resolve(value: str) -> Path:
        return (base / Path(value).expanduser()).resolve()

    defaults = LexiconPaths()
    lexicon = LexiconPaths(
        user_dict=resolve(parsed.lexicon.user_dict) if parsed.lexicon.user_dict else defaults.user_dict,
        stopwords=resolve(parsed.lexicon.stopwords) if parsed.lexicon.stopwords else defaults.stopwords,
        synonyms=resolve(parsed.lexicon.synonyms) if parsed.lexicon.synonyms else defaults.synonyms,
    )
    try:
        ranking = RankingSettings(**parsed.search.model_dump())
        limits = PassageLimits(**parsed.passages.model_dump())
    except ValueError as error:
        raise ConfigError(f"配置有误：{error}") from error
    corpus_dir = resolve(parsed.corpus.dir)
    try:
        ZoneInfo(parsed.history.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"[history] timezone 不是有效的时区名称：{parsed.history.timezone}") from error
    index = IndexSettings(
        corpus_dir=corpus_dir,
        removed_dir=resolve(parsed.corpus.removed_dir) if parsed.corpus.removed_dir else corpus_dir / ".removed",
        storage_url=_resolve_storage_url(parsed.storage.url, base),
        max_file_bytes=int(parsed.corpus.max_file_mb * 1024 * 1024),
        lexicon=lexicon,
        ranking=ranking,
        passage_limits=limits,
    )
    return BotConfig(
        index=index,
        chat=ChatSettings(**parsed.chat.model_dump()),
        telegram=TelegramSettings(
            **{
                **parsed.telegram.model_dump(),
                "admins": frozenset(parsed.telegram.admins),
                "allowed_users": frozenset(parsed.telegram.allowed_users),
                "allowed_chats": frozenset(parsed.telegram.allowed_chats),
            }
        ),
        history=HistorySettings(**parsed.history.model_dump()),
        source=source,
    )


def _resolve_storage_url(url: str, base: Path) -> str:
    """Make a relative SQLite file path absolute against ``base``; other URLs pass."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ConfigError(f"[storage] url 不是有效的数据库地址：{url}") from error
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    path = Path(database).expanduser()
    if not path.is_absolute():
        path = (base / path).resolve()
    return parsed.set(database=str(path)).render_as_string(hide_password=False)
