"""Loading config.toml: defaults, partial files, relative paths, errors."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from bot.config import SECTIONS, ConfigError, TelegramSettings, load_config
from index.api import LexiconPaths
from tests.conftest import PROJECT_DIR


def test_access_settings(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        "[telegram]\nadmins = [900]\nallowed_users = [1001, 1002]\nallowed_chats = [-100500]\n"
        "rate_limit_per_minute = 0\n[history]\nretention_days = 30\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.telegram.admins == {900} and config.telegram.allowed_users == {1001, 1002}
    assert config.telegram.allowed_chats == {-100500} and not config.telegram.open
    assert config.telegram.rate_limit_per_minute == 0 and config.history.retention_days == 30
    assert config.index.removed_folder == tmp_path / "corpus" / ".removed"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[telegram]\nadmins = ['张三']\n", r"\[telegram.admins.0\]"),
        ("[history]\ntimezone = 'Mars/Olympus'\n", "时区"),
        ("[telegram]\nmax_question_chars = 5\n", r"\[telegram.max_question_chars\]"),
    ],
)
def test_bad_access_settings_are_named(tmp_path, content, message):
    path = tmp_path / "config.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_bundled_config_documents_every_setting_with_its_default():
    text = (PROJECT_DIR / "config.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    assert list(raw) == list(SECTIONS)
    for name, cls in SECTIONS.items():
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        for key, value in raw[name].items():
            expected = defaults[key]
            assert value == (list(expected) if isinstance(expected, frozenset) else expected), f"[{name}] {key}"
        for key in set(defaults) - set(raw[name]):  # optional paths are shown commented out
            assert re.search(rf"^# {key} = ", text, re.MULTILINE), f"[{name}] {key} is not documented"
    bundled = load_config(PROJECT_DIR / "config.toml")
    assert bundled.index.corpus_dir == PROJECT_DIR / "corpus"
    assert bundled.index.storage_url == f"sqlite:///{PROJECT_DIR / 'data' / 'bureau.db'}"
    assert bundled.history.url == f"sqlite:///{PROJECT_DIR / 'data' / 'history.db'}"
    assert bundled.index.lexicon == LexiconPaths()
    assert bundled.telegram == TelegramSettings()


def test_misspelt_key_names_the_nearest_one_in_both_languages(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[corpus]\ndirr = "reports"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "[corpus.dirr]" in message and "没有这个设置项" in message and "did you mean dir?" in message
    assert "\n" not in message


def test_partial_config_resolves_relative_paths_against_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "deploy"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text('[corpus]\ndir = "reports"\n[telegram]\nbase_url = "http://127.0.0.1:8081/bot"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    config = load_config(path)
    assert config.index.corpus_dir == folder / "reports"
    assert config.index.storage_url == f"sqlite:///{folder / 'data' / 'bureau.db'}"
    assert config.telegram.base_url == "http://127.0.0.1:8081/bot"
    assert config.telegram.base_file_url == "https://api.telegram.org/file/bot"


def test_absolute_and_non_sqlite_urls_pass_through(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[storage]\nurl = "sqlite:////srv/bot/bureau.db"\n', encoding="utf-8")
    assert load_config(path).index.storage_url == "sqlite:////srv/bot/bureau.db"
    path.write_text('[storage]\nurl = "postgresql://bot@localhost/bureau"\n', encoding="utf-8")
    assert load_config(path).index.storage_url == "postgresql://bot@localhost/bureau"


def test_missing_default_config_means_all_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert config.index.corpus_dir == tmp_path / "corpus"
    assert config.source is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[search]\nk1 = 'fast'\n", r"\[search.k1\]"),
        ("[search]\nvariant = 'bm99'\n", "lucene, okapi, plus, l"),
        ("[telegram]\ntoken = 'x'\n", r"\[telegram.token\]"),
        ("[corpus\ndir = 1\n", "不是有效的 TOML"),
        ("[passages]\nmin_chars = 400\n", "min_chars"),
    ],
)
def test_bad_settings_are_named(tmp_path, content, message):
    path = tmp_path / "config.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_explicit_missing_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="配置文件不存在"):
        load_config(Path(tmp_path / "nope.toml"))
