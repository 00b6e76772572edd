"""cocotb benches for the datapath module hdl/wc_mac_array.sv (the caches: tests/test_hdl_cache.py).

Each parameter set is its own Verilator build (10-25 s, ccache makes rebuilds cheap); the
benches in sim/ compare every output with an independent Python model.
"""

from __future__ import annotations

import pytest
from benches import BUILD_ROOT, run_bench

from wavecomp.rtl.verilator import hdl_sources

# (G, Q, ACC_W, UNSIGNED_W)
MAC_ARRAY_PARAMS = [
    (1, 1, 40, 0),
    (1, 8, 36, 0),
    (2, 4, 40, 0),
    (3, 2, 40, 0),
    (4, 4, 44, 0),
    (8, 1, 48, 0),
    (1, 1, 40, 1),
    (3, 2, 37, 1),  # the narrowest ACC_W its 20-step extreme groups fit
    (4, 4, 40, 1),
]


@pytest.mark.parametrize(
    ("g", "q", "acc_w", "unsigned_w"),
    MAC_ARRAY_PARAMS,
    ids=[f"G{g}_Q{q}_A{a}_U{u}" for g, q, a, u in MAC_ARRAY_PARAMS],
)
def test_wc_mac_array(g, q, acc_w, unsigned_w):
    params = {"G": g, "Q": q, "ACC_W": acc_w, "UNSIGNED_W": unsigned_w}
    run_bench(
        toplevel="wc_mac_array",
        sources=hdl_sources("wc_mac_array"),
        test_module="test_wc_mac_array",
        build_dir=BUILD_ROOT / f"wc_mac_array_G{g}_Q{q}_A{acc_w}_U{unsigned_w}",
        parameters=params,
    )
