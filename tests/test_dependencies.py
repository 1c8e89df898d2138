"""Every third-party package the code imports is declared in ``pyproject.toml``, with bounds."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
FIRST_PARTY = {"bot", "cogs", "core", "tests", "benchmarks", "training"}


def _imported_top_levels(*folders: str) -> set[str]:
    names: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return names - FIRST_PARTY - set(sys.stdlib_module_names) - {"__future__"}


def _declared(requirements: list[str]) -> dict[str, str]:
    """Normalised distribution name -> its requirement line."""
    declared = {}
    for line in requirements:
        name = re.split(r"[<>=!~\[ ;]", line, maxsplit=1)[0]
        declared[re.sub(r"[-_.]+", "-", name).lower()] = line
    return declared


def _distributions(module: str) -> set[str]:
    """The distributions that install ``module``; for one not installed here (an optional bench
    package), the module's own name, which is the distribution's name for those we use."""
    names = importlib.metadata.packages_distributions().get(module) or [module]
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names}


def test_every_package_the_bot_imports_is_a_declared_dependency() -> None:
    declared = _declared(PYPROJECT["dependencies"])

    missing = {module for module in _imported_top_levels("bot", "cogs", "core")
               if not _distributions(module) & declared.keys()}

    assert missing == set()


def test_every_package_tests_and_benchmarks_import_is_declared_somewhere() -> None:
    extras = PYPROJECT["optional-dependencies"]
    declared = _declared([*PYPROJECT["dependencies"], *extras["test"], *extras["bench"]])

    missing = {module for module in _imported_top_levels("tests", "benchmarks")
               if not _distributions(module) & declared.keys()}

    assert missing == set()


def test_every_runtime_dependency_has_a_lower_bound_and_all_but_calendar_versions_an_upper_one() -> None:
    for line in PYPROJECT["dependencies"]:
        assert ">=" in line, line
        assert "<" in line or line.startswith(("certifi", "tzdata")), line  # calendar-versioned


def test_every_package_the_training_scripts_import_is_declared() -> None:
    extras = PYPROJECT["optional-dependencies"]
    declared = _declared([*PYPROJECT["dependencies"], *extras["train"]])

    missing = {module for module in _imported_top_levels("training")
               if not _distributions(module) & declared.keys()}

    assert missing == set()
