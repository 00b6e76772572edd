"""cocotb benches for hdl/wc_cache_ptrs.sv (pointer file + address arithmetic of a packed
activation memory) against an independent Python model, and an end-to-end bench of
wc_cache_ptrs + wc_cache_ram driven like a set of rings.

Layout. The pytest side (tests/test_hdl_cache.py) builds a ``Layout`` (tensor t: W_t words per
column, COLS_t ring columns, span_t, base word BASE_t; SIZE_t = COLS_t * W_t), passes its packed
parameters to the build and the layout itself as JSON in $WC_CACHE_LAYOUT; the bench checks
the scalar parameters it can read back (N, ADDR_W, ...) against it.

Pointer model (plain Python ints): per tensor newest, pend, countw; rst: pend = BASE,
newest = BASE + SIZE - W (the last column), countw = 0; commit[t]: newest = pend,
pend = pend + W (BASE at BASE + SIZE), countw = min(countw + W, SPANW). A read (rsel, rlagw,
rword) sampled at edge e gives raddr = newest - rlagw (+ SIZE if < BASE) + rword (mod
2**ADDR_W; defined for rlagw <= SIZE - W) and rzero = rlagw >= countw from the state before
edge e, shown with rvalid = 1
after edge e+1 (observed 2 cycles after it was driven); rvalid is 0 in every other cycle, and
a read sampled at a rst edge, or whose second edge is a rst edge, is dropped. waddr lane b =
pend[wsel] + wword lane b, combinational: checked every cycle 1 ns after the inputs change.

Pointer stimulus: random commits (any subset of tensors per cycle, sometimes all), reads on
most cycles (rlagw = lag * W_t with lags around the column count, the span and the ring size,
sometimes any rlagw <= SIZE_t - W_t, a few larger ones where only rzero = 1 is checked), a
random write select and word lanes every cycle, mid-stream resets (with a read and a commit in
the reset cycle, and reads in flight). Thousands of cycles per parameter set.

End to end (toplevel ``wc_cache_e2e``, a wrapper this module writes: ptrs.rvalid/raddr/rzero
-> ram.re/raddr/rzero, ptrs.waddr -> ram.waddr): every tensor has C_t channels (W_t =
ceil(C_t / BANKS)); each sample period each tensor's reads (lag, word) come first, then its
pending column is written drain-style (runs of 1..BANKS consecutive channels per clock,
straddling two words) no sooner than 3 clocks after its last read (the RAM reads 2 clocks
after the request), then it commits (several tensors per cycle, a commit in the cycle of the
tensor's last write); tensors interleave (one read of one tensor and one write of another in
the same cycle). The model is the history of columns per tensor, with no addresses at all: a
read of lag l shows, 4 clocks after the request, channel word * BANKS + b of the column l
commits back in lane b, or 0 when l >= min(commits since reset, span_t). Mid-run resets leave
stale data in the RAM (never cleared).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer
from lanes import pack, unpack_signed

LAYOUT_ENV = "WC_CACHE_LAYOUT"
ADDR_LAT = 2  # wc_cache_ptrs: request edge -> raddr/rzero/rvalid
RAM_LAT = 2  # wc_cache_ram: (re, raddr, rzero) edge -> rdata


# ---- layouts ------------------------------------------------------------------------------
@dataclass
class Layout:
    """Tensors packed into one memory, and the widths of the ports."""

    banks: int
    words: list[int]  # W_t
    cols: list[int]  # COLS_t
    spans: list[int]  # span_t <= COLS_t
    bases: list[int]  # BASE_t
    addr_w: int
    sel_w: int
    lag_w: int
    word_w: int
    channels: list[int] = field(default_factory=list)  # C_t (end-to-end bench only)

    @property
    def n(self) -> int:
        return len(self.words)

    @property
    def sizes(self) -> list[int]:
        return [c * w for c, w in zip(self.cols, self.words, strict=True)]

    @property
    def spanws(self) -> list[int]:
        return [s * w for s, w in zip(self.spans, self.words, strict=True)]

    @property
    def depth(self) -> int:
        return max(b + s for b, s in zip(self.bases, self.sizes, strict=True))

    def check(self) -> None:
        ends = sorted(zip(self.bases, self.sizes, strict=True))
        for (b0, s0), (b1, _) in itertools.pairwise(ends):
            assert b0 + s0 <= b1, f"rings overlap: {self}"
        for t in range(self.n):
            assert self.words[t] >= 1 and 1 <= self.spans[t] <= self.cols[t], self
            assert self.sizes[t] < 1 << self.addr_w, self
            assert self.bases[t] + self.sizes[t] <= 1 << self.addr_w, self
            assert self.words[t] - 1 < 1 << self.word_w, self
            assert self.sizes[t] - 1 < 1 << self.lag_w, self
            if self.channels:
                assert self.words[t] == math.ceil(self.channels[t] / self.banks), self
        assert self.n - 1 < 1 << self.sel_w, self

    def packed(self, values: list[int]) -> str:
        """A packed-vector parameter literal: value t at [t*ADDR_W +: ADDR_W]."""
        return f"{self.n * self.addr_w}'h{pack(values, self.addr_w):x}"

    def ptrs_params(self) -> dict[str, object]:
        return {
            "N": self.n,
            "ADDR_W": self.addr_w,
            "SEL_W": self.sel_w,
            "LAG_W": self.lag_w,
            "WORD_W": self.word_w,
            "BANKS": self.banks,
            "BASES": self.packed(self.bases),
            "SIZES": self.packed(self.sizes),
            "WORDS": self.packed(self.words),
            "SPANWS": self.packed(self.spanws),
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Layout:
        return cls(**json.loads(text))


def make_layout(
    words: list[int],
    cols: list[int],
    spans: list[int],
    *,
    banks: int = 1,
    gaps: list[int] | None = None,
    tight: bool = False,
    extra_w: int = 0,
    channels: list[int] | None = None,
) -> Layout:
    """Rings back to back in tensor order (gaps[t] unused words before ring t). tight: the
    last ring ends at 2**ADDR_W exactly (a gap is added before it); else ADDR_W =
    clog2(DEPTH + 1). extra_w: that many more bits on SEL_W, LAG_W and WORD_W than needed."""
    n = len(words)
    gaps = gaps or [0] * n
    bases, at = [], 0
    for t in range(n):
        at += gaps[t]
        bases.append(at)
        at += cols[t] * words[t]
    depth = at
    if tight:
        addr_w = max(1, (depth - 1).bit_length())
        pad = (1 << addr_w) - depth
        bases[-1] += pad
    else:
        addr_w = max(1, depth.bit_length())
    size_max = max(c * w for c, w in zip(cols, words, strict=True))
    lay = Layout(
        banks=banks,
        words=list(words),
        cols=list(cols),
        spans=list(spans),
        bases=bases,
        addr_w=addr_w,
        sel_w=max(1, (n - 1).bit_length()) + extra_w,
        lag_w=max(1, (size_max - 1).bit_length()) + extra_w,
        word_w=max(1, (max(words) - 1).bit_length()) + extra_w,
        channels=list(channels or []),
    )
    lay.check()
    return lay


def random_layout(seed: int, n: int, *, banks: int = 1, **kw) -> Layout:
    """n tensors with W_t 1..5, COLS_t 1..40 (some 1), span_t == COLS_t or < COLS_t."""
    rng = random.Random(seed)
    words = [rng.randint(1, 5) for _ in range(n)]
    cols = [rng.choice([1, 2, rng.randint(1, 40), rng.randint(20, 40)]) for _ in range(n)]
    spans = [c if rng.random() < 0.5 else rng.randint(1, c) for c in cols]
    gaps = [rng.choice([0, 0, 0, rng.randint(1, 9)]) for _ in range(n)]
    return make_layout(words, cols, spans, banks=banks, gaps=gaps, **kw)


def layout_from_env(dut) -> Layout:
    lay = Layout.from_json(os.environ[LAYOUT_ENV])
    want = {
        "N": lay.n,
        "ADDR_W": lay.addr_w,
        "SEL_W": lay.sel_w,
        "LAG_W": lay.lag_w,
        "WORD_W": lay.word_w,
        "BANKS": lay.banks,
    }
    for name, value in want.items():
        got = int(getattr(dut, name).value)
        assert got == value, f"parameter {name} = {got}, layout says {value}"
    return lay


def unpack(word: int, width: int, n: int) -> list[int]:
    """One bus value -> n unsigned lanes."""
    return [(word >> (width * i)) & ((1 << width) - 1) for i in range(n)]


def seed(name: str, lay: Layout) -> int:
    base = int(os.environ.get("WC_SEED", "1")) * 1000 + sum(map(ord, name))
    return base * 7919 + sum(lay.sizes) * 31 + lay.n * 7 + lay.banks


# ---- pointer model ------------------------------------------------------------------------
class PtrModel:
    def __init__(self, lay: Layout):
        self.lay = lay
        self.mask = (1 << lay.addr_w) - 1
        self.reset()

    def reset(self) -> None:
        lay = self.lay
        self.pend = list(lay.bases)
        self.newest = [b + s - w for b, s, w in zip(lay.bases, lay.sizes, lay.words, strict=True)]
        self.countw = [0] * lay.n

    def commit(self, mask: int) -> None:
        lay = self.lay
        for t in range(lay.n):
            if (mask >> t) & 1:
                self.newest[t] = self.pend[t]
                nxt = self.pend[t] + lay.words[t]
                self.pend[t] = lay.bases[t] if nxt == lay.bases[t] + lay.sizes[t] else nxt
                self.countw[t] = min(self.countw[t] + lay.words[t], lay.spanws[t])

    def read(self, t: int, lagw: int, word: int) -> tuple[int | None, int]:
        """(raddr, rzero); raddr None (undefined, not checked) for rlagw > SIZE_t - W_t."""
        lay = self.lay
        zero = int(lagw >= self.countw[t])
        if lagw > lay.sizes[t] - lay.words[t]:
            return None, zero
        a = self.newest[t] - lagw
        if a < lay.bases[t]:
            a += lay.sizes[t]
        return (a + word) & self.mask, zero

    def waddr(self, t: int, wwords: list[int]) -> list[int]:
        return [(self.pend[t] + w) & self.mask for w in wwords]


@dataclass
class PtrOp:
    rst: int = 0
    commit: int = 0
    re: int = 0
    rsel: int = 0
    rlagw: int = 0
    rword: int = 0
    wsel: int = 0
    wword: list[int] = field(default_factory=list)


class PtrStimulus:
    def __init__(self, lay: Layout, rng: random.Random):
        self.lay, self.rng = lay, rng
        self.ncommit = [0] * lay.n  # columns committed since reset (for interesting lags)
        self.ops: list[PtrOp] = []

    def op(self, *, rst: int = 0) -> PtrOp:
        lay, rng = self.lay, self.rng
        op = PtrOp(rst=rst)
        r = rng.random()
        if r < 0.25:
            op.commit = rng.randrange(1 << lay.n)
        elif r < 0.28:
            op.commit = (1 << lay.n) - 1
        if rng.random() < 0.75:
            t = rng.randrange(lay.n)
            w, cols, span, size = lay.words[t], lay.cols[t], lay.spans[t], lay.sizes[t]
            k = min(self.ncommit[t], span)
            lags = [rng.randrange(cols), k, k - 1, span - 1, span, cols - 1, 0]
            lags = [lag for lag in lags if 0 <= lag < cols]
            op.re, op.rsel, op.rword = 1, t, rng.randrange(w)
            r = rng.random()
            if r < 0.8:
                op.rlagw = rng.choice(lags) * w
            elif r < 0.97 or size - w + 1 >= 1 << lay.lag_w:
                op.rlagw = rng.randint(0, size - w)  # any start word, not just a column's
            else:
                op.rlagw = rng.randrange(size - w + 1, 1 << lay.lag_w)  # only rzero = 1
        op.wsel = rng.randrange(lay.n)
        op.wword = [rng.randrange(lay.words[op.wsel]) for _ in range(lay.banks)]
        self.add(op)
        return op

    def add(self, op: PtrOp) -> None:
        for t in range(self.lay.n):
            if op.rst:
                self.ncommit[t] = 0
            elif (op.commit >> t) & 1:
                self.ncommit[t] += 1
        self.ops.append(op)


async def start(dut, names: tuple[str, ...]) -> None:
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for name in names:
        getattr(dut, name).value = 0
    await FallingEdge(dut.clk)


PTR_INPUTS = ("rst", "commit", "re", "rsel", "rlagw", "rword", "wsel", "wword")


async def run_ptrs(dut, lay: Layout, ops: list[PtrOp]) -> dict[str, int]:
    """Drive ops one per cycle (ops[0] must be a reset); check every output every cycle."""
    assert ops[0].rst
    model = PtrModel(lay)
    idle = PtrOp(wword=[0] * lay.banks)
    ops = [*ops, idle, idle, idle]
    expect: dict[int, tuple[int | None, int]] = {}
    stats = {"reads": 0, "zero": 0, "nonzero": 0, "dropped": 0, "waddr": 0, "wrapped": 0}
    for i, op in enumerate(ops):
        await FallingEdge(dut.clk)
        # observation i: after the rising edges that sampled ops 0 .. i-1
        if i >= 1:
            want_valid = int(i in expect)
            got_valid = int(dut.rvalid.value)
            assert got_valid == want_valid, f"cycle {i}: rvalid={got_valid}, want {want_valid}"
            if want_valid:
                addr, zero = expect[i]
                assert int(dut.rzero.value) == zero, (
                    f"cycle {i}: rzero={int(dut.rzero.value)}, want {zero} (read {ops[i - 2]})"
                )
                if addr is not None:
                    got = int(dut.raddr.value)
                    assert got == addr, f"cycle {i}: raddr={got}, want {addr} (read {ops[i - 2]})"
                stats["reads"] += 1
                stats["zero" if zero else "nonzero"] += 1
        dut.rst.value = op.rst
        dut.commit.value = op.commit
        dut.re.value = op.re
        dut.rsel.value = op.rsel
        dut.rlagw.value = op.rlagw
        dut.rword.value = op.rword
        dut.wsel.value = op.wsel
        wword = op.wword or [0] * lay.banks
        dut.wword.value = pack(wword, lay.word_w)
        await Timer(1, unit="ns")
        if i > 0:  # (before the first reset edge the pointers are random)
            got = unpack(int(dut.waddr.value), lay.addr_w, lay.banks)
            want = model.waddr(op.wsel, wword)
            assert got == want, f"cycle {i}: waddr={got}, want {want} (op {op})"
            stats["waddr"] += 1
        if op.re:
            if op.rst or ops[i + 1].rst:
                stats["dropped"] += 1
            else:
                expect[i + ADDR_LAT] = model.read(op.rsel, op.rlagw, op.rword)
                t = op.rsel
                if op.rlagw <= lay.sizes[t] - lay.words[t]:
                    stats["wrapped"] += model.newest[t] - op.rlagw < lay.bases[t]
        if op.rst:
            model.reset()
        else:
            model.commit(op.commit)
    return stats


@cocotb.test()
async def ptrs_random(dut):
    """Thousands of cycles of random commits/reads/writes with two mid-stream resets."""
    lay = layout_from_env(dut)
    rng = random.Random(seed("ptrs_random", lay))
    await start(dut, PTR_INPUTS)
    st = PtrStimulus(lay, rng)
    st.add(PtrOp(rst=1, wword=[0] * lay.banks))
    n_cycles = max(4000, 60 * max(lay.cols) * lay.n)
    resets = {rng.randrange(n_cycles // 4, n_cycles // 2), rng.randrange(n_cycles // 2, n_cycles)}
    for i in range(n_cycles):
        if i in resets:
            st.op(rst=1)  # with whatever read/commit it draws: the read is dropped
            # a read in flight whose second edge is a reset edge is dropped as well
            st.ops[-2].re = 1
        else:
            st.op()
    stats = await run_ptrs(dut, lay, st.ops)
    assert stats["reads"] > n_cycles // 2 and stats["zero"] > 50 and stats["nonzero"] > 50
    assert stats["dropped"] >= 2
    if any(c > 1 for c in lay.cols):
        assert stats["wrapped"] > 20
    dut._log.info(f"{lay}: {len(st.ops)} cycles, {stats}")


@cocotb.test()
async def ptrs_fill_after_reset(dut):
    """After each reset, one commit of every tensor at a time and every (lag, word) of every
    tensor read back: zero exactly until the column was committed, up to the span."""
    lay = layout_from_env(dut)
    rng = random.Random(seed("ptrs_fill", lay))
    await start(dut, PTR_INPUTS)
    st = PtrStimulus(lay, rng)
    for _ in range(2):
        st.add(PtrOp(rst=1, wword=[0] * lay.banks))
        for _ in range(max(lay.cols) + 2):
            for t in range(lay.n):
                for lag in range(min(lay.cols[t], lay.spans[t] + 1)):
                    w = lay.words[t]
                    word = rng.randrange(w)
                    st.add(PtrOp(re=1, rsel=t, rlagw=lag * w, rword=word, wword=[0] * lay.banks))
            # with a read sampled at the commit edge: it still sees the old state
            t = rng.randrange(lay.n)
            lag = min(st.ncommit[t], lay.cols[t] - 1)  # the first zeroed lag, if any
            st.add(
                PtrOp(
                    commit=(1 << lay.n) - 1,
                    re=1,
                    rsel=t,
                    rlagw=lag * lay.words[t],
                    wword=[0] * lay.banks,
                )
            )
    stats = await run_ptrs(dut, lay, st.ops)
    assert stats["zero"] > 0 and stats["nonzero"] > 0


# ---- end to end: wc_cache_ptrs + wc_cache_ram ---------------------------------------------
E2E_TOP = "wc_cache_e2e"
E2E_SOURCE = """`default_nettype none
// bench wrapper (written by sim/test_wc_cache_ptrs.py): one packed memory and its pointers
module wc_cache_e2e #(
    parameter N = 1, parameter ADDR_W = 1, parameter SEL_W = 1, parameter LAG_W = 1,
    parameter WORD_W = 1, parameter BANKS = 1, parameter DEPTH = 1, parameter STYLE = "block",
    parameter [N*ADDR_W-1:0] BASES = 0, parameter [N*ADDR_W-1:0] SIZES = 1,
    parameter [N*ADDR_W-1:0] WORDS = 1, parameter [N*ADDR_W-1:0] SPANWS = 1
) (
    input wire clk, input wire rst, input wire [N-1:0] commit,
    input wire re, input wire [SEL_W-1:0] rsel, input wire [LAG_W-1:0] rlagw,
    input wire [WORD_W-1:0] rword,
    input wire we, input wire [BANKS-1:0] wbank_en, input wire [SEL_W-1:0] wsel,
    input wire [BANKS*WORD_W-1:0] wword, input wire [BANKS*16-1:0] wdata,
    output wire [BANKS*16-1:0] rdata
);
  wire [ADDR_W-1:0] raddr;
  wire rzero, rvalid;
  wire [BANKS*ADDR_W-1:0] waddr;
  wc_cache_ptrs #(.N(N), .ADDR_W(ADDR_W), .SEL_W(SEL_W), .LAG_W(LAG_W), .WORD_W(WORD_W),
      .BANKS(BANKS), .BASES(BASES), .SIZES(SIZES), .WORDS(WORDS), .SPANWS(SPANWS)) u_ptrs (
      .clk(clk), .rst(rst), .commit(commit), .re(re), .rsel(rsel), .rlagw(rlagw),
      .rword(rword), .raddr(raddr), .rzero(rzero), .rvalid(rvalid), .wsel(wsel),
      .wword(wword), .waddr(waddr));
  wc_cache_ram #(.BANKS(BANKS), .DEPTH(DEPTH), .ADDR_W(ADDR_W), .STYLE(STYLE)) u_ram (
      .clk(clk), .we(we), .wbank_en(wbank_en), .waddr(waddr), .wdata(wdata), .re(rvalid),
      .raddr(raddr), .rzero(rzero), .rdata(rdata));
endmodule
`default_nettype wire
"""


def write_e2e_source(path: Path) -> Path:
    path.write_text(E2E_SOURCE)
    return path


@dataclass
class E2eOp:
    rst: int = 0
    commit: int = 0
    re: int = 0
    rsel: int = 0
    rlag: int = 0  # in columns (rlagw = rlag * W_t)
    rword: int = 0
    we: int = 0
    wbank_en: int = 0
    wsel: int = 0
    wword: list[int] = field(default_factory=list)
    wdata: list[int] = field(default_factory=list)


class RingsModel:
    """Per tensor: the committed columns since reset (channel -> value) and the pending one."""

    def __init__(self, lay: Layout):
        self.lay = lay
        self.reset()

    def reset(self) -> None:
        self.hist: list[list[dict[int, int]]] = [[] for _ in range(self.lay.n)]
        self.pending: list[dict[int, int]] = [{} for _ in range(self.lay.n)]

    def read(self, t: int, lag: int, word: int) -> list[int | None]:
        lay = self.lay
        if lag >= min(len(self.hist[t]), lay.spans[t]):
            return [0] * lay.banks
        col = self.hist[t][-1 - lag]
        return [col.get(word * lay.banks + b) for b in range(lay.banks)]

    def write(self, t: int, en: int, wword: list[int], wdata: list[int]) -> None:
        for b in range(self.lay.banks):
            if (en >> b) & 1:
                self.pending[t][wword[b] * self.lay.banks + b] = wdata[b]

    def commit(self, mask: int) -> None:
        for t in range(self.lay.n):
            if (mask >> t) & 1:
                self.hist[t].append(self.pending[t])
                del self.hist[t][: -self.lay.cols[t]]
                self.pending[t] = {}


def rand_value(rng: random.Random) -> int:
    if rng.random() < 0.2:
        return rng.choice((-32768, 32767, 0, -1, 1))
    return rng.randint(-32768, 32767)


class E2eStimulus:
    """Sample periods of interleaved per-tensor streams: reads, then (>= 3 clocks after the
    last read) the pending column's writes, then a commit."""

    def __init__(self, lay: Layout, rng: random.Random):
        self.lay, self.rng = lay, rng
        self.ops: list[E2eOp] = []
        self.ncommit = [0] * lay.n

    def idle(self) -> E2eOp:
        lay, rng = self.lay, self.rng
        return E2eOp(
            wbank_en=rng.randrange(1 << lay.banks),
            wsel=rng.randrange(lay.n),
            wword=[rng.randrange(1 << lay.word_w) for _ in range(lay.banks)],
            wdata=[rand_value(rng) for _ in range(lay.banks)],
        )

    def reads(self, t: int) -> list[tuple[int, int]]:
        lay, rng = self.lay, self.rng
        w, cols, span = lay.words[t], lay.cols[t], lay.spans[t]
        k = min(self.ncommit[t], span)
        if rng.random() < 0.3:  # every (lag, word) of the span (and one beyond if any)
            return [(lag, word) for lag in range(min(cols, span + 1)) for word in range(w)]
        lags = [rng.randrange(cols), k, k - 1, span - 1, cols - 1, 0]
        lags = [lag for lag in lags if 0 <= lag < cols]
        return [(rng.choice(lags), rng.randrange(w)) for _ in range(rng.randint(1, 6))]

    def writes(self, t: int) -> list[tuple[int, list[int], list[int]]]:
        """(wbank_en, wword, wdata) drain-style: runs of 1..BANKS consecutive channels."""
        lay, rng = self.lay, self.rng
        n_ch, banks = lay.channels[t], lay.banks
        run = rng.randint(1, banks)
        fixed = rng.random() < 0.5
        out, c = [], 0
        while c < n_ch:
            n = min(run if fixed and c > 0 else rng.randint(1, banks), n_ch - c)
            words = [rng.randrange(1 << lay.word_w) for _ in range(banks)]
            en = 0
            for ch in range(c, c + n):
                en |= 1 << (ch % banks)
                words[ch % banks] = ch // banks
            if rng.random() > 0.03:  # else leave these channels stale
                out.append((en, words, [rand_value(rng) for _ in range(banks)]))
            c += n
        if rng.random() < 0.2:
            rng.shuffle(out)  # any order within the column
        return out

    def period(self) -> None:
        lay, rng = self.lay, self.rng
        reads = {t: self.reads(t) for t in range(lay.n)}
        writes = {t: self.writes(t) for t in range(lay.n)}
        last_read: dict[int, int] = {}
        committed: set[int] = set()
        while len(committed) < lay.n:
            op = self.idle()
            cycle = len(self.ops)
            rd = [t for t in range(lay.n) if reads[t]]
            if rd and rng.random() < 0.85:
                t = rng.choice(rd)
                op.re, op.rsel = 1, t
                op.rlag, op.rword = reads[t].pop(0)
                last_read[t] = cycle
            wr = [
                t
                for t in range(lay.n)
                if not reads[t] and writes[t] and cycle >= last_read.get(t, -10) + 3
            ]
            if wr and rng.random() < 0.85:
                t = rng.choice(wr)
                op.we, op.wsel = 1, t
                op.wbank_en, op.wword, op.wdata = writes[t].pop(0)
            ready = [
                t
                for t in range(lay.n)
                if t not in committed
                and not reads[t]
                and not writes[t]
                and cycle >= last_read.get(t, -10) + 3
            ]
            for t in ready:
                if rng.random() < 0.6:
                    op.commit |= 1 << t
                    committed.add(t)
            self.add(op)

    def add(self, op: E2eOp) -> None:
        for t in range(self.lay.n):
            if op.rst:
                self.ncommit[t] = 0
            elif (op.commit >> t) & 1:
                self.ncommit[t] += 1
        self.ops.append(op)


E2E_INPUTS = (
    "rst",
    "commit",
    "re",
    "rsel",
    "rlagw",
    "rword",
    "we",
    "wbank_en",
    "wsel",
    "wword",
    "wdata",
)


async def run_e2e(dut, lay: Layout, ops: list[E2eOp]) -> dict[str, int]:
    model = RingsModel(lay)
    lat = ADDR_LAT + RAM_LAT
    idle = E2eOp(wword=[0] * lay.banks, wdata=[0] * lay.banks)
    expect: dict[int, list[int | None]] = {}
    stats = {"reads": 0, "zero": 0, "data": 0, "lanes": 0}
    for i, op in enumerate([*ops, *[idle] * (lat + 1)]):
        await FallingEdge(dut.clk)
        if i in expect:
            got = unpack_signed(int(dut.rdata.value), 16, lay.banks)
            want = expect[i]
            for b in range(lay.banks):
                if want[b] is not None:
                    assert got[b] == want[b], (
                        f"cycle {i}: rdata lane {b} = {got[b]}, want {want[b]} "
                        f"(read issued in cycle {i - lat}: {ops[i - lat]})"
                    )
            stats["reads"] += 1
            stats["zero"] += all(v == 0 for v in want)
            known = [v for v in want if v is not None]
            stats["data"] += any(v != 0 for v in known)
            stats["lanes"] += len(known)
        dut.rst.value = op.rst
        dut.commit.value = op.commit
        dut.re.value = op.re
        dut.rsel.value = op.rsel
        dut.rlagw.value = op.rlag * lay.words[op.rsel]
        dut.rword.value = op.rword
        dut.we.value = op.we
        dut.wbank_en.value = op.wbank_en
        dut.wsel.value = op.wsel
        dut.wword.value = pack(op.wword or [0] * lay.banks, lay.word_w)
        dut.wdata.value = pack(op.wdata or [0] * lay.banks, 16)
        if op.re:
            assert not op.rst
            expect[i + lat] = model.read(op.rsel, op.rlag, op.rword)
        if op.we:
            model.write(op.wsel, op.wbank_en, op.wword, op.wdata)
        if op.rst:
            model.reset()
        else:
            model.commit(op.commit)
    return stats


@cocotb.test()
async def e2e_rings(dut):
    """Sample periods over several wraps of every ring, with two mid-run resets."""
    lay = layout_from_env(dut)
    rng = random.Random(seed("e2e_rings", lay))
    await start(dut, E2E_INPUTS)
    st = E2eStimulus(lay, rng)
    st.add(E2eOp(rst=1))
    n_periods = 3 * max(lay.cols) + 12
    resets = {rng.randrange(n_periods // 3, n_periods // 2), n_periods - max(lay.spans) - 3}
    for p in range(n_periods):
        if p in resets:
            for _ in range(ADDR_LAT + RAM_LAT + 1):  # let the reads in flight come out
                st.add(st.idle())
            st.add(E2eOp(rst=1, commit=rng.randrange(1 << lay.n)))
        st.period()
        for _ in range(rng.choice([0, 0, 1, 3])):
            st.add(st.idle())
    stats = await run_e2e(dut, lay, st.ops)
    assert stats["reads"] > 100 and stats["zero"] > 10 and stats["data"] > stats["reads"] // 3
    dut._log.info(f"{lay}: {len(st.ops)} cycles, {stats}")
