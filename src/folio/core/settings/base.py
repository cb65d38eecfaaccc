"""The base class of every settings subsystem and the sources it reads.

Each subsystem is a pydantic-settings class whose env prefix is derived from its
path in the tree (``services.postgres`` reads ``FOLIO_SERVICES_POSTGRES_*``), the
model Prefect uses. Values come from, highest first: keyword arguments, the
process environment, the record of the last ``folio up`` (``.folio/run/platform.env``),
the ``.env`` file, the TOML config file (its profile overlay first), then the
field's default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, cast

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_ROOT = "FOLIO"
CONFIG_FILE_ENV = "FOLIO_CONFIG_FILE"
DEFAULT_CONFIG_FILE = Path("folio.toml")
DEFAULT_ENV_FILE = Path(".env")
DEFAULT_PLATFORM_FILE = Path(".folio/run/platform.env")
"""Where ``folio up`` records the settings it hands its processes (see ``record_platform``).

A fixed place under the working folder, like ``.env`` and ``folio.toml``: it must be
found before any setting (``home`` included) is known.
"""


@dataclass(frozen=True)
class ConfigInputs:
    """Where the files behind one load of the settings live.

    ``config_doc`` is the parsed TOML document (empty when there is no file), kept so
    that every subsystem reads the file once per load and error messages can cite it.
    ``platform_file`` is the record of the last ``folio up`` when it applies to this
    load, else None.
    """

    config_file: Path | None = None
    env_file: Path | None = DEFAULT_ENV_FILE
    config_doc: dict[str, Any] = field(default_factory=dict)
    platform_file: Path | None = None

    @classmethod
    def discover(
        cls,
        config_file: Path | None = None,
        env_file: Path | None = DEFAULT_ENV_FILE,
        platform_file: Path | None = DEFAULT_PLATFORM_FILE,
    ) -> ConfigInputs:
        """Resolve the platform record, the config file and parse the latter.

        The config file is the argument, else ``FOLIO_CONFIG_FILE``, else the one the
        last ``folio up`` used (its record), else ``./folio.toml``. The record applies
        unless the config file named here differs from the one it was made with: a
        command given another file is about another installation.

        Raises ``FileNotFoundError`` when a file was named explicitly (or recorded) but
        is missing, and ``tomllib.TOMLDecodeError`` when it is not valid TOML.
        """
        import os

        explicit = config_file or (
            Path(os.environ[CONFIG_FILE_ENV]) if os.environ.get(CONFIG_FILE_ENV) else None
        )
        record = platform_file if platform_file is not None and platform_file.is_file() else None
        recorded = _recorded_config_file(record) if record is not None else None
        if explicit is not None and not explicit.is_file():
            raise FileNotFoundError(f"config file {explicit} does not exist")
        if explicit is not None and (recorded is None or recorded.resolve() != explicit.resolve()):
            record = None
        elif explicit is None and recorded is not None:
            if not recorded.is_file():
                raise FileNotFoundError(
                    f"config file {recorded} (the one `folio up` used, recorded in {record}) does not exist"
                )
            explicit = recorded
        path = explicit or (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None)
        doc = tomllib.loads(path.read_text(encoding="utf-8")) if path else {}
        return cls(config_file=path, env_file=env_file, config_doc=doc, platform_file=record)


def _recorded_config_file(record: Path) -> Path | None:
    """The config file named in a ``folio up`` record, if any."""
    from dotenv import dotenv_values

    value = dotenv_values(record).get(CONFIG_FILE_ENV)
    return Path(value) if value else None


_inputs: ContextVar[ConfigInputs | None] = ContextVar("folio_config_inputs", default=None)


@contextmanager
def config_inputs(inputs: ConfigInputs) -> Iterator[None]:
    """Make ``inputs`` the files every subsystem built inside this block reads."""
    token = _inputs.set(inputs)
    try:
        yield
    finally:
        _inputs.reset(token)


def current_inputs() -> ConfigInputs:
    """The inputs of the load in progress, or the discovered defaults outside one.

    Outside a load the ``folio up`` record does not apply: only ``load_settings``
    (every command and process) reads it, so a settings class built directly (tests,
    tools) never depends on whether a platform was started in the current folder.
    """
    return _inputs.get() or ConfigInputs.discover(platform_file=None)


def profile_overlay(doc: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """The ``[profile.<profile>]`` table of ``doc``, or an empty one.

    A top-level ``profile = "prod"`` string selects a profile instead of holding
    overlays, so it yields no overlay.
    """
    tables = doc.get("profile")
    overlay = tables.get(profile) if profile and isinstance(tables, dict) else None
    return overlay if isinstance(overlay, dict) else {}


def toml_section(doc: dict[str, Any], path: tuple[str, ...], profile: str | None) -> dict[str, Any]:
    """The table at ``path`` in ``doc``, with ``[profile.<profile>.<path>]`` laid over it.

    At the top level, a ``[profile.*]`` table holds overlays rather than the value of
    the ``profile`` setting, so it is left out.
    """
    merged: dict[str, Any] = {}
    layers = [doc]
    if profile:
        layers.append(profile_overlay(doc, profile))
    for layer in layers:
        table: Any = layer
        for part in path:
            table = table.get(part, {}) if isinstance(table, dict) else {}
        if isinstance(table, dict):
            merged.update(table)
    if not path and isinstance(doc.get("profile"), dict) and merged.get("profile") is doc["profile"]:
        del merged["profile"]
    return merged


class TomlSectionSource(PydanticBaseSettingsSource):
    """Reads one subsystem's table (and its profile overlay) from the TOML config file."""

    def __init__(self, settings_cls: type[FolioSettingsBase]) -> None:
        super().__init__(settings_cls)
        self._cls = settings_cls

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: ``__call__`` returns the whole section at once."""
        raise NotImplementedError  # pragma: no cover - the base class requires it

    def __call__(self) -> dict[str, Any]:
        """This subsystem's TOML values; raises ``ValidationError`` for keys that set nothing."""
        inputs = current_inputs()
        section = toml_section(inputs.config_doc, self._cls.settings_path, profile_in_force(inputs))
        nested = self._cls.nested_subsystems()
        # The environment is shared with other programs, the config file is Folio's own:
        # a key there that sets nothing is a typo, reported like any invalid value; so is
        # a subsystem given a plain value (``gateway = 5``) where its table belongs.
        errors = [
            InitErrorDetails(type="extra_forbidden", loc=(key,), input=section[key])
            for key in sorted(section)
            if key not in self._cls.model_fields
        ] + [
            InitErrorDetails(type="dict_type", loc=(key,), input=section[key])
            for key in sorted(nested)
            if key in section and not isinstance(section[key], dict)
        ]
        if errors:
            raise ValidationError.from_exception_data(self._cls.__name__, errors)
        return {key: value for key, value in section.items() if key not in nested}


def profile_in_force(inputs: ConfigInputs) -> str | None:
    """The profile in force: environment, the ``folio up`` record, ``.env``, then the file's top level.

    The same order the ``profile`` setting itself is read in, so the overlay applied
    is always the one of the profile the settings end up with.
    """
    import os

    from dotenv import dotenv_values

    name = f"{ENV_ROOT}_PROFILE"
    sources: list[Mapping[str, str | None]] = [os.environ]
    if inputs.platform_file is not None:
        sources.append(dotenv_values(inputs.platform_file))
    if inputs.env_file is not None and inputs.env_file.is_file():
        sources.append(dotenv_values(inputs.env_file))
    for source in sources:
        value = next((v for k, v in source.items() if k.upper() == name and v), None)
        if value:
            return value
    value = inputs.config_doc.get("profile")
    return value if isinstance(value, str) else None


class FolioSettingsBase(BaseSettings):
    """Base of every settings subsystem; subclasses set ``settings_path``.

    Unknown keys in the environment or ``.env`` are ignored here (other programs
    share them) and reported by ``folio config check`` instead; unknown keys in the
    TOML file are errors.
    """

    settings_path: ClassVar[tuple[str, ...]] = ()

    model_config = SettingsConfigDict(
        env_prefix=f"{ENV_ROOT}_",
        extra="ignore",
        validate_default=True,
        case_sensitive=False,
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.model_config = {**cls.model_config, "env_prefix": env_prefix_for(cls.settings_path)}

    @classmethod
    def nested_subsystems(cls) -> dict[str, type[FolioSettingsBase]]:
        """Fields of this class that are settings subsystems in their own right."""
        found: dict[str, type[FolioSettingsBase]] = {}
        for name, info in cls.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, FolioSettingsBase):
                found[name] = annotation
        return found

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003 - replaced: the .env file is per load
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003 - Folio reads no secrets dir
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments > environment > ``folio up`` record > ``.env`` > TOML file > defaults.

        The record sits just below this process's environment because ``folio up``
        hands those values to its processes as environment variables, which beat the
        files there too: read from here, the CLI agrees with the running platform.
        """
        folio_cls = cast("type[FolioSettingsBase]", settings_cls)  # only Folio classes inherit this hook
        inputs = current_inputs()
        dotenv = DotEnvSettingsSource(folio_cls, env_file=inputs.env_file)
        toml = TomlSectionSource(folio_cls)
        if inputs.platform_file is None:
            return (init_settings, env_settings, dotenv, toml)
        # The record is written in .env syntax, so the same parser reads it as the processes' environment.
        record = DotEnvSettingsSource(folio_cls, env_file=inputs.platform_file)
        return (init_settings, env_settings, record, dotenv, toml)


def env_prefix_for(path: tuple[str, ...]) -> str:
    """``("services", "postgres")`` -> ``"FOLIO_SERVICES_POSTGRES_"``."""
    return "_".join((ENV_ROOT, *(part.upper() for part in path))) + "_"


def env_name_for(path: tuple[str, ...], field_name: str) -> str:
    """The environment variable that sets ``field_name`` of the subsystem at ``path``."""
    return env_prefix_for(path) + field_name.upper()
