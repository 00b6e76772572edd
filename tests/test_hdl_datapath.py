"""cocotb benches for the datapath modules hdl/wc_act_cache.sv and hdl/wc_mac_array.sv.

Each parameter set is its own Verilator build (10-25 s, ccache makes rebuilds cheap); the
benches in sim/ compare every output with an independent Python model.
"""

from __future__ import annotations

import pytest
from benches import BUILD_ROOT, run_bench

from wavecomp.rtl.verilator import hdl_sources

# (BANKS, WORDS, WORD_W, COL_W, SPAN, LAG_W)
ACT_CACHE_PARAMS = [
    (1, 1, 1, 4, 13, 4),  # SPAN not a power of two
    (3, 2, 1, 4, 16, 5),  # SPAN == 2**COL_W (pending column aliases the oldest), rlag > ring
    (4, 4, 3, 3, 5, 3),  # WORD_W wider than log2(WORDS): high word bits ignored
    (3, 4, 2, 4, 16, 4),  # aliasing with several words per column
    (2, 1, 1, 1, 1, 1),  # K = 1 layer: SPAN 1, two columns
    (4, 2, 1, 2, 4, 3),  # tiny aliasing ring, many wraps
    (5, 8, 4, 3, 6, 3),  # odd bank count, per-bank wword lanes wider than log2(WORDS)
]

# (G, Q, ACC_W)
MAC_ARRAY_PARAMS = [
    (1, 1, 40),
    (1, 8, 36),
    (2, 4, 40),
    (3, 2, 40),
    (4, 4, 44),
    (8, 1, 48),
]


@pytest.mark.parametrize(
    ("banks", "words", "word_w", "col_w", "span", "lag_w"),
    ACT_CACHE_PARAMS,
    ids=[f"B{b}_W{w}_WW{ww}_C{c}_S{s}_L{lw}" for b, w, ww, c, s, lw in ACT_CACHE_PARAMS],
)
def test_wc_act_cache(banks, words, word_w, col_w, span, lag_w):
    params = {
        "BANKS": banks,
        "WORDS": words,
        "WORD_W": word_w,
        "COL_W": col_w,
        "SPAN": span,
        "LAG_W": lag_w,
    }
    tag = "_".join(f"{k}{v}" for k, v in params.items())
    run_bench(
        toplevel="wc_act_cache",
        sources=hdl_sources("wc_act_cache"),
        test_module="test_wc_act_cache",
        build_dir=BUILD_ROOT / f"wc_act_cache_{tag}",
        parameters=params,
    )


@pytest.mark.parametrize(
    ("g", "q", "acc_w"), MAC_ARRAY_PARAMS, ids=[f"G{g}_Q{q}_A{a}" for g, q, a in MAC_ARRAY_PARAMS]
)
def test_wc_mac_array(g, q, acc_w):
    params = {"G": g, "Q": q, "ACC_W": acc_w}
    run_bench(
        toplevel="wc_mac_array",
        sources=hdl_sources("wc_mac_array"),
        test_module="test_wc_mac_array",
        build_dir=BUILD_ROOT / f"wc_mac_array_G{g}_Q{q}_A{acc_w}",
        parameters=params,
    )
