"""``python -m benchmarks [NAME ...]``: run benchmarks, save JSON, print one line each."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import benchmarks


def available() -> list[str]:
    """Names of the benchmark modules (``bench_<name>.py``)."""
    return sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(Path(benchmarks.__file__).parent)])
        if info.name.startswith("bench_")
    )


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all when none is named)."""
    names = argv or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}",
            file=sys.stderr,
        )
        return 2
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        outcome = module.run()
        for result in outcome if isinstance(outcome, list) else [outcome]:
            path = result.write()
            print(f"{result.line()}  [{path}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
