"""Where the configuration templates under ``deploy/`` are, in a checkout or a wheel.

The wheel carries ``deploy/`` as ``folio/_deploy`` (see ``[tool.hatch...force-include]``);
a checkout (editable install) reads the repository's ``deploy/`` directly.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_CHECKOUT_DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def deploy_template(*parts: str) -> Path:
    """The path of ``deploy/<parts...>``; raises ``FileNotFoundError`` when it is in neither place."""
    packaged = Path(str(files("folio"))) / "_deploy" / Path(*parts)
    for candidate in (packaged, _CHECKOUT_DEPLOY / Path(*parts)):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"template deploy/{'/'.join(parts)} is neither in the package nor the checkout")
