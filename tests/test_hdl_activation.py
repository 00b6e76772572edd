"""cocotb benches for hdl/wc_activation.sv (pass, leaky_relu, pwl, gated; LATENCY = 7) and its
knot ROM hdl/wc_table_rom.sv (L[i], L[i+1] from one DP16KD per table) over several parameter
sets, one Verilator build each. The table images are written by the benches' own generators
(sim/test_wc_activation.py, sim/test_wc_table_rom.py) into the build folder, the last knots go
in as TABLE_ENDS; the benches rebuild the same tables from the seed passed in the environment
and compare every output with their models.
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
    from test_wc_activation import TABLE_SEED_ENV, make_tables, table_ends, write_table_image

    tag = f"T{n_tables}_TW{tbl_w}_C{ch_w}_TG{tag_w}_G{gate_depth}_H{half_up}"
    build_dir = BUILD_ROOT / f"wc_activation_{tag}"
    build_dir.mkdir(parents=True, exist_ok=True)
    seed = 0xAC7 + 31 * n_tables + ch_w
    image = build_dir / "tables.hex"
    tables = make_tables(n_tables, seed)
    write_table_image(image, tables)
    run_bench(
        toplevel="wc_activation",
        sources=hdl_sources("wc_activation", "wc_table_rom"),
        test_module="test_wc_activation",
        build_dir=build_dir,
        parameters={
            "N_TABLES": n_tables,
            "TABLE_FILE": f'"{image}"',
            "TABLE_ENDS": table_ends(tables),
            "TBL_W": tbl_w,
            "CH_W": ch_w,
            "TAG_W": tag_w,
            "GATE_DEPTH": gate_depth,
            "HALF_UP": half_up,
        },
        extra_env={TABLE_SEED_ENV: str(seed)},
    )


# (N_TABLES, TBL_W): TBL_W 2 leaves table indices >= N_TABLES unused (driven between reads)
TABLE_ROM_PARAMS = [(1, 2), (2, 2), (3, 2), (4, 2)]


@pytest.mark.parametrize(
    ("n_tables", "tbl_w"), TABLE_ROM_PARAMS, ids=[f"T{n}_TW{tw}" for n, tw in TABLE_ROM_PARAMS]
)
def test_wc_table_rom(n_tables, tbl_w):
    from test_wc_table_rom import TABLE_SEED_ENV, make_tables, table_ends, write_image

    build_dir = BUILD_ROOT / f"wc_table_rom_T{n_tables}_TW{tbl_w}"
    build_dir.mkdir(parents=True, exist_ok=True)
    seed = 0x7AB + 17 * n_tables
    image = build_dir / "tables.hex"
    tables = make_tables(n_tables, seed)
    write_image(image, tables)
    run_bench(
        toplevel="wc_table_rom",
        sources=hdl_sources("wc_table_rom"),
        test_module="test_wc_table_rom",
        build_dir=build_dir,
        parameters={
            "N_TABLES": n_tables,
            "TABLE_FILE": f'"{image}"',
            "TBL_W": tbl_w,
            "TABLE_ENDS": table_ends(tables),
        },
        extra_env={TABLE_SEED_ENV: str(seed)},
    )
