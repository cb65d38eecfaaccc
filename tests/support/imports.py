"""What importing a module loads, seen in a fresh interpreter (this one has loaded everything already)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable

__all__ = ["loaded_by"]

_PROBE = """
import importlib, json, sys, traceback

importers = {}


class WhoImports:
    \"\"\"Notes the file whose import statement first asks for each watched package.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name in WATCHED and name not in importers:
            frames = [f.filename for f in traceback.extract_stack() if not f.filename.startswith("<")]
            importers[name] = frames[-1] if frames else "?"
        return None


WATCHED = set(json.loads(sys.argv[1]))
sys.meta_path.insert(0, WhoImports())
importlib.import_module(sys.argv[2])
print(json.dumps({name: importers[name] for name in WATCHED if name in sys.modules}))
"""


def loaded_by(module: str, watched: Iterable[str]) -> dict[str, str]:
    """The ``watched`` top-level packages importing ``module`` loads, each with the file that asked first."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(sorted(watched)), module],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, str] = json.loads(result.stdout)
    return loaded
