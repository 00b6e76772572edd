"""cocotb benches for the control/datapath helpers in hdl/: wc_rom, wc_delay, wc_sequencer,
wc_requant, wc_drain, wc_group_queue — several parameter sets each (one Verilator build per set)."""

from __future__ import annotations

import pytest
from benches import BUILD_ROOT, run_bench

from wavecomp.rtl.verilator import hdl_sources

BUILD = BUILD_ROOT


def run(toplevel: str, build_name: str, parameters: dict, *modules: str) -> None:
    run_bench(
        toplevel=toplevel,
        sources=hdl_sources(*(modules or (toplevel,))),
        test_module=f"test_{toplevel}",
        build_dir=BUILD / build_name,
        parameters=parameters,
    )


@pytest.mark.parametrize(("width", "depth", "addr_w"), [(16, 1, 1), (37, 5, 3), (200, 64, 6)])
def test_wc_rom(width: int, depth: int, addr_w: int) -> None:
    from test_wc_rom import rom_words, write_image

    name = f"wc_rom_w{width}_d{depth}_a{addr_w}"
    image = BUILD / name / "rom.hex"
    image.parent.mkdir(parents=True, exist_ok=True)
    write_image(image, width, rom_words(width, depth))
    params = {"WIDTH": width, "DEPTH": depth, "ADDR_W": addr_w, "INIT_FILE": f'"{image}"'}
    run("wc_rom", name, params)


@pytest.mark.parametrize(("width", "depth"), [(3, 0), (1, 1), (16, 5), (40, 2)])
def test_wc_delay(width: int, depth: int) -> None:
    run("wc_delay", f"wc_delay_w{width}_d{depth}", {"WIDTH": width, "DEPTH": depth})


@pytest.mark.parametrize(("length", "pc_w"), [(1, 1), (2, 1), (7, 3), (200, 8)])
def test_wc_sequencer(length: int, pc_w: int) -> None:
    run("wc_sequencer", f"wc_sequencer_len{length}_pc{pc_w}", {"LEN": length, "PC_W": pc_w})


@pytest.mark.parametrize(
    ("acc_w", "max_shift"),
    [(29, 0), (32, 0), (40, 0), (64, 0), (30, 1), (31, 2), (32, 3), (48, 3), (64, 3)],
)
def test_wc_requant(acc_w: int, max_shift: int) -> None:
    params = {"ACC_W": acc_w, "MAX_SHIFT": max_shift}
    run("wc_requant", f"wc_requant_acc{acc_w}_sh{max_shift}", params)


@pytest.mark.parametrize(
    ("q", "d", "acc_w", "ch_w", "tag_w", "max_shift", "narrow"),
    [
        (1, 1, 40, 1, 1, 0, 1),
        (3, 1, 29, 2, 3, 0, 1),
        (8, 1, 64, 6, 4, 0, 1),
        (4, 4, 32, 2, 2, 0, 1),  # wide: the whole group in one beat; out_ch steps by D = 0
        (8, 3, 40, 3, 2, 0, 1),  # last beat of a full wide group has 2 lanes; channels wrap
        (5, 2, 29, 3, 1, 0, 1),
        (12, 12, 40, 4, 3, 0, 1),
        (4, 4, 32, 2, 2, 3, 1),  # MAX_SHIFT = 3 at the smallest ACC_W it allows
        (8, 2, 48, 3, 3, 3, 1),
        (3, 1, 32, 2, 1, 3, 1),
        (5, 3, 48, 3, 2, 3, 1),
        (4, 2, 35, 3, 2, 0, 0),  # NARROW = 0: wide groups only (the default model's drain)
        (4, 4, 31, 2, 2, 2, 0),  # NARROW = 0 with Q = D: no pending register at all
    ],
)
def test_wc_drain(
    q: int, d: int, acc_w: int, ch_w: int, tag_w: int, max_shift: int, narrow: int
) -> None:
    params = {"Q": q, "D": d, "ACC_W": acc_w, "CH_W": ch_w, "TAG_W": tag_w}
    params |= {"MAX_SHIFT": max_shift, "NARROW": narrow}
    name = f"wc_drain_q{q}_d{d}_acc{acc_w}_ch{ch_w}_tag{tag_w}_sh{max_shift}_n{narrow}"
    run("wc_drain", name, params, "wc_drain", "wc_requant")


@pytest.mark.parametrize("width", [1, 77])
def test_wc_group_queue(width: int) -> None:
    run("wc_group_queue", f"wc_group_queue_w{width}", {"WIDTH": width})
