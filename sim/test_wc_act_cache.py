"""cocotb bench for hdl/wc_act_cache.sv against an independent Python model of the ring.

The model keeps the RAM contents per (bank, address), the write pointer wp and count; a write
puts wdata lane b at (pending column, wword lane b) in every enabled bank b (each bank has its
own word index); a read issued in cycle c uses the state before the clock edge of cycle c (old
wp in a commit cycle, old data when the same address is written in the same cycle) and must
show on rdata in cycle c + 2; a lag >= count reads all zeros. Locations never written are
don't-care. Stimulus is seeded random over more than 3 wraps of the ring: whole-word writes
(every lane the same word), single-bank writes, drain-style runs of up to BANKS consecutive
channels that straddle two words (channel c = bank c % BANKS, word c // BANKS), scattered
writes with an unrelated word per bank, skipped words (stale columns), idle cycles with junk
on the write bus, commits, reads at every lag (including >= count, the oldest column, and
lags beyond the ring), word indices with the unused high bits set, mid-run resets. has_data
is checked every cycle.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge
from lanes import pack, unpack_signed

EDGE_VALUES = (-32768, 32767, 0, -1, 1)


@dataclass
class Op:
    rst: int = 0
    commit: int = 0
    we: int = 0
    wbank_en: int = 0
    wword: list[int] = field(default_factory=list)  # per bank; empty = all zero
    wdata: list[int] = field(default_factory=list)
    re: int = 0
    rlag: int = 0
    rword: int = 0


@dataclass
class Shape:
    BANKS: int
    WORDS: int
    WORD_W: int
    COL_W: int
    SPAN: int
    LAG_W: int

    @property
    def ncol(self) -> int:
        return 1 << self.COL_W


def shape_of(dut) -> Shape:
    names = ("BANKS", "WORDS", "WORD_W", "COL_W", "SPAN", "LAG_W")
    return Shape(*(int(getattr(dut, n).value) for n in names))


class RingModel:
    def __init__(self, s: Shape):
        self.s = s
        self.mem: dict[tuple[int, int], int] = {}
        self.wp = 0
        self.count = 0

    def addr(self, col: int, word: int) -> int:
        return (col % self.s.ncol) * self.s.WORDS + (word % self.s.WORDS)

    def step(self, op: Op) -> list[int | None] | None:
        """Apply one cycle; return the read result (None = no read; None lanes = unknown)."""
        s = self.s
        result = None
        if op.re:
            if op.rlag >= self.count:
                result = [0] * s.BANKS
            else:
                a = self.addr(self.wp - op.rlag, op.rword)
                result = [self.mem.get((b, a)) for b in range(s.BANKS)]
        if op.we:
            assert not op.commit, "stimulus error: the top never writes in a commit cycle"
            for b in range(s.BANKS):
                if (op.wbank_en >> b) & 1:
                    self.mem[(b, self.addr(self.wp + 1, op.wword[b]))] = op.wdata[b]
        if op.rst:
            self.wp, self.count = 0, 0
        elif op.commit:
            self.wp = (self.wp + 1) % s.ncol
            self.count = min(self.count + 1, s.SPAN)
        return result


def rand_value(rng: random.Random) -> int:
    return rng.choice(EDGE_VALUES) if rng.random() < 0.2 else rng.randint(-32768, 32767)


def rand_word_index(rng: random.Random, s: Shape, word: int) -> int:
    """word with random unused high bits (only the low log2(WORDS) bits address the RAM)."""
    high = rng.randrange(1 << s.WORD_W) & ~(s.WORDS - 1)
    return high | word


def same_word(rng: random.Random, s: Shape, word: int) -> list[int]:
    """Every lane carries word (half the time the very same index, else random high bits)."""
    if rng.random() < 0.5:
        return [rand_word_index(rng, s, word)] * s.BANKS
    return [rand_word_index(rng, s, word) for _ in range(s.BANKS)]


def channel_run(rng: random.Random, s: Shape, c0: int, n: int) -> tuple[int, list[int]]:
    """(wbank_en, wword) writing channels c0 .. c0+n-1 (n <= BANKS): bank c % BANKS, word
    c // BANKS. Disabled lanes carry random words."""
    words = [rng.randrange(1 << s.WORD_W) for _ in range(s.BANKS)]
    en = 0
    for c in range(c0, c0 + n):
        en |= 1 << (c % s.BANKS)
        words[c % s.BANKS] = rand_word_index(rng, s, c // s.BANKS)
    return en, words


class Stimulus:
    """Random op stream, tracking count so reads hit interesting lags."""

    def __init__(self, s: Shape, rng: random.Random):
        self.s, self.rng = s, rng
        self.count = 0
        self.ops: list[Op] = []
        self.n_split = 0  # writes whose enabled banks target different words
        self.n_whole = 0  # all-bank writes with every lane the same word

    def idle(self) -> Op:
        """No write (we = 0) with junk on the rest of the write bus."""
        s, rng = self.s, self.rng
        return Op(
            wbank_en=rng.randrange(1 << s.BANKS),
            wword=[rng.randrange(1 << s.WORD_W) for _ in range(s.BANKS)],
            wdata=[rand_value(rng) for _ in range(s.BANKS)],
        )

    def read(self, op: Op) -> Op:
        s, rng = self.s, self.rng
        if rng.random() < 0.6:
            op.re = 1
            lag_max = (1 << s.LAG_W) - 1
            choices = [
                rng.randint(0, lag_max),
                rng.randint(0, min(lag_max, max(self.count - 1, 0))),
                min(lag_max, self.count),  # first lag that must read zero
                min(lag_max, max(self.count - 1, 0)),  # oldest real column
                min(lag_max, s.SPAN - 1),
                min(lag_max, s.ncol - 1),  # the pending column when SPAN == 2**COL_W
                0,
            ]
            op.rlag = rng.choice(choices)
            op.rword = rand_word_index(rng, s, rng.randrange(s.WORDS))
        return op

    def add(self, op: Op) -> None:
        if op.we:
            s = self.s
            en = [b for b in range(s.BANKS) if (op.wbank_en >> b) & 1]
            self.n_split += len({op.wword[b] % s.WORDS for b in en}) > 1
            self.n_whole += len(en) == s.BANKS and len({op.wword[b] % s.WORDS for b in en}) == 1
        if op.rst:
            self.count = 0
        elif op.commit:
            self.count = min(self.count + 1, self.s.SPAN)
        self.ops.append(op)

    def write(self, en: int, wword: list[int]) -> None:
        """One write (random data, maybe with a read), then maybe a few idle cycles."""
        data = [rand_value(self.rng) for _ in range(self.s.BANKS)]
        self.add(self.read(Op(we=1, wbank_en=en, wword=wword, wdata=data)))
        while self.rng.random() < 0.2:
            self.add(self.read(self.idle()))

    def fill_by_word(self) -> None:
        """Word by word in random order: whole words (all lanes one word) or bank by bank."""
        s, rng = self.s, self.rng
        words = list(range(s.WORDS))
        rng.shuffle(words)
        all_banks = (1 << s.BANKS) - 1
        for word in words:
            if rng.random() < 0.05:
                continue  # leave this word stale
            if s.BANKS > 1 and rng.random() < 0.3:
                banks = [1 << b for b in range(s.BANKS)]
                rng.shuffle(banks)  # one bank at a time
            else:
                banks = [all_banks]
            for en in banks:
                self.write(en, same_word(rng, s, word))

    def fill_by_channel(self) -> None:
        """Like the drain: channels in order, runs of 1..BANKS consecutive channels per clock
        (straddling two words when the run crosses a multiple of BANKS), sometimes stopping
        short of the last channels (C_out not a multiple of BANKS)."""
        s, rng = self.s, self.rng
        n_ch = s.BANKS * s.WORDS
        if rng.random() < 0.3:
            n_ch = rng.randint(max(1, n_ch - s.BANKS), n_ch)
        # a fixed run length (the drain's) after a random first run, or random runs
        run = rng.randint(1, s.BANKS)
        fixed = rng.random() < 0.5
        c = 0
        while c < n_ch:
            n = min(run if fixed and c > 0 else rng.randint(1, s.BANKS), n_ch - c)
            self.write(*channel_run(rng, s, c, n))
            c += n

    def scatter(self) -> None:
        """Random bank subsets, each enabled bank with its own random word."""
        s, rng = self.s, self.rng
        for _ in range(rng.randint(1, 2 * s.WORDS)):
            en = rng.randrange(1, 1 << s.BANKS)
            words = [rand_word_index(rng, s, rng.randrange(s.WORDS)) for _ in range(s.BANKS)]
            self.write(en, words)

    def period(self) -> None:
        """Write the pending column (mostly all words), reads and idles, then commit."""
        s, rng = self.s, self.rng
        mode = rng.random()
        if mode < 0.4 or (mode >= 0.85 and rng.random() < 0.5):
            self.fill_by_word()
        else:
            self.fill_by_channel()
        if mode >= 0.85:
            self.scatter()
        # rewrite a word already written (the last write before commit wins)
        if rng.random() < 0.1:
            self.write((1 << s.BANKS) - 1, same_word(rng, s, rng.randrange(s.WORDS)))
        for _ in range(rng.randint(0, 3)):
            self.add(self.read(self.idle()))
        self.add(self.read(Op(commit=1, wdata=[0] * s.BANKS)))

    def reset(self, *, read: bool = True) -> None:
        """One rst cycle (a read in it uses the state before the reset; commit is ignored)."""
        op = Op(rst=1, commit=self.rng.randint(0, 1), wdata=[0] * self.s.BANKS)
        self.add(self.read(op) if read else op)


async def run(dut, s: Shape, ops: list[Op]) -> tuple[int, int, int]:
    """Drive ops one per cycle, check every read and has_data.

    Returns (reads checked, reads expected all-zero, reads of fully known non-zero data).
    """
    model = RingModel(s)
    expect: dict[int, list[int | None]] = {}
    has_data_expect: dict[int, int] = {}
    idle = Op(wdata=[0] * s.BANKS)
    n_reads = n_zero = n_data = 0
    for i, op in enumerate([*ops, idle, idle, idle]):
        await FallingEdge(dut.clk)
        # observation i = state after the rising edges that sampled ops 0..i-1
        if i in has_data_expect:
            got = int(dut.has_data.value)
            assert got == has_data_expect[i], f"cycle {i}: has_data={got}"
        if i in expect:
            got = unpack_signed(int(dut.rdata.value), 16, s.BANKS)
            want = expect[i]
            for b in range(s.BANKS):
                if want[b] is not None:
                    assert got[b] == want[b], (
                        f"cycle {i}: rdata bank {b} = {got[b]}, model expects {want[b]} "
                        f"(read issued in cycle {i - 2}: {ops[i - 2]})"
                    )
            n_reads += 1
            n_zero += all(v == 0 for v in want)
            n_data += all(v is not None for v in want) and any(v != 0 for v in want)
        result = model.step(op)
        if result is not None:
            expect[i + 2] = result
        has_data_expect[i + 1] = int(model.count != 0)
        dut.rst.value = op.rst
        dut.commit.value = op.commit
        dut.we.value = op.we
        dut.wbank_en.value = op.wbank_en
        dut.wword.value = pack(op.wword, s.WORD_W)
        dut.wdata.value = pack(op.wdata, 16)
        dut.re.value = op.re
        dut.rlag.value = op.rlag
        dut.rword.value = op.rword
    return n_reads, n_zero, n_data


async def start(dut) -> None:
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for name in ("rst", "commit", "we", "wbank_en", "wword", "wdata", "re", "rlag", "rword"):
        getattr(dut, name).value = 0
    await FallingEdge(dut.clk)


def seed(name: str, s: Shape) -> int:
    base = int(os.environ.get("WC_SEED", "1")) * 1000 + sum(map(ord, name))
    return base * 7919 + s.BANKS * 1000 + s.WORDS * 100 + s.COL_W * 10 + s.SPAN


@cocotb.test()
async def random_ring(dut):
    """> 3 wraps of the ring with random writes/commits/reads, one mid-run reset."""
    s = shape_of(dut)
    rng = random.Random(seed("random_ring", s))
    await start(dut)
    st = Stimulus(s, rng)
    st.reset(read=False)  # the state before the first reset is undefined
    n_periods = max(60, 5 * s.ncol + 2 * s.SPAN + 10)
    rst_at = rng.randint(3 * s.ncol + 1, n_periods - s.SPAN - 3)
    for p in range(n_periods):
        if p == rst_at:
            st.reset()
        st.period()
    n_reads, n_zero, n_data = await run(dut, s, st.ops)
    assert n_reads > 100 and n_zero > 10 and n_data > n_reads // 3
    assert st.n_whole > 20
    if s.BANKS > 1 and s.WORDS > 1:
        assert st.n_split > 10
    dut._log.info(
        f"{s}: {len(st.ops)} cycles, {n_reads} reads checked ({n_zero} zeroed, {n_data} real "
        f"data), {st.n_whole} whole-word and {st.n_split} split-word writes"
    )


@cocotb.test()
async def zero_until_span(dut):
    """After reset, every lag >= count reads 0 and every lag < count reads the data, each step."""
    s = shape_of(dut)
    rng = random.Random(seed("zero_until_span", s))
    await start(dut)
    st = Stimulus(s, rng)
    for rnd in range(2):  # second round: after a mid-run reset over stale data
        st.reset(read=rnd > 0)
        for _ in range(s.SPAN + 2):
            st.period()
            for lag in range(min(s.SPAN + 1, 1 << s.LAG_W)):
                for word in range(s.WORDS):
                    st.add(Op(re=1, rlag=lag, rword=word, wdata=[0] * s.BANKS))
    _, n_zero, n_data = await run(dut, s, st.ops)
    assert n_zero > 0 and n_data > 0


@cocotb.test()
async def aliasing_oldest_column(dut):
    """Read the oldest column while the pending column (its alias if SPAN == 2**COL_W) fills.

    Even columns word by word, odd ones drain-style (runs of consecutive channels, mostly
    straddling two words): read every word of the oldest tap (old data until overwritten),
    then write (with a same-cycle read of one of the words written: old data in the banks
    writing that word, and in the others anyway), read again.
    """
    s = shape_of(dut)
    rng = random.Random(seed("aliasing", s))
    await start(dut)
    st = Stimulus(s, rng)
    st.reset(read=False)
    all_banks = (1 << s.BANKS) - 1
    lag = min(s.SPAN - 1, (1 << s.LAG_W) - 1)

    def read_all() -> None:
        for w2 in range(s.WORDS):
            st.add(Op(re=1, rlag=lag, rword=w2, wdata=[0] * s.BANKS))

    for col in range(2 * s.ncol + 3):
        if col % 2 == 0:
            writes = [(all_banks, [word] * s.BANKS) for word in range(s.WORDS)]
        else:
            # a short first run, then runs of BANKS channels: each straddles two words
            n_ch = s.BANKS * s.WORDS
            starts = [0, *range(rng.randint(1, max(1, s.BANKS - 1)), n_ch, s.BANKS)]
            writes = [
                channel_run(rng, s, c, c_end - c)
                for c, c_end in zip(starts, [*starts[1:], n_ch], strict=True)
            ]
        for en, wword in writes:
            read_all()
            data = [rand_value(rng) for _ in range(s.BANKS)]
            b = rng.choice([b for b in range(s.BANKS) if (en >> b) & 1])
            rword = wword[b]
            st.add(Op(we=1, wbank_en=en, wword=wword, wdata=data, re=1, rlag=lag, rword=rword))
            read_all()
        st.add(Op(commit=1, re=1, rlag=lag, rword=0, wdata=[0] * s.BANKS))
    _, _, n_data = await run(dut, s, st.ops)
    assert n_data > 0
