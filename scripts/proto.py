"""Folio's gRPC code, generated from ``proto/`` (docs/grpc.md).

    python scripts/proto.py           # regenerate the checked-in modules under src/
    python scripts/proto.py --check   # exit 1 when they differ from what proto/ generates

protoc (from grpcio-tools) derives each module's path from its file's path under
``proto/``: ``proto/folio/orders/v1/orders.proto`` becomes ``folio.orders.v1.orders_pb2``,
written under ``src/``, so the generated code lives inside the context that owns the
contract. Four files per proto: the messages (``_pb2.py``), the gRPC stubs and
servicer base (``_pb2_grpc.py``), and mypy-protobuf's typed stubs of both (``.pyi``).
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = REPO_ROOT / "proto"
OUTPUT_ROOT = REPO_ROOT / "src"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")
"""What protoc writes for each ``.proto`` file, after its stem."""


def proto_files(root: Path = PROTO_ROOT) -> list[Path]:
    """Every ``.proto`` file of Folio's contracts, relative to ``root``."""
    return sorted(path.relative_to(root) for path in root.rglob("*.proto"))


def generated_names(protos: list[Path]) -> list[Path]:
    """The files protoc writes for ``protos``, relative to the output folder."""
    return [proto.with_name(proto.stem + suffix) for proto in protos for suffix in GENERATED_SUFFIXES]


def generate(out: Path, *, proto_root: Path = PROTO_ROOT, descriptor_set: Path | None = None) -> None:
    """Run protoc with the Python, gRPC and mypy-protobuf plugins, writing under ``out``.

    With ``descriptor_set`` (a ``buf build -o`` file) the protos are compiled from it
    instead of from the sources: how a test builds the stubs of an older release.
    Raises ``RuntimeError`` when protoc fails.
    """
    from grpc_tools import protoc

    out.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    protos = [str(path) for path in proto_files(proto_root)]
    source = [f"--descriptor_set_in={descriptor_set}"] if descriptor_set else [f"-I{proto_root}"]
    argv = [
        "protoc",
        *source,
        f"-I{files('grpc_tools') / '_proto'}",
        f"--plugin=protoc-gen-mypy={bin_dir / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={bin_dir / 'protoc-gen-mypy_grpc'}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out=quiet:{out}",
        f"--mypy_grpc_out=quiet:{out}",
        *protos,
    ]
    if protoc.main(argv) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(argv)}")


def drift(out: Path = OUTPUT_ROOT) -> list[str]:
    """The generated files under ``out`` that differ from a fresh generation, or are missing."""
    expected = generated_names(proto_files())
    with tempfile.TemporaryDirectory() as fresh:
        generate(Path(fresh))
        return [
            str(name)
            for name in expected
            if not (out / name).is_file() or not filecmp.cmp(Path(fresh) / name, out / name, shallow=False)
        ]


def main(argv: list[str] | None = None) -> int:
    """Regenerate, or with ``--check`` report the stale files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when the generated code is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = drift()
        for name in stale:
            print(f"stale: src/{name} (run `make proto`)", file=sys.stderr)  # noqa: T201 - a command's output
        return 1 if stale else 0
    generate(OUTPUT_ROOT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
