"""The tests mirror the code and share helpers through ``tests/support`` only.

Read with :mod:`ast` (nothing is imported): no test module imports another test module or the
conftest; ``tests/conftest.py`` holds fixtures and hooks only; the shared helpers exist once;
``tests/unit/<pkg>`` and ``tests/integration/<pkg>`` are named after a package of the code.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

TESTS = REPO_ROOT / "tests"
SHARED = ("replace_once", "line_of", "collect", "fresh", "take", "drain", "split", "eventually")


def modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if ".venv" not in p.parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, at any depth (function-level ones too)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_no_test_module_imports_another_test_module_or_the_conftest() -> None:
    offending = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {module}"
        for path in modules()
        for line, module in imported(path)
        if (module == "tests" or module.startswith("tests."))
        and not (module == "tests.support" or module.startswith("tests.support."))
    ]
    assert offending == []


def test_the_check_sees_a_test_module_import(tmp_path: Path) -> None:
    """Control: an import of another test module (even inside a function) is found."""
    sample = tmp_path / "test_sample.py"
    sample.write_text("def test_x():\n    from tests.system.test_restart import started\n")
    assert imported(sample) == [(2, "tests.system.test_restart")]


def test_conftest_holds_fixtures_and_hooks_only() -> None:
    tree = ast.parse((TESTS / "conftest.py").read_text("utf-8"))
    others = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            others.append(f"class {node.name}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            fixture = any("fixture" in ast.unparse(d) for d in node.decorator_list)
            if not fixture and not node.name.startswith("pytest_"):
                others.append(f"def {node.name}")
    assert others == [], "helpers belong in tests/support/"


def test_shared_helpers_are_defined_once_in_support() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for path in modules():
        for node in ast.parse(path.read_text("utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in SHARED:
                where[node.name].append(str(path.relative_to(TESTS)))
    for name in SHARED:
        assert len(where[name]) == 1, f"{name}: {where[name]}"
        assert where[name][0].startswith("support/"), f"{name}: {where[name]}"


@pytest.mark.parametrize("kind", ["unit", "integration"])
def test_test_packages_are_named_after_code_packages(kind: str) -> None:
    code = {p.name for p in (REPO_ROOT / "gateway").iterdir() if (p / "__init__.py").exists()}
    code.add("adapters")
    tested = {p.name for p in (TESTS / kind).iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert tested, kind
    assert tested <= code, sorted(tested - code)


def test_slow_tests_are_marked() -> None:
    """The crash, restart and scale-out suites carry the registered ``slow`` marker."""
    for name in ("test_crash.py", "test_restart.py", "test_scale_out.py", "test_audit_crash.py"):
        text = (TESTS / "system" / name).read_text("utf-8")
        assert "pytest.mark.slow" in text, name
