"""Loading the settings tree, and explaining where each value came from.

``load_settings`` is the one way processes build their settings. It turns pydantic's
validation errors into ``SettingsError``, whose problems each name the setting, say
what is wrong and cite the source of the offending value, so that the CLI can print
one human line per problem instead of a traceback.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from dotenv import dotenv_values
from pydantic import ValidationError

from folio.core.settings.base import (
    CONFIG_FILE_ENV,
    DEFAULT_ENV_FILE,
    DEFAULT_PLATFORM_FILE,
    ENV_ROOT,
    ConfigInputs,
    FolioSettingsBase,
    config_inputs,
    env_name_for,
    profile_in_force,
    profile_overlay,
    toml_section,
)
from folio.core.settings.tree import Settings


@dataclass(frozen=True)
class SettingProblem:
    """One invalid setting: its dotted path, what is wrong, and where the value came from."""

    path: str
    message: str
    origin: str

    def __str__(self) -> str:
        return f"setting {self.path}: {self.message} (from {self.origin})"


class SettingsError(Exception):
    """The configuration is invalid; ``problems`` says where, one entry per setting."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class SettingInfo:
    """What ``folio config show`` prints for one leaf setting."""

    path: str
    env_name: str
    value: Any
    origin: str
    secret: bool
    reloadable: bool


def load_settings(
    *,
    config_file: Path | None = None,
    env_file: Path | None = DEFAULT_ENV_FILE,
    platform_file: Path | None = DEFAULT_PLATFORM_FILE,
    **overrides: Any,
) -> Settings:
    """Build the settings tree from the files, the ``folio up`` record and the environment.

    ``platform_file=None`` ignores the record (what a test suite wants: its settings
    must not depend on whether the platform was started in the checkout).

    Raises ``SettingsError`` for invalid values, a missing explicit config file or a
    malformed TOML file, always naming the file or setting at fault.
    """
    inputs = _discover(config_file, env_file, platform_file)
    problems: list[SettingProblem] = []
    with config_inputs(inputs):
        settings, valid = _build(Settings, overrides, inputs, problems)
    if not valid:
        raise SettingsError(problems)
    return cast("Settings", settings)


def _build(
    cls: type[FolioSettingsBase], given: dict[str, Any], inputs: ConfigInputs, problems: list[SettingProblem]
) -> tuple[FolioSettingsBase, bool]:
    """Build ``cls`` with its subsystems built first; returns it and whether the subtree is valid.

    Building each subsystem on its own (rather than through the nested default
    factories, where the first failure aborts the rest) lets one load report every
    invalid setting at once. A subsystem that fails is replaced by a placeholder so
    its parent's own fields are still checked; whole-model checks of that parent are
    then skipped, as they would judge values the user did not choose.
    """
    kwargs = dict(given)
    children_valid = True
    for name, sub in cls.nested_subsystems().items():
        if name not in kwargs:
            kwargs[name], valid = _build(sub, {}, inputs, problems)
            children_valid = children_valid and valid
    try:
        return cls(**kwargs), children_valid
    except ValidationError as exc:
        problems.extend(
            _problems_from(exc, inputs, owner=cls, overrides=given, fields_only=not children_valid)
        )
        return _placeholder(cls), False


def _placeholder(cls: type[FolioSettingsBase]) -> FolioSettingsBase:
    """An unvalidated instance of ``cls`` holding defaults, built without reading any source."""
    return cls.model_construct(
        None, **{name: _placeholder(sub) for name, sub in cls.nested_subsystems().items()}
    )


def _model_level_path(cls: type[FolioSettingsBase]) -> str:
    # A model-level check has no field; it is about the subsystem (the root's is the profile).
    return ".".join(cls.settings_path) or "profile"


def _discover(
    config_file: Path | None, env_file: Path | None, platform_file: Path | None = DEFAULT_PLATFORM_FILE
) -> ConfigInputs:
    try:
        return ConfigInputs.discover(config_file, env_file, platform_file)
    except FileNotFoundError as exc:
        raise SettingsError(
            [SettingProblem("config_file", str(exc), "--config / FOLIO_CONFIG_FILE")]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        name = config_file or os.environ.get("FOLIO_CONFIG_FILE") or "folio.toml"
        raise SettingsError([SettingProblem("config_file", f"not valid TOML: {exc}", str(name))]) from None


def active_config_file(config_file: Path | None = None) -> Path | None:
    """The TOML file a load would read (argument, ``FOLIO_CONFIG_FILE``, ``./folio.toml``), if any."""
    return _discover(config_file, None).config_file


def subsystems() -> Iterator[type[FolioSettingsBase]]:
    """Every settings class in the tree, root first."""
    pending: list[type[FolioSettingsBase]] = [Settings]
    while pending:
        cls = pending.pop(0)
        yield cls
        pending.extend(cls.nested_subsystems().values())


def _problems_from(
    exc: ValidationError,
    inputs: ConfigInputs,
    *,
    owner: type[FolioSettingsBase] = Settings,
    overrides: Mapping[str, Any] | None = None,
    fields_only: bool = False,
) -> list[SettingProblem]:
    by_title = {cls.__name__: cls for cls in subsystems()}
    owner = by_title.get(exc.title, owner)
    problems = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        field_name = loc[0] if loc else ""
        if fields_only and not field_name:
            continue
        path = ".".join((*owner.settings_path, *loc)) or _model_level_path(owner)
        if overrides and field_name in overrides:
            origin = "keyword argument"
        else:
            origin = describe_origin(owner.settings_path, field_name or "profile", inputs)
        message = error["msg"]
        if field_name and not _is_secret(owner, field_name):
            message = f"{message}, got {error['input']!r}"
        problems.append(SettingProblem(path, message, origin))
    return problems


def _is_secret(cls: type[FolioSettingsBase], field_name: str) -> bool:
    info = cls.model_fields.get(field_name)
    return info is not None and "Secret" in str(info.annotation)


def describe_origin(path: tuple[str, ...], field_name: str, inputs: ConfigInputs) -> str:
    """Where the value of ``field_name`` of the subsystem at ``path`` comes from.

    Follows the same priority as the sources themselves: environment, the ``folio up``
    record, ``.env``, the TOML profile overlay, the TOML table, then the default.
    """
    env_name = env_name_for(path, field_name)
    if _lookup(os.environ, env_name) is not None:
        return f"environment variable {env_name}"
    if (
        inputs.platform_file is not None
        and _lookup(dotenv_values(inputs.platform_file), env_name) is not None
    ):
        return f"folio up ({inputs.platform_file})"
    in_env_file = inputs.env_file is not None and inputs.env_file.is_file()
    if in_env_file and _lookup(dotenv_values(inputs.env_file), env_name) is not None:
        return f"{inputs.env_file} ({env_name})"
    profile = profile_in_force(inputs)
    if inputs.config_file is not None:
        if profile and field_name in toml_section(profile_overlay(inputs.config_doc, profile), path, None):
            return f"{inputs.config_file} [profile.{profile}{_dotted(path)}] {field_name}"
        if field_name in toml_section(inputs.config_doc, path, None):
            return f"{inputs.config_file} [{'.'.join(path) or 'top level'}] {field_name}"
    return "default"


def _dotted(path: tuple[str, ...]) -> str:
    return "".join(f".{part}" for part in path)


def _lookup(mapping: Mapping[str, str | None], name: str) -> str | None:
    """Case-insensitive lookup, as pydantic-settings reads the environment."""
    lowered = name.lower()
    for key, value in mapping.items():
        if key.lower() == lowered:
            return value
    return None


def describe_settings(
    settings: Settings,
    *,
    config_file: Path | None = None,
    env_file: Path | None = DEFAULT_ENV_FILE,
    platform_file: Path | None = DEFAULT_PLATFORM_FILE,
) -> list[SettingInfo]:
    """Every leaf setting with its value and origin, for ``folio config show``."""
    from folio.core.settings.fields import RELOADABLE, has_marker

    inputs = _discover(config_file, env_file, platform_file)
    rows: list[SettingInfo] = []

    def walk(node: FolioSettingsBase) -> None:
        cls = type(node)
        for name, info in cls.model_fields.items():
            value = getattr(node, name)
            if isinstance(value, FolioSettingsBase):
                walk(value)
                continue
            rows.append(
                SettingInfo(
                    path=".".join((*cls.settings_path, name)),
                    env_name=env_name_for(cls.settings_path, name),
                    value=value,
                    origin=describe_origin(cls.settings_path, name, inputs),
                    secret=_is_secret(cls, name),
                    reloadable=has_marker(info, RELOADABLE),
                )
            )

    walk(settings)
    return rows


def unknown_setting_names(
    *, env_file: Path | None = DEFAULT_ENV_FILE, environ: Mapping[str, str] | None = None
) -> list[str]:
    """``FOLIO_*`` names in the environment or ``.env`` that set nothing, with suggestions.

    pydantic-settings ignores them (other tools share the environment), so a typo
    such as ``FOLIO_DATABASE_BAKEND`` would otherwise pass silently.
    """
    known = {env_name_for(cls.settings_path, name) for cls in subsystems() for name in cls.model_fields} | {
        "FOLIO_CONFIG_FILE"
    }
    names = {key.upper() for key in (environ if environ is not None else os.environ)}
    if env_file is not None and env_file.is_file():
        names |= {key.upper() for key in dotenv_values(env_file)}
    messages = []
    for name in sorted(n for n in names if n.startswith(f"{ENV_ROOT}_") and n not in known):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        messages.append(f"{name} is not a Folio setting{hint}")
    return messages


def record_platform(environ: Mapping[str, str], *, mode: str, path: Path = DEFAULT_PLATFORM_FILE) -> Path:
    """Record the settings of a starting platform, so later commands here use the same ones.

    ``environ`` is the environment ``folio up`` gives its processes. Every ``FOLIO_*``
    variable in it that names a setting is written to ``path`` in ``.env`` syntax,
    with ``FOLIO_CONFIG_FILE`` made absolute; secrets (``SecretStr`` fields) never
    are: they stay in the environment, ``.env`` or the config file. The file replaces
    any earlier record and outlives the platform, so the database the platform used
    stays the one the CLI targets until the next ``folio up``. Returns ``path``.
    """
    from datetime import UTC, datetime

    recordable = {
        env_name_for(cls.settings_path, name)
        for cls in subsystems()
        for name in cls.model_fields
        if not _is_secret(cls, name) and name not in cls.nested_subsystems()
    }
    chosen = {key.upper(): value for key, value in environ.items() if key.upper() in recordable}
    config_file = _lookup(environ, CONFIG_FILE_ENV)
    if config_file:
        chosen[CONFIG_FILE_ENV] = str(Path(config_file).absolute())
    lines = [
        f"# Written by `folio up` ({mode}) at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC, pid {os.getpid()}.",
        "# The settings it gave its processes; every folio command run in this folder reads",
        "# them below its own environment (see docs/configuration.md). Secrets are never written.",
    ]
    for key, value in sorted(chosen.items()):
        # .env syntax expands ${NAME} even in quotes and has no escape for it: such a
        # value would read back as something else, so it is named instead of recorded.
        readable = "${" not in value
        lines.append(f"{key}={_dotenv_quoted(value)}" if readable else f"# {key} not recorded: it holds ${{")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a command reading it meanwhile sees the old or the new record, never half.
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def _dotenv_quoted(value: str) -> str:
    """``value`` as a double-quoted ``.env`` value that python-dotenv reads back unchanged."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
