"""What happens to a file on disk: its content hash, and where it goes once handled.

The inbox folder holds only files still to handle. A loaded file (and a copy of one
loaded before) moves to ``loaded/``; a file that failed for good moves to
``quarantine/`` with ``<file>.reason.txt`` beside it saying why. Both folders are inside
the watched one, and the watcher watches the top folder only, so a moved file is never
seen again. Names never collide: a taken name gets the hash's first 12 digits.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["LOADED", "QUARANTINE", "REASON_SUFFIX", "move_to_loaded", "quarantine", "sha256_of"]

LOADED = "loaded"
QUARANTINE = "quarantine"
REASON_SUFFIX = ".reason.txt"
_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """The SHA-256 of ``path``'s content, in hex (read in 1 MiB chunks: files may be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as content:
        while chunk := content.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def move_to_loaded(path: Path, *, content_hash: str) -> Path | None:
    """Move a handled file to ``<folder>/loaded/``; where it went, or None when it was gone already.

    Gone is no error: with several watchers on one folder, the one that found a copy
    a duplicate may move it before the one that loaded it.
    """
    target = _free_name(path.parent / LOADED, path.name, content_hash=content_hash)
    try:
        path.replace(target)  # same file system: atomic, and never a half-copied file
    except FileNotFoundError:
        return None
    return target


def quarantine(path: Path, *, content_hash: str, reason: str) -> Path:
    """Move a failed file to ``<folder>/quarantine/`` with ``<name>.reason.txt`` beside it; where it went.

    The reason file is written first, through a temporary name, so a quarantined file
    never sits there without its reason.
    """
    target = _free_name(path.parent / QUARANTINE, path.name, content_hash=content_hash)
    reason_file = target.with_name(target.name + REASON_SUFFIX)
    partial = reason_file.with_name(f".{reason_file.name}.tmp")
    partial.write_text(reason.rstrip() + "\n", encoding="utf-8")
    partial.replace(reason_file)
    path.replace(target)
    return target


def _free_name(folder: Path, name: str, *, content_hash: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        return target
    stem, dot, suffix = name.partition(".")
    target = folder / f"{stem}-{content_hash[:12]}{dot}{suffix}"
    counter = 1
    while target.exists():  # the same name and content dropped again: keep every copy
        target = folder / f"{stem}-{content_hash[:12]}-{counter}{dot}{suffix}"
        counter += 1
    return target
