"""Python source the gateway writes at start from its definitions (a codec's parser and
composer, the inventory walk of a BerichtType), compiled once.

Every name such source uses for a value (a tag, a converter, a category set) is a constant of
its namespace, never text spliced into it, so nothing a definition or vocabulary file says
can change the code. The source is kept in :mod:`linecache` under its file name, so a
traceback through it shows its lines.
"""

from __future__ import annotations

import functools
import linecache
import re
from types import CodeType
from typing import Any

__all__ = ["Source"]

_NOT_NAME = re.compile(r"[^0-9A-Za-z_]")


class Source:
    """Lines of Python source being written, with the namespace of their constants."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {}
        self._names = 0

    def name(self, kind: str, label: str) -> str:
        """A new function name (never one given before): ``kind``, a number, and ``label``
        (a class name, say, read from a definition file) with every character that is not a
        letter, digit or underscore replaced, so it is always one identifier."""
        self._names += 1
        return f"{kind}_{self._names}_{_NOT_NAME.sub('_', label)[:60]}"

    def constant(self, value: Any) -> str:
        """A name in the source for ``value``."""
        name = f"k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def function(self, entry: str) -> Any:
        """The compiled function named ``entry`` of the lines written (all of them compiled
        as one module, kept in :mod:`linecache` under the file name)."""
        source = "\n".join(self.lines) + "\n"
        linecache.cache[self.filename] = (
            len(source),
            None,
            source.splitlines(True),
            self.filename,
        )
        exec(_compiled(source, self.filename), self.namespace)  # noqa: S102 - our own source
        return self.namespace[entry]


@functools.lru_cache(maxsize=1024)
def _compiled(source: str, filename: str) -> CodeType:
    """The code of ``source``, compiled once per process: the same definitions write the same
    source, whose names bind to each namespace's own constants when it is run, so a second
    catalogue of the same files (a gateway started again in one process, as tests do
    hundreds of times) compiles nothing again. Compiling is most of what preparing costs."""
    return compile(source, filename, "exec")
