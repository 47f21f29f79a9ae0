"""The seam between the halves: bot/ enters index/ through index.api only, and index/
knows nothing of bot/ or Telegram."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tests.conftest import PROJECT_DIR


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code (lazy imports included)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_bot_imports_only_the_door_of_the_index():
    strays = {
        f"{path.relative_to(PROJECT_DIR)}: {module}"
        for path in (PROJECT_DIR / "bot").rglob("*.py")
        for module in imported_modules(path)
        if (module == "index" or module.startswith("index.")) and module != "index.api"
    }
    assert strays == set()


def test_index_knows_nothing_of_the_front_ends():
    strays = {
        f"{path.relative_to(PROJECT_DIR)}: {module}"
        for path in (PROJECT_DIR / "index").rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in ("bot", "telegram")
    }
    assert strays == set()


def test_no_module_shadows_the_standard_library():
    names = {path.stem for path in (PROJECT_DIR / "index").rglob("*.py")} | {
        path.stem for path in (PROJECT_DIR / "bot").rglob("*.py")
    }
    assert names & set(sys.stdlib_module_names) == set()
