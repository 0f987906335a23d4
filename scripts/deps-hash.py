"""Print the sha256 of pyproject.toml's dependency declarations (requires-python, dependencies,
optional-dependencies, build-system.requires): what the lock files were made from.

Used by scripts/lock.sh (written into the locks' first line) and ./run (compared with it), so
that a change to the dependencies without new locks is noticed, and a change elsewhere in
pyproject.toml (tool settings) needs no new locks.
"""

import hashlib
import json
import sys
import tomllib
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
data = tomllib.loads(path.read_text(encoding="utf-8"))
project = data.get("project", {})
declared = {
    "requires-python": project.get("requires-python"),
    "dependencies": project.get("dependencies", []),
    "optional-dependencies": project.get("optional-dependencies", {}),
    "build-system": data.get("build-system", {}).get("requires", []),
}
print(hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest())
