"""No two classes share a name across the product (``gateway/`` and ``adapters/``), issue 11.

A name is read as one thing wherever it stands: two classes called ``Levering`` (a store row
and a pipeline decision) make every import and every log line ambiguous. The walk uses
``ast``, so nested classes and classes defined under ``if TYPE_CHECKING`` count too.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.support.paths import REPO_ROOT

PRODUCT = ("gateway", "adapters")


def class_places(root: Path, packages: tuple[str, ...]) -> dict[str, list[str]]:
    """Every class name under ``packages`` of ``root`` and where it is defined (path:line)."""
    places: dict[str, list[str]] = defaultdict(list)
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    places[node.name].append(f"{path.relative_to(root)}:{node.lineno}")
    return places


def shared_names(places: dict[str, list[str]]) -> dict[str, list[str]]:
    """The names defined more than once, with their places."""
    return {name: where for name, where in sorted(places.items()) if len(where) > 1}


def test_no_two_product_classes_share_a_name() -> None:
    places = class_places(REPO_ROOT, PRODUCT)
    assert len(places) > 100, "the walk found too few classes: is it looking in the right place?"
    shared = shared_names(places)
    listing = "\n".join(f"{name}: {', '.join(where)}" for name, where in shared.items())
    assert not shared, f"class names defined more than once:\n{listing}"


def test_the_walk_finds_a_shared_name(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two" / "deep").mkdir(parents=True)
    (tmp_path / "one" / "a.py").write_text("class Melding:\n    class Kop:\n        pass\n")
    (tmp_path / "two" / "deep" / "b.py").write_text("if True:\n    class Melding:\n        pass\n")
    (tmp_path / "two" / "c.py").write_text("class Kop2:\n    pass\n")
    shared = shared_names(class_places(tmp_path, ("one", "two")))
    assert shared == {"Melding": ["one/a.py:1", "two/deep/b.py:2"]}
