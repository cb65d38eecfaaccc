"""When a dropped file is complete: never read a file while something still writes it.

Two ways in are safe, and the inbox honours both:

- **write, then rename**: the writer writes ``orders.csv.part`` (or ``.tmp``, or a
  dot-file) and renames it to ``orders.csv`` when done. Temporary names are never
  read (``is_temporary``); the rename is the event that makes the file a candidate.
- **write in place**: a file is read only once its size and modification time have
  stayed the same for ``inbox.settle_s`` *and* no process holds it open for writing
  (``paths_open_for_writing``, Linux's ``/proc/<pid>/fdinfo``: what ``lsof`` reads). A
  writer that pauses longer than the settle time with the file open is still waited
  for; a writer on another machine (a network share) is covered by the settle time
  alone, which is why it is a setting.

``Settler`` keeps the candidates and answers which are due; it takes a clock, so its
unit tests need no sleeping.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["TEMPORARY_SUFFIXES", "Settler", "is_temporary", "paths_open_for_writing"]

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", ".swp", ".inprogress")
"""Suffixes writers give a file they will rename when it is complete."""

_PROC = Path("/proc")
_ACCESS_MODE = 0o3  # O_ACCMODE: the low two bits of an open file's flags
_READ_ONLY = 0o0


def is_temporary(path: Path) -> bool:
    """Whether ``path``'s name says it is still being written (or is not meant to be read at all)."""
    name = path.name
    return name.startswith((".", "~")) or name.endswith("~") or name.lower().endswith(TEMPORARY_SUFFIXES)


def paths_open_for_writing(proc: Path = _PROC) -> set[str]:
    """Absolute paths some process on this machine holds open for writing (empty where ``/proc`` is not).

    Processes of other users are skipped (their ``fd`` folders are not readable): a
    writer running as another user is covered by the settle time alone.
    """
    found: set[str] = set()
    try:
        pids = [entry for entry in os.scandir(proc) if entry.name.isdigit()]
    except OSError:
        return found
    for pid in pids:
        try:
            fds = list(os.scandir(f"{pid.path}/fd"))
        except OSError:  # gone, or not ours
            continue
        for fd in fds:
            try:
                target = str(Path(fd.path).readlink())
                if not target.startswith("/"):
                    continue  # a socket, a pipe, an anonymous inode
                with Path(pid.path, "fdinfo", fd.name).open(encoding="ascii") as info:
                    flags = next(int(line.split()[1], 8) for line in info if line.startswith("flags:"))
            except (OSError, StopIteration, ValueError):  # closed meanwhile
                continue
            if flags & _ACCESS_MODE != _READ_ONLY:
                found.add(target)
    return found


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


@dataclass
class Settler:
    """The candidate files waiting to be complete, and which of them are (see the module docstring)."""

    settle_s: float
    clock: Callable[[], float] = time.monotonic
    open_for_writing: Callable[[], set[str]] = paths_open_for_writing
    _seen: dict[Path, _Seen] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._seen)

    def observe(self, path: Path) -> None:
        """Note that ``path`` was created, written or renamed in: its settle time starts again."""
        self._seen.pop(path, None)
        self._track(path)

    def forget(self, path: Path) -> None:
        """Stop waiting for ``path`` (it was deleted or moved away)."""
        self._seen.pop(path, None)

    def due(self) -> list[Path]:
        """The candidates complete now, in the order they were seen; they are no longer tracked.

        A candidate whose size or modification time changed starts its settle time
        again; one that vanished is forgotten; one still open for writing waits on.
        """
        now = self.clock()
        settled: list[Path] = []
        for path, seen in list(self._seen.items()):
            try:
                stat = path.stat()
            except OSError:
                del self._seen[path]
                continue
            if (stat.st_size, stat.st_mtime_ns) != (seen.size, seen.mtime_ns):
                self._seen[path] = _Seen(stat.st_size, stat.st_mtime_ns, now)
            elif now - seen.since >= self.settle_s:
                settled.append(path)
        if not settled:
            return []
        writing = self.open_for_writing()  # one /proc pass per round, only when something is due
        complete = [path for path in settled if str(path.resolve()) not in writing]
        for path in complete:
            del self._seen[path]
        return complete

    def _track(self, path: Path) -> None:
        try:
            stat = path.stat()
        except OSError:
            return
        self._seen[path] = _Seen(stat.st_size, stat.st_mtime_ns, self.clock())
