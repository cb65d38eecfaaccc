"""The API benchmark's cache figures: hit ratios between two scrapes of ``/metrics``."""

from __future__ import annotations

import pytest
from benchmarks.bench_api_vs_template import hit_ratios

pytestmark = pytest.mark.unit


def test_a_hit_ratio_counts_l1_and_l2_hits_over_the_reads_between_scrapes() -> None:
    """Reads are L1's hits plus misses; an L2 hit after an L1 miss still counts as a hit."""
    before: dict[str, dict[str, float]] = {
        "pages": {"l1_hits": 10, "l1_misses": 5, "l2_hits": 1, "l2_misses": 4}
    }
    after: dict[str, dict[str, float]] = {
        "pages": {"l1_hits": 100, "l1_misses": 15, "l2_hits": 6, "l2_misses": 9},
        "idle": {"l1_hits": 3, "l1_misses": 0},
    }
    ratios = hit_ratios(before, after)
    assert ratios["pages"] == pytest.approx((90 + 5) / 100)
    assert ratios["idle"] == 1.0


def test_a_cache_nobody_read_has_no_ratio() -> None:
    """No reads between the scrapes: no figure rather than a division by zero."""
    same: dict[str, dict[str, float]] = {"pages": {"l1_hits": 4, "l1_misses": 1}}
    assert hit_ratios(same, same) == {}
