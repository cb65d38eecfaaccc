"""When a file counts as complete, its content hash, and where a handled file goes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from folio.inbox.completeness import Settler, is_temporary, paths_open_for_writing
from folio.inbox.files import move_to_loaded, quarantine, sha256_of

pytestmark = pytest.mark.unit


class FakeClock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        """The time the test set."""
        return self.now


@pytest.mark.parametrize(
    "name", [".orders.csv", "orders.csv.part", "orders.csv.tmp", "orders.csv~", "x.CRDOWNLOAD"]
)
def test_temporary_names_are_never_candidates(name: str) -> None:
    """Names writers use before a rename (dot-files, .part, .tmp, ~) are temporary."""
    assert is_temporary(Path(name))


def test_a_final_name_is_not_temporary() -> None:
    """`orders-2026-12-01.csv` is a name to read."""
    assert not is_temporary(Path("orders-2026-12-01.csv"))


def test_a_file_is_due_only_after_it_stayed_unchanged_for_the_settle_time(tmp_path: Path) -> None:
    """A growing file restarts its settle time; it is due once unchanged for `settle_s`, then untracked."""
    clock = FakeClock()
    settler = Settler(settle_s=2.0, clock=clock, open_for_writing=set)
    path = tmp_path / "orders.csv"
    path.write_text("a\n")
    settler.observe(path)
    clock.now = 1.5
    path.write_text("a\nb\n")  # it grew
    assert settler.due() == []
    clock.now = 3.0  # 1.5 s since the change was noticed
    assert settler.due() == []
    clock.now = 3.6
    assert settler.due() == [path]
    assert len(settler) == 0


def test_a_settled_file_still_open_for_writing_waits(tmp_path: Path) -> None:
    """A file some process holds open for writing is not due, whatever its settle time; closed, it is."""
    clock = FakeClock()
    settler = Settler(settle_s=1.0, clock=clock)
    path = tmp_path / "orders.csv"
    with path.open("w") as writer:
        writer.write("a\n")
        writer.flush()
        settler.observe(path)
        clock.now = 5.0
        assert str(path.resolve()) in paths_open_for_writing()
        assert settler.due() == []
    assert str(path.resolve()) not in paths_open_for_writing()
    assert settler.due() == [path]


def test_a_vanished_file_is_forgotten(tmp_path: Path) -> None:
    """A candidate deleted before it settled is dropped, not reported."""
    settler = Settler(settle_s=0.0, open_for_writing=set)
    path = tmp_path / "orders.csv"
    path.write_text("a\n")
    settler.observe(path)
    path.unlink()
    assert settler.due() == []
    assert len(settler) == 0


def test_the_content_hash_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    """`sha256_of` reads the file in chunks and hashes exactly its bytes."""
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 9000  # more than one chunk
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()


def test_quarantine_moves_the_file_with_its_reason_beside_it(tmp_path: Path) -> None:
    """A quarantined file lands in quarantine/ with <name>.reason.txt; a second of that name is kept too."""
    first = tmp_path / "orders.csv"
    first.write_text("one")
    moved = quarantine(first, content_hash="a" * 64, reason="row 3: bad")
    assert moved == tmp_path / "quarantine" / "orders.csv"
    assert (tmp_path / "quarantine" / "orders.csv.reason.txt").read_text() == "row 3: bad\n"
    second = tmp_path / "orders.csv"
    second.write_text("two")
    again = quarantine(second, content_hash="b" * 64, reason="other")
    assert again.name == "orders-bbbbbbbbbbbb.csv"
    assert again.with_name(again.name + ".reason.txt").read_text() == "other\n"
    assert not first.exists()


def test_a_loaded_file_moves_to_loaded(tmp_path: Path) -> None:
    """A handled file leaves the inbox folder for loaded/ with its name."""
    path = tmp_path / "orders.csv"
    path.write_text("x")
    assert move_to_loaded(path, content_hash="c" * 64) == tmp_path / "loaded" / "orders.csv"
    assert not path.exists()
