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


def render_deploy_template(*parts: str, trim_blocks: bool = False, **context: object) -> str:
    """Render ``deploy/<parts...>`` with ``context``; an undefined variable is an error.

    ``trim_blocks`` also strips the whitespace around block tags (nginx's braces).
    """
    import jinja2

    template = deploy_template(*parts)
    env = jinja2.Environment(  # noqa: S701 - renders server configuration, not HTML
        loader=jinja2.FileSystemLoader(template.parent),
        undefined=jinja2.StrictUndefined,
        trim_blocks=trim_blocks,
        lstrip_blocks=trim_blocks,
        keep_trailing_newline=True,
    )
    return env.get_template(template.name).render(**context)
