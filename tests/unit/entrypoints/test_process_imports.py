"""Each process `folio up` runs imports only what it serves (the platform's memory budget).

Every process wires the whole platform (``folio.bootstrap``), so a heavy library one
module imports at its top lands in all of them: the R data-set reader's rdata (numpy,
pandas, xarray) cost each process ~45 MiB and seconds of start-up. Those load where
they are used, and Flask only where pages are served (the gateway).
"""

from __future__ import annotations

import pytest

from tests.support.imports import loaded_by

pytestmark = pytest.mark.unit

USED_ON_DEMAND = ("pandas", "numpy", "rdata", "xarray", "fpdf", "pyarrow", "duckdb", "deltalake")
"""Loaded by the one task that needs them: importing an Austen data set, writing a PDF, reading the lake."""

PROCESSES = {
    "folio.entrypoints.gateway.__main__": USED_ON_DEMAND,
    "folio.entrypoints.grpc.__main__": (*USED_ON_DEMAND, "flask"),
    "folio.entrypoints.worker.__main__": (*USED_ON_DEMAND, "flask"),
    "folio.entrypoints.streams.__main__": (*USED_ON_DEMAND, "flask"),
    # `folio up` itself, `folio search sync` and `folio inbox watch` (whose watchdog observer
    # starts with the watch), which wire the platform after this import.
    "folio.entrypoints.cli": (*USED_ON_DEMAND, "flask", "watchdog"),
}


@pytest.mark.parametrize("module", PROCESSES)
def test_a_process_entry_module_loads_no_library_it_does_not_serve(module: str) -> None:
    """Importing a process's entry module in a fresh interpreter loads no heavy library it does not use."""
    assert loaded_by(module, PROCESSES[module]) == {}
