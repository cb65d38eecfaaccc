"""MkDocs hook: replace ``<!-- folio:NAME -->`` markers with content generated from the code.

The reference parts of the docs (every setting, the log schema, the problem codes,
the local servers, the import contracts) are rendered from the objects that define
them at build time, so they cannot drift from the code. A page names what it wants
with an HTML comment marker; an unknown marker fails the build.

Generators only read: the services table builds each registered ``Service`` against
default settings whose data folder is a throw-away temporary directory, so a
``processes()`` or ``requirements()`` with side effects touches nothing of the
checkout, and a service that cannot be built still gets its row.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import sys
import tempfile
import tomllib
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from folio.core.errors import (
    PROBLEM_BASE,
    PROBLEM_CATALOGUE,
    FolioError,
    InvalidParam,
    NotFoundError,
    Problem,
)
from folio.core.logging.schema import LOG_SCHEMA
from folio.core.settings import ServicesSettings, Settings
from folio.core.settings.base import ConfigInputs, FolioSettingsBase, config_inputs, env_name_for
from folio.core.settings.fields import INSECURE_DEFAULT, RELOADABLE, has_marker
from folio.core.settings.loader import subsystems
from folio.ops.service import AptPackage, Service, WheelBinary
from folio.ops.services import SERVICE_TYPES

MARKER = re.compile(r"<!--\s*folio:([a-z][a-z-]*)\s*-->")
MASK = "•••"


@dataclass(frozen=True)
class BuildContext:
    """What a generator may need to know about the build."""

    root: Path


Generator = Callable[[BuildContext], str]


def on_page_markdown(markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:  # noqa: ARG001
    """Expand every ``<!-- folio:NAME -->`` marker of ``page``; unknown names fail the build."""
    context = BuildContext(root=Path(config.config_file_path).resolve().parent)

    def expand(match: re.Match[str]) -> str:
        name = match.group(1)
        generator = GENERATORS.get(name)
        if generator is None:
            known = ", ".join(sorted(GENERATORS))
            raise PluginError(f"{page.file.src_uri}: unknown marker folio:{name} (known: {known})")
        return generator(context).rstrip("\n")

    return MARKER.sub(expand, markdown)


# ---------------------------------------------------------------- formatting helpers


def _cell(text: str) -> str:
    """Text made safe for one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """``text`` as an inline code span inside a table cell.

    Python-Markdown does not split a row on a pipe inside a code span, and would show
    an escaping backslash there, so only newlines and backticks need care.
    """
    flat = text.replace("\n", " ")
    return f"`` {flat} ``" if "`" in flat else f"`{flat}`"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n\n", 1)[0].replace("\n", " ").strip()


def type_name(annotation: Any) -> str:
    """A short, readable name for a field's type: ``"sqlite" | "postgres"``, ``dict[str, float]``."""
    if annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(json.dumps(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_name(arg) for arg in args)}]"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(info: FieldInfo) -> str:
    bounds = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    parts = []
    for item in info.metadata:
        for attr, symbol in bounds.items():
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
    return ", ".join(parts)


def default_text(info: FieldInfo) -> str:
    """The default as a reader would write it in TOML or the environment; secrets masked."""
    value = info.get_default(call_default_factory=True)
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, bool):
        return _code("true" if value else "false")
    if isinstance(value, dict | list):
        # A mapping of secrets (signing keys by id) shows its keys, never its values.
        return _code(
            json.dumps(value, default=lambda secret: MASK if isinstance(secret, SecretStr) else str(secret))
        )
    return _code(str(value))


# ---------------------------------------------------------------- settings


def settings_reference(_context: BuildContext) -> str:
    """One table per settings subsystem, root first, with env var, type, default and notes."""
    out: list[str] = []
    for cls in subsystems():
        title = ".".join(cls.settings_path) or "(root)"
        prefix = env_name_for(cls.settings_path, "")
        declared = f"`{cls.__module__}.{cls.__qualname__}`"
        out.append(
            f"### `{title}`\n\n{_first_line(cls.__doc__)} Environment prefix `{prefix}`; "
            f"declared by {declared}.\n"
        )
        rows = []
        for name, info in cls.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, FolioSettingsBase):
                continue  # a nested subsystem: it has its own table
            notes = []
            if has_marker(info, RELOADABLE):
                notes.append("**Reloadable.**")
            if has_marker(info, INSECURE_DEFAULT):
                notes.append("**`prod` refuses the default.**")
            kind = type_name(annotation)
            bounds = _constraints(info)
            rows.append(
                [
                    _code(".".join((*cls.settings_path, name))),
                    _code(env_name_for(cls.settings_path, name)),
                    _code(kind) + (f" ({_cell(bounds)})" if bounds else ""),
                    default_text(info),
                    _cell(" ".join([info.description or "", *notes]).strip()),
                ]
            )
        if rows:
            out.append(_table(["Setting", "Environment variable", "Type", "Default", "Description"], rows))
    return "\n".join(out)


def _marked_settings(marker: str) -> str:

    lines = [
        f"- `{'.'.join((*cls.settings_path, name))}` (`{env_name_for(cls.settings_path, name)}`)"
        for cls in subsystems()
        for name, info in cls.model_fields.items()
        if has_marker(info, marker)
    ]
    return "\n".join(lines) + "\n" if lines else "*None.*\n"


def reloadable_settings(_context: BuildContext) -> str:
    """A bullet list of the settings a running process re-reads."""
    return _marked_settings(RELOADABLE)


def insecure_defaults(_context: BuildContext) -> str:
    """A bullet list of the settings the ``prod`` profile refuses to leave at their default."""
    return _marked_settings(INSECURE_DEFAULT)


# ---------------------------------------------------------------- logging and errors


def log_schema(_context: BuildContext) -> str:
    """The fields of ``LOG_SCHEMA``."""
    return _table(["Field", "Meaning"], [[_code(name), _cell(text)] for name, text in LOG_SCHEMA.items()])


def _model_table(model: type[BaseModel]) -> str:
    rows = []
    for name, info in model.model_fields.items():
        required = "yes" if info.is_required() else "no"
        rows.append([_code(name), _code(type_name(info.annotation)), required, _cell(info.description or "")])
    return _table(["Member", "Type", "Always present", "Meaning"], rows)


def problem_shape(_context: BuildContext) -> str:
    """The members of a problem body (``folio.core.errors.Problem``) and of one invalid input."""
    return _model_table(Problem) + "\nEach entry of `errors`:\n\n" + _model_table(InvalidParam)


def problem_example(_context: BuildContext) -> str:
    """A real problem body, produced by ``FolioError.to_problem``."""
    problem = NotFoundError("No book 9780141439563 in this shop.").to_problem(
        instance="/api/v1/books/9780141439563", correlation_id="5f0c6a8e2b7d4c1e9a3f0b6d8e2c4a7f"
    )
    body = json.dumps(problem.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False)
    return f"```json\n{body}\n```\n"


def _meaning(cls: type[FolioError]) -> str:
    if cls is FolioError:
        return "An error with no more specific code."
    return _first_line(cls.__doc__)


def problem_codes(_context: BuildContext) -> str:
    """One row per entry of ``PROBLEM_CATALOGUE``."""
    rows = [
        [
            _code(code),
            str(cls.status),
            _cell(cls.title),
            _code(PROBLEM_BASE + code),
            _code(cls.__name__),
            _cell(_meaning(cls)),
        ]
        for code, cls in sorted(PROBLEM_CATALOGUE.items(), key=lambda item: (item[1].status, item[0]))
    ]
    return _table(["Code", "Status", "Title", "`type`", "Raised as", "When"], rows)


def http_problem_codes(_context: BuildContext) -> str:
    """Codes the gateway gives errors raised by the HTTP layer itself, beyond ``PROBLEM_CATALOGUE``."""
    from folio.entrypoints.gateway import problems

    mapping: Mapping[int, str] = problems.STATUS_CODES
    rows = [
        [_code(code), str(status), _cell(HTTPStatus(status).phrase), _code(PROBLEM_BASE + code)]
        for status, code in sorted(mapping.items())
        if code not in PROBLEM_CATALOGUE
    ]
    return _table(["Code", "Status", "Title", "`type`"], rows) if rows else "*None.*\n"


# ---------------------------------------------------------------- services


@contextmanager
def _pristine_environment() -> Iterator[None]:
    """No ``FOLIO_*`` variables, no ``.env`` and no config file: the documented defaults only."""
    saved = {key: value for key, value in os.environ.items() if key.upper().startswith("FOLIO_")}
    for key in saved:
        del os.environ[key]
    try:
        with config_inputs(ConfigInputs(config_file=None, env_file=None)):
            yield
    finally:
        os.environ.update(saved)


def _requirement_text(requirement: object) -> str:

    if isinstance(requirement, AptPackage):
        return f"Debian package `{requirement.package}`"
    if isinstance(requirement, WheelBinary):
        return f"PyPI wheel `{requirement.distribution}`"
    return _cell(str(requirement))


def _unavailable(exc: Exception) -> str:
    return f"*not available at build time ({_cell(type(exc).__name__)})*"


def _service_row(service: Service, shown: Callable[[str], str]) -> list[str]:
    """The summary row of one service; a method that fails shows as unavailable, not as a broken build."""
    try:
        installed = "<br>".join(dict.fromkeys(_requirement_text(r) for r in service.requirements())) or "—"
    except Exception as exc:  # noqa: BLE001 - one broken service must not hide the others
        installed = _unavailable(exc)
    try:
        endpoints = "<br>".join(f"{_cell(label)}: {_code(url)}" for label, url in service.endpoints().items())
    except Exception as exc:  # noqa: BLE001 - as above
        endpoints = _unavailable(exc)
    return [
        _code(service.name),
        _cell(service.summary),
        installed,
        ", ".join(_code(dep) for dep in service.depends_on) or "—",
        endpoints,
        _code(shown(str(service.data_dir))),
    ]


def _process_rows(service: Service, shown: Callable[[str], str]) -> list[list[str]]:
    """One row per ``ProcessSpec`` of ``service``: the exact command it runs and where it logs."""
    try:
        specs = service.processes()
    except Exception as exc:  # noqa: BLE001 - as in _service_row
        return [[_code(service.name), _unavailable(exc), "", ""]]
    return [
        [
            _code(spec.name),
            _code(shown(shlex.join(spec.argv))),
            _code(spec.user) if spec.user else "the caller",
            _code(shown(str(spec.log_file))),
        ]
        for spec in specs
    ]


def services_table(_context: BuildContext) -> str:
    """Every registered local server: what it is, where it comes from, its processes and URLs."""
    # The default depends on the machine and the checkout (see default_services_data_dir).
    default_data_dir = "<services.data_dir>"
    venvs = sorted({sys.prefix, str(Path(sys.prefix).resolve())}, key=len, reverse=True)
    summary: list[list[str]] = []
    processes: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="folio-docs-") as scratch, _pristine_environment():
        data_dir = Path(scratch).resolve()

        def shown(text: str) -> str:
            # Paths as a reader's checkout has them, not as the build machine does.
            text = text.replace(str(data_dir), default_data_dir)
            for venv in venvs:
                text = text.replace(venv, ".venv")
            return text

        settings = Settings(services=ServicesSettings(data_dir=data_dir))
        for service_type in SERVICE_TYPES:
            service = service_type(settings)
            summary.append(_service_row(service, shown))
            processes.extend(_process_rows(service, shown))
    header = ["Service", "What it is", "Installed from", "Needs first", "Endpoints", "Data folder"]
    return _table(header, summary) + "\n" + _table(["Process", "Command", "Runs as", "Log file"], processes)


# ---------------------------------------------------------------- architecture


def _modules(contract: Mapping[str, Any], key: str) -> str:
    return ", ".join(f"`{module}`" for module in contract.get(key, []))


_CONTRACT_DETAIL: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "layers": lambda c: " > ".join(f"`{layer}`" for layer in c["layers"]),
    "forbidden": lambda c: (
        f"{_modules(c, 'source_modules')} may not import {_modules(c, 'forbidden_modules')}"
    ),
    "independence": lambda c: f"independent of each other: {_modules(c, 'modules')}",
    "protected": lambda c: (
        f"{_modules(c, 'protected_modules')} may be imported only by {_modules(c, 'allowed_importers')}"
    ),
    "acyclic_siblings": lambda c: f"no import cycles between the children of {_modules(c, 'ancestors')}",
}


def import_contracts(context: BuildContext) -> str:
    """The import-linter contracts declared in ``pyproject.toml``, with their exceptions."""
    pyproject = tomllib.loads((context.root / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[Mapping[str, Any]] = pyproject["tool"]["importlinter"]["contracts"]
    out = []
    for contract in contracts:
        kind = contract["type"]
        describe = _CONTRACT_DETAIL.get(kind)
        line = f"- **{contract['name']}** (`{contract.get('id', '')}`, {kind})"
        if describe is not None:
            line += f": {describe(contract)}."
        ignored = contract.get("ignore_imports", [])
        if ignored:
            line += " Exceptions: " + ", ".join(f"`{i}`" for i in ignored) + "."
        out.append(line)
    return "\n".join(out) + "\n"


def tiers(context: BuildContext) -> str:
    """The tiers of ``[tool.folio.architecture]`` as a Mermaid diagram and a table, with the exceptions."""
    spec = importlib.util.spec_from_file_location(
        "folio_contracts", context.root / "scripts" / "contracts.py"
    )
    if spec is None or spec.loader is None:
        raise PluginError("scripts/contracts.py cannot be loaded")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # its dataclasses look their module up by name
    spec.loader.exec_module(script)
    architecture = script.load(context.root / "pyproject.toml")
    rows = [
        [tier.name, ", ".join(f"`folio.{p}`" for p in tier.packages), _tier_rules(tier)]
        for tier in architecture.tiers
    ]
    exceptions = [
        f"- `folio.{a}` may import `folio.{b}`: {reason}"
        for (a, b), reason in architecture.exceptions.items()
    ]
    diagram: str = script.diagram(architecture)
    return (
        "```mermaid\n"
        + diagram
        + "```\n\n"
        + _table(["Tier", "Packages", "Also"], rows)
        + "\nDeclared exceptions (each a reviewed design decision):\n\n"
        + "\n".join(exceptions)
        + "\n"
    )


def _tier_rules(tier: Any) -> str:
    rules = []
    if tier.independent and len(tier.packages) > 1:
        rules.append("independent of each other")
    if tier.api_only:
        rules.append("reached only through `api` (adapters: by entry points)")
    if tier.reached_only_by:
        rules.append("imported only by " + " and ".join(tier.reached_only_by))
    if tier.forbidden_externals:
        rules.append("imports none of " + ", ".join(f"`{name}`" for name in tier.forbidden_externals))
    return "; ".join(rules)


GENERATORS: dict[str, Generator] = {
    "settings-reference": settings_reference,
    "reloadable-settings": reloadable_settings,
    "insecure-defaults": insecure_defaults,
    "log-schema": log_schema,
    "problem-shape": problem_shape,
    "problem-example": problem_example,
    "problem-codes": problem_codes,
    "http-problem-codes": http_problem_codes,
    "services-table": services_table,
    "import-contracts": import_contracts,
    "tiers": tiers,
}
"""Marker name -> generator; a page writes ``<!-- folio:NAME -->`` to include one."""
