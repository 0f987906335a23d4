"""The one YAML loader of the project's data files (policy and vocabularies).

libyaml's safe loader where PyYAML was built with it (its wheels are), else the pure-Python
safe loader: the same nodes with their lines, read about ten times faster (every gateway
start reads the whole policy and every vocabulary; a test run starts hundreds). Both are
*safe* loaders: plain YAML types only, no Python objects.
"""

from __future__ import annotations

import yaml

__all__ = ["SAFE_LOADER"]

SAFE_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)
