"""Every product module says what it offers: an explicit ``__all__``.

For ``gateway/`` and ``adapters/``: a module that defines a public name (no leading
underscore) declares ``__all__``; every name in it exists; and every name another product
module imports from it (``from gateway.x import name``) is in it, so the API one module uses
of another is the one that module declares. Definitions and imports are read with :mod:`ast`;
``__all__`` itself is read from the imported module (``gateway.domain.model`` builds its own
from its parts).
"""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from pathlib import Path

from tests.support.paths import REPO_ROOT

PRODUCT = ("gateway", "adapters")


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every module under ``packages`` of ``root``."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def public_definitions(path: Path) -> list[str]:
    """The public names a module binds at its top level itself (def, class, assignment;
    a module logger called ``log`` aside)."""
    names: list[str] = []
    for node in ast.parse(path.read_text("utf-8"), str(path)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return [n for n in names if not n.startswith("_") and n != "log"]


def imports_between(modules: dict[str, Path]) -> dict[str, set[tuple[str, str]]]:
    """Per module, the (name, importing module:line) of every ``from module import name``
    in another of ``modules`` (a submodule imported by name is not a name of the package)."""
    used: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for importer, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0):
                continue
            if node.module not in modules or node.module == importer:
                continue
            for alias in node.names:
                if alias.name != "*" and f"{node.module}.{alias.name}" not in modules:
                    used[node.module].add((alias.name, f"{importer}:{node.lineno}"))
    return used


def declared(module: str) -> list[str] | None:
    found = getattr(importlib.import_module(module), "__all__", None)
    return None if found is None else list(found)


MODULES = module_files(REPO_ROOT, PRODUCT)


def test_the_walk_finds_the_product() -> None:
    assert len(MODULES) > 100, "too few modules found: is the walk looking in the right place?"
    assert "gateway.decision.pipeline" in MODULES
    assert "adapters" in MODULES


def test_every_module_that_defines_a_public_name_declares_all() -> None:
    missing = [
        f"{module}: defines {', '.join(names[:5])}{'…' if len(names) > 5 else ''}"
        for module, path in MODULES.items()
        if (names := public_definitions(path)) and declared(module) is None
    ]
    assert missing == [], "modules without __all__:\n" + "\n".join(missing)


def test_every_name_in_all_exists() -> None:
    absent = [
        f"{module}.{name}"
        for module in MODULES
        for name in declared(module) or []
        if not hasattr(importlib.import_module(module), name)
    ]
    assert absent == []


def test_what_one_module_imports_of_another_is_in_its_all() -> None:
    undeclared = sorted(
        f"{where} imports {name} from {module}, which its __all__ does not list"
        for module, uses in imports_between(MODULES).items()
        for name, where in uses
        if name not in (declared(module) or [])
    )
    assert undeclared == [], "\n".join(undeclared)


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """Control: the walks find a public definition and an import between modules."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text(
        "import structlog\nlog = structlog.get_logger()\n_hidden = 1\nLIMIT = 2\n"
        "class Melding:\n    pass\nasync def handle() -> None:\n    pass\n"
    )
    (tmp_path / "pkg" / "b.py").write_text(
        "from pkg.a import Melding\nfrom pkg import a\n\ndef f():\n    from pkg.a import LIMIT\n"
    )
    modules = module_files(tmp_path, ("pkg",))
    assert sorted(modules) == ["pkg", "pkg.a", "pkg.b"]
    assert public_definitions(modules["pkg.a"]) == ["LIMIT", "Melding", "handle"]
    assert imports_between(modules) == {"pkg.a": {("Melding", "pkg.b:1"), ("LIMIT", "pkg.b:5")}}
