"""cocotb benches for the packed activation caches: hdl/wc_ring_ptr.sv (one ring's pointer
state), hdl/wc_cache_ptrs.sv (pointer file of wc_ring_ptrs and address arithmetic),
hdl/wc_cache_ram.sv (banked RAM with zeroing), and both together driven like a set of rings
(a wrapper written into the build folder by sim/test_wc_cache_ptrs.py).

Each parameter set is its own Verilator build; the layout of the rings (or the one ring) goes
to the bench as JSON in $WC_CACHE_LAYOUT ($WC_RING_PARAMS; the bench checks the parameters
it can read back against it). Run with
``python -m pytest tests/test_hdl_cache.py -q -x``.
"""

from __future__ import annotations

import pytest
from benches import BUILD_ROOT, run_bench
from test_wc_cache_ptrs import (
    E2E_TOP,
    LAYOUT_ENV,
    make_layout,
    random_layout,
    write_e2e_source,
)
from test_wc_ring_ptr import RING_ENV, Ring

from wavecomp.rtl.verilator import hdl_sources

RINGS = {
    # W = 1, COLS = 1: every commit wraps (pend = newest = BASE)
    "W1_C1": Ring(base=0, words=1, cols=1, span=1, addr_w=1),
    # the same at BASE = 1: BASE + SIZE = 2**ADDR_W
    "W1_C1_B1_top": Ring(base=1, words=1, cols=1, span=1, addr_w=1),
    # SIZE = 2, a power of two (ADDR_W = clog2(SIZE + 1)); SPANW = 1 < SIZE
    "W1_C2_S1": Ring(base=0, words=1, cols=2, span=1, addr_w=2),
    # BASE > 0, SPANW = 12 < SIZE = 21, the ring ends below 2**ADDR_W
    "W3_C7_S4_B9": Ring(base=9, words=3, cols=7, span=4, addr_w=5),
    # SIZE = 16, a power of two filling words 0..15 (ADDR_W = 5 holds SIZE), SPANW = SIZE
    "W2_C8_pow2": Ring(base=0, words=2, cols=8, span=8, addr_w=5),
    # BASE > 0 and BASE + SIZE = 2**ADDR_W, SPANW = SIZE
    "W5_C3_B17_top": Ring(base=17, words=5, cols=3, span=3, addr_w=5),
    # COLS = 1 with W > 1, at the top of the address space
    "W4_C1_B12_top": Ring(base=12, words=4, cols=1, span=1, addr_w=4),
    # W = 1, 40 columns, span 1, wide address
    "W1_C40_S1_B3": Ring(base=3, words=1, cols=40, span=1, addr_w=7),
}

PTRS_LAYOUTS = {
    # one tensor, one column of one word (K = 1, C <= BANKS): every commit wraps
    "N1_W1_C1": make_layout([1], [1], [1], banks=1),
    # one tensor, 3 words per column, 40 columns, span < COLS, LAG_W/WORD_W/SEL_W wider
    "N1_W3_C40_S37": make_layout([3], [40], [37], banks=4, extra_w=2),
    # N = 5, odd W, a one-column ring, span == COLS and < COLS, gaps between rings
    "N5_oddW_B3": make_layout(
        [1, 3, 5, 3, 1], [7, 1, 12, 40, 5], [7, 1, 9, 40, 2], banks=3, gaps=[0, 2, 0, 5, 1]
    ),
    # the last ring ends at 2**ADDR_W exactly (BASE + SIZE overflows ADDR_W bits)
    "N3_tight_B1": make_layout([2, 5, 3], [10, 3, 7], [10, 2, 7], banks=1, tight=True),
    # 8 random tensors (W 1..5, COLS 1..40), wider selects
    "N8_random_B4": random_layout(5, 8, banks=4, extra_w=1),
}

E2E_LAYOUTS = {
    # 5 tensors with odd channel counts on 3 banks (partial last words), rings with span ==
    # COLS (pending column = oldest) and span < COLS; DEPTH not a power of two
    "N5_B3_block": (
        make_layout(
            [1, 3, 2, 5, 1],
            [4, 9, 1, 6, 17],
            [4, 6, 1, 6, 3],
            banks=3,
            channels=[2, 7, 6, 13, 3],
        ),
        "block",
    ),
    # 3 tensors on 4 banks in LUT RAM, the last ring at the top of the address space
    "N3_B4_distributed": (
        make_layout([2, 1, 3], [9, 33, 5], [9, 20, 5], banks=4, tight=True, channels=[5, 4, 12]),
        "distributed",
    ),
}

# (BANKS, DEPTH, ADDR_W, STYLE)
RAM_PARAMS = [
    (1, 5, 3, "block"),  # DEPTH not a power of two, tiny
    (3, 37, 7, "distributed"),  # ADDR_W wider than needed
    (4, 3000, 12, "block"),  # the synthesis-sanity size
]


@pytest.mark.parametrize("name", list(RINGS))
def test_wc_ring_ptr(name: str) -> None:
    ring = RINGS[name]
    ring.check()
    run_bench(
        toplevel="wc_ring_ptr",
        sources=hdl_sources("wc_ring_ptr"),
        test_module="test_wc_ring_ptr",
        build_dir=BUILD_ROOT / f"wc_ring_ptr_{name}",
        parameters=ring.params(),
        extra_env={RING_ENV: ring.to_json()},
    )


@pytest.mark.parametrize("name", list(PTRS_LAYOUTS))
def test_wc_cache_ptrs(name: str) -> None:
    lay = PTRS_LAYOUTS[name]
    run_bench(
        toplevel="wc_cache_ptrs",
        sources=hdl_sources("wc_cache_ptrs", "wc_ring_ptr"),
        test_module="test_wc_cache_ptrs",
        build_dir=BUILD_ROOT / f"wc_cache_ptrs_{name}",
        parameters=lay.ptrs_params(),
        extra_env={LAYOUT_ENV: lay.to_json(), "COCOTB_TEST_FILTER": "ptrs_"},
    )


@pytest.mark.parametrize(
    ("banks", "depth", "addr_w", "style"),
    RAM_PARAMS,
    ids=[f"B{b}_D{d}_A{a}_{s}" for b, d, a, s in RAM_PARAMS],
)
def test_wc_cache_ram(banks: int, depth: int, addr_w: int, style: str) -> None:
    run_bench(
        toplevel="wc_cache_ram",
        sources=hdl_sources("wc_cache_ram"),
        test_module="test_wc_cache_ram",
        build_dir=BUILD_ROOT / f"wc_cache_ram_B{banks}_D{depth}_A{addr_w}_{style}",
        parameters={"BANKS": banks, "DEPTH": depth, "ADDR_W": addr_w, "STYLE": f'"{style}"'},
    )


@pytest.mark.parametrize("name", list(E2E_LAYOUTS))
def test_wc_cache_end_to_end(name: str) -> None:
    lay, style = E2E_LAYOUTS[name]
    build_dir = BUILD_ROOT / f"wc_cache_e2e_{name}"
    build_dir.mkdir(parents=True, exist_ok=True)
    wrapper = write_e2e_source(build_dir / f"{E2E_TOP}.sv")
    run_bench(
        toplevel=E2E_TOP,
        sources=[*hdl_sources("wc_cache_ptrs", "wc_ring_ptr", "wc_cache_ram"), wrapper],
        test_module="test_wc_cache_ptrs",
        build_dir=build_dir,
        parameters={**lay.ptrs_params(), "DEPTH": lay.depth, "STYLE": f'"{style}"'},
        extra_env={LAYOUT_ENV: lay.to_json(), "COCOTB_TEST_FILTER": "e2e_"},
    )
