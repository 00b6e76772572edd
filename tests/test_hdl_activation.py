"""cocotb bench for hdl/wc_activation.sv (pass, leaky_relu, pwl, gated; LATENCY = 7) over
several parameter sets, one Verilator build each. The table image is written by the bench's
own generator (sim/test_wc_activation.py) into the build folder; the bench rebuilds the same
tables from the seed passed in $WC_ACT_TABLE_SEED and compares every output with its model.
"""

from __future__ import annotations

import pytest
from benches import BUILD_ROOT, run_bench

from wavecomp.rtl.verilator import hdl_sources

# (N_TABLES, TBL_W, CH_W, TAG_W, GATE_DEPTH, HALF_UP)
ACTIVATION_PARAMS = [
    (1, 1, 1, 1, 1, 1),  # the defaults: one table, C = 1 only
    (3, 2, 3, 1, 4, 0),  # floor rounding, table count not a power of two
    (2, 1, 6, 1, 16, 1),  # gate buffer of 16 entries on 6-bit channels
    (4, 3, 4, 5, 8, 0),  # wider tags, TBL_W wider than needed, floor
]


@pytest.mark.parametrize(
    ("n_tables", "tbl_w", "ch_w", "tag_w", "gate_depth", "half_up"),
    ACTIVATION_PARAMS,
    ids=[f"T{n}_TW{tw}_C{c}_TG{tg}_G{g}_H{h}" for n, tw, c, tg, g, h in ACTIVATION_PARAMS],
)
def test_wc_activation(n_tables, tbl_w, ch_w, tag_w, gate_depth, half_up):
    from test_wc_activation import TABLE_SEED_ENV, make_tables, write_table_image

    tag = f"T{n_tables}_TW{tbl_w}_C{ch_w}_TG{tag_w}_G{gate_depth}_H{half_up}"
    build_dir = BUILD_ROOT / f"wc_activation_{tag}"
    build_dir.mkdir(parents=True, exist_ok=True)
    seed = 0xAC7 + 31 * n_tables + ch_w
    image = build_dir / "tables.hex"
    write_table_image(image, make_tables(n_tables, seed))
    run_bench(
        toplevel="wc_activation",
        sources=hdl_sources("wc_activation"),
        test_module="test_wc_activation",
        build_dir=build_dir,
        parameters={
            "N_TABLES": n_tables,
            "TABLE_FILE": f'"{image}"',
            "TBL_W": tbl_w,
            "CH_W": ch_w,
            "TAG_W": tag_w,
            "GATE_DEPTH": gate_depth,
            "HALF_UP": half_up,
        },
        extra_env={TABLE_SEED_ENV: str(seed)},
    )
