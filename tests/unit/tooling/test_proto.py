"""The gRPC contracts: generated code in step with proto/, buf's lint, and no break with the last release."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.support.scripts import load_script

pytestmark = pytest.mark.unit

BUF = Path(sys.executable).with_name("buf")
proto = load_script("proto")


def test_the_checked_in_generated_code_matches_the_protos() -> None:
    """Regenerating into a temporary folder gives byte for byte the files under src/ (make proto-check)."""
    assert proto.proto_files() == [Path("folio/orders/v1/orders.proto"), Path("folio/users/v1/users.proto")]
    assert proto.drift() == []


def test_drift_is_reported_for_an_edited_or_missing_file(tmp_path: Path) -> None:
    """A generated file changed by hand, or never generated, is named by the check."""
    names = proto.generated_names(proto.proto_files())
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((proto.OUTPUT_ROOT / name).read_bytes())
    edited, missing = names[0], names[-1]
    (tmp_path / edited).write_text("# edited by hand\n")
    (tmp_path / missing).unlink()

    assert proto.drift(tmp_path) == [str(edited), str(missing)]
    assert len(names) == len(proto.GENERATED_SUFFIXES) * 2


@pytest.mark.parametrize(
    "argv",
    [["lint"], ["breaking", "--against", "proto/releases/v1.binpb"]],
    ids=["lint", "breaking"],
)
def test_buf_accepts_the_protos(argv: list[str]) -> None:
    """Buf lint (STANDARD) passes and nothing breaks the wire or generated code of release v1."""
    done = subprocess.run(
        [str(BUF), *argv], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_buf_breaking_notices_a_removed_field(tmp_path: Path) -> None:
    """The check has teeth: deleting a released field is reported as a breaking change."""
    proto = tmp_path / "proto" / "folio" / "orders" / "v1"
    proto.mkdir(parents=True)
    source = (REPO_ROOT / "proto/folio/orders/v1/orders.proto").read_text()
    (proto / "orders.proto").write_text(source.replace("  int64 refunded_minor = 7;\n", ""))
    (tmp_path / "buf.yaml").write_text((REPO_ROOT / "buf.yaml").read_text())
    users = tmp_path / "proto" / "folio" / "users" / "v1"
    users.mkdir(parents=True)
    (users / "users.proto").write_text((REPO_ROOT / "proto/folio/users/v1/users.proto").read_text())

    done = subprocess.run(
        [str(BUF), "breaking", "--against", str(REPO_ROOT / "proto/releases/v1.binpb")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode != 0
    assert "refunded_minor" in done.stdout + done.stderr
