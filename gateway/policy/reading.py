"""Reading one policy file: YAML with the line of every node, validated against its schema;
any problem is a :class:`PolicyError` naming the file, the line and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gateway.domain.errors import Misconfigured
from gateway.domain.yamlfile import SAFE_LOADER
from gateway.policy.files import CONDITIE_BRANCHES

__all__ = [
    "Lines",
    "PolicyError",
    "line_of",
    "parse_file",
    "read_yaml",
]

# The line of every node of a file, by its path of keys and indexes.
Lines = dict[tuple[Any, ...], int]


class PolicyError(Misconfigured):
    """A policy file is wrong: names file, line and problem."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.file = file
        self.line = line
        self.problem = problem
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {problem}")


def read_yaml(path: Path) -> tuple[Any, Lines]:
    """The data of a YAML file and the line of every node, by its path of keys/indexes."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(path.name, None, f"cannot read: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        # what is wrong and where in the line, without the loader's name for the text
        context = getattr(exc, "context", None)
        problem = getattr(exc, "problem", None) or str(exc)
        column = f" (column {mark.column + 1})" if mark is not None else ""
        said = f"{context}: {problem}" if context else problem
        raise PolicyError(path.name, line, f"not valid YAML: {said}{column}") from None
    if root is None:
        raise PolicyError(path.name, 1, "the file is empty")
    lines: Lines = {}
    constructor = yaml.constructor.SafeConstructor()

    def build(node: yaml.Node, where: tuple[Any, ...]) -> Any:
        lines[where] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if key in result:
                    raise PolicyError(path.name, key_node.start_mark.line + 1, f"{key!r} twice")
                result[key] = build(value_node, (*where, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*where, i)) for i, item in enumerate(node.value)]
        return constructor.construct_object(node, deep=True)

    return build(root, ()), lines


def line_of(lines: Lines, where: tuple[Any, ...]) -> int | None:
    for end in range(len(where), -1, -1):
        if where[:end] in lines:
            return lines[where[:end]]
    return None


M = TypeVar("M", bound=BaseModel)


def parse_file(model: type[M], path: Path) -> tuple[M, Lines]:
    data, lines = read_yaml(path)
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        errors = exc.errors()
        # of a union's branches, the one that matched the keys and failed on a value says
        # most (a condition {veld, is, in} is no DoelConditie missing `doel`)
        error = next(
            (e for e in errors if e["type"] not in ("missing", "extra_forbidden")), errors[0]
        )
        where = tuple(error["loc"])
        # pydantic reports the branch of a union it tried (e.g. 'DoelConditie'); drop it.
        shown = ".".join(str(p) for p in where if p not in CONDITIE_BRANCHES)
        raise PolicyError(
            path.name, line_of(lines, where), f"{shown or 'file'}: {error['msg']}"
        ) from None
