"""The system accounts servers run as (``postgres``, ``rabbitmq``, ``prometheus``).

PostgreSQL and RabbitMQ refuse to run as root, so their data lives in folders that
account owns and their admin commands (``initdb``, ``psql``, ``rabbitmqctl``) run as
it too. Everything here is idempotent: owning a folder that is already owned, or
writing a file with the content it already has, changes nothing.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from folio.ops.process import ProcessError


@dataclass(frozen=True)
class SystemAccount:
    """A Unix account, resolved once: its uid, primary gid and supplementary groups."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]

    @classmethod
    def lookup(cls, name: str) -> SystemAccount:
        """The account called ``name``; ``ProcessError`` when it does not exist (package missing)."""
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise ProcessError(f"system user {name!r} does not exist; is its package installed?") from None
        return cls(name, entry.pw_uid, entry.pw_gid, tuple(os.getgrouplist(name, entry.pw_gid)))

    def own_dir(self, path: Path, mode: int = 0o700) -> Path:
        """Create ``path`` if needed, owned by this account with ``mode``; returns it."""
        path.mkdir(parents=True, exist_ok=True)
        self._own(path, mode)
        return path

    def write_file(self, path: Path, text: str, mode: int = 0o600) -> bool:
        """Write ``text`` to ``path`` (atomically) owned by this account; returns whether it changed."""
        try:
            if path.read_text() == text:
                self._own(path, mode)
                return False
        except OSError:
            pass
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        self._own(tmp, mode)
        tmp.replace(path)
        return True

    def _own(self, path: Path, mode: int) -> None:
        info = path.lstat()
        if (info.st_uid, info.st_gid) != (self.uid, self.gid):
            os.chown(path, self.uid, self.gid)
        if stat.S_IMODE(info.st_mode) != mode:
            path.chmod(mode)

    def can_traverse(self, directory: Path) -> bool:
        """Whether this account may enter ``directory`` (search permission for it)."""
        info = directory.stat()
        if self.uid == 0:
            return True
        if info.st_uid == self.uid:
            return bool(info.st_mode & stat.S_IXUSR)
        if info.st_gid in self.groups:
            return bool(info.st_mode & stat.S_IXGRP)
        return bool(info.st_mode & stat.S_IXOTH)

    def ensure_reachable(self, path: Path, *, managed_root: Path) -> None:
        """Make sure this account can reach ``path``, which must exist.

        Folders from ``managed_root`` down are Folio's own, so they get ``o+x`` when
        they lack it; a folder above it that blocks the account is the operator's to
        change, so it is reported, not altered.
        """
        managed_root = managed_root.absolute()
        for directory in [path.absolute(), *path.absolute().parents]:
            if self.can_traverse(directory):
                continue
            if directory == managed_root or managed_root in directory.parents:
                directory.chmod(stat.S_IMODE(directory.stat().st_mode) | stat.S_IXOTH)
                continue
            raise ProcessError(
                f"user {self.name!r} cannot enter {directory}, which holds Folio's data; "
                f"run `chmod o+x {directory}` or set services.data_dir to a folder it can reach"
            )

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 120.0,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` as this account (its groups, not root's) and capture its output.

        With ``check``, a non-zero exit or a timeout raises ``ProcessError`` carrying
        the command's output, so the caller's error names what went wrong.
        """
        as_root = os.geteuid() == 0 and self.uid != 0
        try:
            done = subprocess.run(
                list(argv),
                input=stdin,
                capture_output=True,
                text=True,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                timeout=timeout_s,
                check=False,
                user=self.uid if as_root else None,
                group=self.gid if as_root else None,
                extra_groups=list(self.groups) if as_root else None,
            )
        except subprocess.TimeoutExpired as exc:
            raise ProcessError(f"`{argv[0]}` did not finish within {timeout_s:.0f}s") from exc
        if check and done.returncode != 0:
            output = (done.stderr + done.stdout).strip()
            command = " ".join(argv[:2])
            raise ProcessError(f"`{command} ...` as {self.name} failed with code {done.returncode}: {output}")
        return done
