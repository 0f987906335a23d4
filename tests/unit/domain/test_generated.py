"""``Source``: generated functions are named as identifiers whatever a definition file calls
a class, take values only as constants, and keep their lines for tracebacks."""

from __future__ import annotations

import linecache
import traceback

import pytest

from gateway.domain import generated
from gateway.domain.generated import Source


@pytest.mark.parametrize(
    "label",
    ["Gewoon", "X(): pass\nimport os\ndef y", "Één Melding", "a" * 500, ""],
)
def test_a_function_name_is_one_identifier_whatever_the_label(label: str) -> None:
    source = Source(f"<test {label[:10]!r}>")
    name = source.name("walk", label)
    assert name.isidentifier()
    source.lines += [f"def {name}():", f"    return {source.constant(label)}", ""]
    assert source.function(name)() == label  # the label itself reached it only as a value


def test_the_lines_are_kept_for_tracebacks() -> None:
    source = Source("<test traceback>")
    name = source.name("fail", "Deel")
    source.lines += [f"def {name}(x):", "    return 1 // x", ""]
    function = source.function(name)
    with pytest.raises(ZeroDivisionError) as caught:
        function(0)
    frame = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert frame.filename == "<test traceback>"
    assert frame.line == "return 1 // x"
    assert linecache.getline("<test traceback>", 1).startswith(f"def {name}(x):")


def test_names_are_never_given_twice() -> None:
    source = Source("<test names>")
    names = [source.name("walk", "Zelfde") for _ in range(3)]
    assert len(set(names)) == 3


def test_the_same_source_is_compiled_once_and_binds_each_namespaces_constants() -> None:
    """A second catalogue of the same definitions writes the same source: it is compiled
    once per process, and each function still returns its own namespace's constants."""

    def written(value: object) -> Source:
        source = Source("<test compiled once>")
        name = source.name("give", "Waarde")
        source.lines += [f"def {name}():", f"    return {source.constant(value)}", ""]
        return source

    first, second = written("eerste"), written(["tweede"])
    compiled = generated._compiled.cache_info()
    give_first = first.function("give_1_Waarde")
    give_second = second.function("give_1_Waarde")
    after = generated._compiled.cache_info()
    assert after.misses - compiled.misses <= 1  # none when an earlier test compiled it
    assert after.hits - compiled.hits >= 1
    assert give_first() == "eerste"
    assert give_second() == ["tweede"]
    assert give_first.__globals__ is first.namespace
    assert give_second.__globals__ is second.namespace
