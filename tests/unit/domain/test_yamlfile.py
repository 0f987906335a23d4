"""The one YAML loader of the data files: safe, and libyaml's where PyYAML has it."""

from __future__ import annotations

import pytest
import yaml

from gateway.domain.yamlfile import SAFE_LOADER


def test_it_is_a_safe_loader() -> None:
    assert SAFE_LOADER in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def test_libyaml_is_used_when_pyyaml_has_it() -> None:
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("this PyYAML was built without libyaml")
    assert SAFE_LOADER is yaml.CSafeLoader


def test_it_builds_no_python_object() -> None:
    with pytest.raises(yaml.constructor.ConstructorError, match="python/object"):
        yaml.load("!!python/object/apply:os.system ['true']", Loader=SAFE_LOADER)  # noqa: S506 - the safe loader under test


def test_it_keeps_the_line_of_every_node() -> None:
    root = yaml.compose("rollen:\n  - politie\n  - veilig-thuis\n", Loader=SAFE_LOADER)
    assert isinstance(root, yaml.MappingNode)
    (_, rollen) = root.value[0]
    assert [item.start_mark.line + 1 for item in rollen.value] == [2, 3]
