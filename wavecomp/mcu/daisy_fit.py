"""Will the firmware fit the Daisy? Its memory map, libDaisy's share, engine sizes, the verdict.

Why one module: ``inspect``, the emit report, the emitted Makefile (which ``APP_TYPE``) and the
Cortex-M7 size report must all answer this the same way, and the answer must count libDaisy:
the Patch firmware's own code takes most of the 128 KB internal flash. Two sources feed it:
``estimate`` (no toolchain: the engine's bytes from its plan, used by ``inspect`` and
``emit``) and ``measured`` (the sections of a real Cortex-M7 build, ``size``).

Memory map (libDaisy core/STM32H750IB_{flash,sram,qspi}.lds; the bootloader doc
doc/md/_a7_Getting-Started-Daisy-Bootloader.md):

- ``APP_TYPE=BOOT_NONE`` (default): code, constants and .data's image in the 128 KB internal
  flash; .data/.bss in the 512 KB AXI SRAM; ``DTCM_MEM_SECTION`` and the stack in DTCM.
- ``BOOT_SRAM``: the Daisy bootloader (in internal flash) copies the app from QSPI into AXI
  SRAM (at most 480 KB: the bootloader keeps 32 KB); .data/.bss move to the 128 KB DTCM.
- ``BOOT_QSPI``: code runs from the 7,936 KB QSPI flash (slower); .data/.bss in AXI SRAM.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from wavecomp import fixed
from wavecomp.ir import Network
from wavecomp.mcu.graph_plan import GROUP, engine_summary, plan_graph
from wavecomp.mcu.m7_build import M7Build, run_tool
from wavecomp.mcu.plan import Kernel, Numerics
from wavecomp.tools import require_tool

KIB = 1024
CLOCK_HZ = 480_000_000
"""The Daisy's Cortex-M7 with ``Init(true)`` (boost)."""
MEMORIES: dict[str, int] = {
    "flash": 128 * KIB,
    "AXI SRAM": 512 * KIB,
    "DTCM": 128 * KIB,
    "D2 SRAM": 288 * KIB,
    "QSPI flash": 7936 * KIB,
}
BOOT_SRAM_CODE_LIMIT = 480 * KIB
"""The Daisy bootloader keeps the last 32 KB of AXI SRAM for itself."""

# libDaisy (HEAD 08f2965) + DaisyPatch + our main.cpp, derived from one measurement: the Patch
# firmware emitted for the default model (q12, fused kernel, 48 kHz) links to 104,604 B of
# internal flash (FACTS.md). Our own Cortex-M7 build of the same engine (m7_build, engine +
# weights + the runtime pieces it pulls in, harness excluded: ``measured(...).engine.code``)
# is 4,923 B. So everything else in that firmware is 104,604 - 4,923 = 99,681 B.
PATCH_FIRMWARE_FLASH_DEFAULT_MODEL = 104_604
DEFAULT_MODEL_ENGINE_FLASH = 4_923
LIBDAISY_PATCH_FLASH = PATCH_FIRMWARE_FLASH_DEFAULT_MODEL - DEFAULT_MODEL_ENGINE_FLASH
# libDaisy's static RAM, measured by linking emitted firmwares against libDaisy 08f2965: the
# Pod's is 1,560 B of .data + 63,088 B of .bss (37,856 B of it the DaisyPod object), the
# Seed's 26,944 B. The Patch's was not measured; it holds a DaisySeed and more, so the Pod's
# figure stands for it too. Plus 16 KB of audio DMA buffers (.sram1_bss, D2 SRAM).
LIBDAISY_PATCH_RAM = 1_560 + 63_088
LIBDAISY_DMA = 16 * KIB

# The engine's code besides its weights, per kernel: bytes per unit of each ``code_features``
# count ("fixed" is the constant: engine_step/reset, shared helpers, CMSIS-DSP and runtime
# pieces). The fused engines unroll a group of four channels over taps and pairs, once per
# group shape of a node; q12 adds the int64 redo of checked groups; tables add the lookup.
# Least-squares fits to Cortex-M7 builds (m7_build, -O3) of 18 nets: the default model, the
# mcu preset (two weight draws), 4-24-24-24-4 and 4-40-40-40-4 chains, four random chains,
# six random graphs and the NAM A2-Lite, A2-Full and A1-standard shapes (the cmsis rows: the
# chains only). Largest error: 1,112 B (q12 fused), 2,590 B (f32 fused), 709 B (cmsis); so a
# firmware within ESTIMATE_MARGIN of a limit is not trusted to fit there.
CODE_BYTES: dict[tuple[str, str], dict[str, float]] = {
    ("q12", "fused"): {
        "fixed": -306,
        "sources": 13.3,
        "unrolled": 7.9,
        "tables": 191,
        "checked": 620,
    },
    ("q12", "cmsis"): {"fixed": 349, "nodes": 163, "pair_taps": 1.8},
    ("f32", "fused"): {
        "fixed": -634,
        "sources": 105,
        "unrolled": 4.4,
        "tables": 250,
        "nodes": 224,
    },
    ("f32", "cmsis"): {"fixed": 734, "nodes": 88, "pair_taps": 1.4},
}
ESTIMATE_MARGIN = 3 * KIB
ICACHE_BYTES = 16 * KIB
"""The STM32H750's instruction cache. The fused engine is straight-line code run once per
sample, so code beyond this is fetched from memory every sample; QEMU's instruction counts
(and the load estimates built on them) do not see that."""


@dataclass(frozen=True)
class Footprint:
    """The engine's bytes by kind (libDaisy's are added by ``fit``)."""

    code: int
    """Code and constants (the weights are const): the app's code memory."""
    data: int = 0
    """Initialised RAM: an image in code memory plus its copy in RAM."""
    bss: int = 0
    """Zeroed RAM (.bss): AXI SRAM, or DTCM under BOOT_SRAM."""
    dtcm: int = 0
    """DTCM_MEM_SECTION (the activation caches) and the stack: always DTCM."""
    d2: int = 0
    """DMA_BUFFER_MEM_SECTION (.sram1_bss): D2 SRAM."""


@dataclass(frozen=True)
class AppLayout:
    """One libDaisy ``APP_TYPE``: where the app's code and its RAM sections go."""

    app_type: str
    code_memory: str
    code_limit: int
    ram_memory: str
    description: str


LAYOUTS = (
    AppLayout("BOOT_NONE", "flash", MEMORIES["flash"], "AXI SRAM", "internal flash"),
    AppLayout(
        "BOOT_SRAM", "AXI SRAM", BOOT_SRAM_CODE_LIMIT, "DTCM", "Daisy bootloader, code in AXI SRAM"
    ),
    AppLayout(
        "BOOT_QSPI",
        "QSPI flash",
        MEMORIES["QSPI flash"],
        "AXI SRAM",
        "Daisy bootloader, code in QSPI",
    ),
)


@dataclass(frozen=True)
class MemoryUse:
    memory: str
    used: int
    capacity: int

    @property
    def fraction(self) -> float:
        return self.used / self.capacity

    def __str__(self) -> str:
        return f"{self.memory} {self.used:,} B of {_kb(self.capacity)} ({100 * self.fraction:.1f}%)"


@dataclass(frozen=True)
class DaisyFit:
    """The firmware's memory use under the first ``APP_TYPE`` it fits, and a verdict to act on."""

    engine: Footprint
    layout: AppLayout
    rows: tuple[MemoryUse, ...]
    fits: bool
    unplaced: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    margin: int = 0
    """Bytes kept free in each memory (an estimate's uncertainty)."""

    @property
    def app_type(self) -> str:
        return self.layout.app_type

    @property
    def internal_flash(self) -> MemoryUse:
        """The whole firmware against the internal flash (BOOT_NONE), whatever the layout."""
        return _rows(self.engine, LAYOUTS[0])[0]

    @property
    def flash_bytes(self) -> int:
        """The firmware's code image: libDaisy + Patch code + engine code, weights and .data."""
        return self.internal_flash.used

    @property
    def verdict(self) -> str:
        used = ", ".join(str(r) for r in self.rows)
        base = f"libDaisy + Patch code {LIBDAISY_PATCH_FLASH:,} B counted"
        if not self.fits:
            problems = [
                f"{r.memory} needs {r.used:,} B of its {_kb(r.capacity)}: "
                f"{r.used + self.margin - r.capacity:,} B short"
                + (f" (with the estimate's {self.margin:,} B margin)" if self.margin else "")
                for r in _over(self.rows, self.margin)
            ]
            problems += [
                f"section {name} has no Daisy memory (place it in a libDaisy section)"
                for name in self.unplaced
            ]
            head = f"does NOT fit the Daisy, even with the bootloader: {'; '.join(problems)}"
            return "; ".join([f"{head} ({used}; {base})", *self.notes])
        if self.app_type == "BOOT_NONE":
            head = f"fits the Daisy's internal flash (APP_TYPE=BOOT_NONE): {used}; {base}"
        else:
            head = (
                f"does not fit the internal flash ({self.internal_flash.used:,} B > "
                f"{_kb(self.internal_flash.capacity)}): needs the Daisy bootloader, "
                f"APP_TYPE={self.app_type} ({self.layout.description}): {used}; {base}. "
                "Flash the bootloader once with `make program-boot`, then the app with "
                "`make program-dfu`"
            )
        return "; ".join([head, *self.notes])

    def __str__(self) -> str:
        return self.verdict


def _kb(n: int) -> str:
    return f"{n / KIB:,.1f} KB"


def _over(rows: Iterable[MemoryUse], margin: int = 0) -> list[MemoryUse]:
    return [r for r in rows if r.used + margin > r.capacity]


def _rows(engine: Footprint, layout: AppLayout) -> tuple[MemoryUse, ...]:
    """What the whole firmware (libDaisy + Patch code + engine) uses of each memory."""
    use = dict.fromkeys(MEMORIES, 0)
    use[layout.code_memory] += LIBDAISY_PATCH_FLASH + engine.code + engine.data
    use[layout.ram_memory] += LIBDAISY_PATCH_RAM + engine.data + engine.bss
    use["DTCM"] += engine.dtcm
    use["D2 SRAM"] += LIBDAISY_DMA + engine.d2
    capacity = {**MEMORIES, layout.code_memory: layout.code_limit}
    order = (layout.code_memory, "AXI SRAM", "DTCM", "D2 SRAM")
    return tuple(
        MemoryUse(m, use[m], capacity[m]) for m in dict.fromkeys(order) if use[m] or m == "DTCM"
    )


def fit(
    engine: Footprint,
    *,
    margin: int = 0,
    unplaced: Iterable[str] = (),
    notes: Iterable[str] = (),
) -> DaisyFit:
    """The first layout (internal flash, then the bootloader's) the whole firmware fits with
    ``margin`` bytes to spare in each memory."""
    unplaced, notes = tuple(unplaced), tuple(notes)
    candidates = [(layout, _rows(engine, layout)) for layout in LAYOUTS]
    fitting = [(layout, rows) for layout, rows in candidates if not _over(rows, margin)]
    layout, rows = fitting[0] if fitting and not unplaced else candidates[-1]
    fits = bool(fitting) and not unplaced
    return DaisyFit(engine, layout, rows, fits, unplaced, notes, margin)


def code_features(net: Network, rounding: fixed.Rounding) -> dict[str, int]:
    """What the code-size model counts: nodes; group shapes per node (a full group of four
    and a remainder) times sources; unrolled MAC words of those shapes; tap x channel pairs;
    nodes with tables; group shapes of Q-checked q12 nodes."""
    checked = {n.node.name for n in plan_graph(net, rounding).nodes if n.width == "checked"}
    features = dict.fromkeys(("nodes", "sources", "unrolled", "pair_taps", "tables", "checked"), 0)
    for node in net.nodes:
        full, rest = node.pre_channels >= GROUP, node.pre_channels % GROUP
        shapes = int(full) + int(rest > 0)
        pair_taps = sum(s.kernel_size * ((s.in_channels + 1) // 2) for s in node.conv_sources)
        features["nodes"] += 1
        features["sources"] += shapes * len(node.sources)
        features["unrolled"] += (GROUP * full + rest) * (pair_taps + len(node.identity_sources))
        features["pair_taps"] += pair_taps
        features["tables"] += node.activation in fixed.TABLE_ACTIVATIONS
        features["checked"] += shapes if node.name in checked else 0
    return features


def engine_code_bytes(
    net: Network, numerics: Numerics, kernel: Kernel, rounding: fixed.Rounding
) -> int:
    """The engine's code besides its weights (``CODE_BYTES``'s fitted model)."""
    model = CODE_BYTES[(numerics, kernel)]
    counts = code_features(net, rounding)
    return round(model["fixed"] + sum(model[k] * counts[k] for k in model if k != "fixed"))


def estimate(
    net: Network,
    *,
    numerics: Numerics = "q12",
    kernel: Kernel = "fused",
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
) -> DaisyFit:
    """The Patch firmware's fit from the engine's plan (no toolchain needed)."""
    summary = engine_summary(net, numerics, kernel, rounding)
    caches = summary.cache_bytes
    if kernel == "cmsis":
        sample = 2 if numerics == "q12" else 4
        caches += sample * max(layer.kernel_size * layer.in_channels for layer in net.layers)
    instructions = engine_code_bytes(net, numerics, kernel, rounding)
    code = instructions + summary.weight_bytes
    engine = Footprint(code=code, dtcm=caches - summary.spill_bytes, bss=summary.spill_bytes)
    note = f"estimated from the engine's plan (kept {ESTIMATE_MARGIN:,} B from each limit)"
    result = fit(engine, margin=ESTIMATE_MARGIN, notes=(note, "stack not counted"))
    if instructions <= ICACHE_BYTES:
        return result
    return replace(result, notes=(*result.notes, fetch_warning(instructions, result.app_type)))


def fetch_warning(code_bytes: int, app_type: str) -> str:
    """What an engine bigger than the instruction cache costs on hardware (not measured here)."""
    where = (
        "executes from the QSPI flash, which is far slower than the instruction count "
        "suggests: expect it not to run in real time"
        if app_type == "BOOT_QSPI"
        else "is fetched from memory every sample, on top of the instruction count"
    )
    return (
        f"speed: the engine's code (about {_kb(code_bytes)}, run once per sample) is larger "
        f"than the Cortex-M7's {_kb(ICACHE_BYTES)} instruction cache, so under "
        f"APP_TYPE={app_type} it {where} (untested on a Daisy)"
    )


# ---- sizes of a Cortex-M7 build (m7_build), attributed with the link map -------------------
SECTION_KINDS: dict[str, str] = {
    ".isr_vector": "code",
    ".text": "code",
    ".rodata": "code",
    ".ARM.extab": "code",
    ".ARM.exidx": "code",
    ".init_array": "code",
    ".data": "data",
    ".bss": "bss",
    ".dtcmram_bss": "dtcm",
    ".sram1_bss": "d2",
}
"""Section names as libDaisy's linker scripts (and firmware/m7_harness/m7.ld) use them."""
TEXT_SECTIONS = (".isr_vector", ".text", ".rodata", ".ARM.extab", ".ARM.exidx", ".init_array")
BSS_SECTIONS = (".bss", ".dtcmram_bss", ".sram1_bss")
HARNESS_ONLY_SECTIONS = (".wc_info",)
ORIGINS = ("engine", "cmsis-dsp", "runtime", "harness", "linker")


@dataclass(frozen=True)
class SectionUse:
    """One allocated ELF section: its size and who put the bytes there (from the link map)."""

    name: str
    address: int
    size: int
    by_origin: Mapping[str, int] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        """Which ``Footprint`` field the section's bytes count in (None: not a Daisy section)."""
        return SECTION_KINDS.get(self.name)

    @property
    def model_bytes(self) -> int:
        """Bytes a Daisy firmware would carry for the engine: everything but the harness."""
        if self.name in HARNESS_ONLY_SECTIONS:
            return 0
        return self.size - self.by_origin.get("harness", 0)


@dataclass(frozen=True)
class M7Size:
    """Section sizes of an M7 build, with the harness's share separated out."""

    sections: tuple[SectionUse, ...]

    def _total(self, names: Iterable[str], model_only: bool) -> int:
        wanted = set(names)
        return sum(
            s.model_bytes if model_only else s.size for s in self.sections if s.name in wanted
        )

    def text(self, model_only: bool = True) -> int:
        """Code and constants (weights live here: they are ``const``)."""
        return self._total(TEXT_SECTIONS, model_only)

    def data(self, model_only: bool = True) -> int:
        return self._total((".data",), model_only)

    def bss(self, model_only: bool = True) -> int:
        """Zero-initialised state (activation caches)."""
        return self._total(BSS_SECTIONS, model_only)

    def by_origin(self) -> dict[str, int]:
        totals = dict.fromkeys(ORIGINS, 0)
        for s in self.sections:
            for origin, n in s.by_origin.items():
                totals[origin] = totals.get(origin, 0) + n
        return totals

    def footprint(self, stack_bytes: int = 0) -> Footprint:
        """The engine's bytes by kind (harness excluded), plus a measured stack in DTCM."""
        kinds = dict.fromkeys(("code", "data", "bss", "dtcm", "d2"), 0)
        for s in self.sections:
            if s.kind:
                kinds[s.kind] += s.model_bytes
        kinds["dtcm"] += stack_bytes
        return Footprint(**kinds)

    def unplaced(self) -> list[str]:
        """Allocated sections with engine bytes we can't map onto a Daisy memory."""
        return [
            s.name
            for s in self.sections
            if s.model_bytes and not s.kind and s.name not in HARNESS_ONLY_SECTIONS
        ]


_SECTION_LINE = re.compile(r"^(\S+)\s+(\d+)\s+(\d+)\s*$")
_MAP_INPUT_FULL = re.compile(r"^ (\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s*(.*)$")
_MAP_INPUT_NAME = re.compile(r"^ (\S+)\s*$")
_MAP_INPUT_REST = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s*(.*)$")
_MAP_OUTPUT = re.compile(r"^(\.\S+)")


def _origin(source: str, name: str) -> str:
    if name == "*fill*" or not source or source == "linker stubs":
        return "linker"
    base = Path(source.split("(")[0]).name
    if ".a" in Path(base).suffixes or base.endswith(".a"):
        return "runtime"
    for prefix, origin in (
        ("engine__", "engine"),
        ("cmsis__", "cmsis-dsp"),
        ("harness__", "harness"),
    ):
        if base.startswith(prefix):
            return origin
    return "linker"


def parse_link_map(text: str) -> dict[str, dict[str, int]]:
    """Bytes per (output section, origin) from a GNU ld map file."""
    result: dict[str, dict[str, int]] = {}
    _, _, body = text.partition("Linker script and memory map")
    current: str | None = None
    pending: str | None = None
    for line in body.splitlines():
        if pending is not None:
            rest = _MAP_INPUT_REST.match(line)
            if rest and current:
                _add(
                    result, current, _origin(rest.group(3).strip(), pending), int(rest.group(2), 16)
                )
            pending = None
            continue
        if not line.strip():
            continue
        if not line.startswith(" "):
            out = _MAP_OUTPUT.match(line)
            current = out.group(1) if out else None
            continue
        if line.startswith(" *(") or line.startswith("  "):
            continue  # input-section patterns, symbol assignments and symbol addresses
        full = _MAP_INPUT_FULL.match(line)
        if full and current:
            _add(
                result,
                current,
                _origin(full.group(4).strip(), full.group(1)),
                int(full.group(3), 16),
            )
            continue
        name = _MAP_INPUT_NAME.match(line)
        if name:
            pending = name.group(1)
    return result


def _add(result: dict[str, dict[str, int]], section: str, origin: str, n: int) -> None:
    if n:
        per = result.setdefault(section, {})
        per[origin] = per.get(origin, 0) + n


def size(build: M7Build) -> M7Size:
    """Allocated sections of the ELF (``arm-none-eabi-size -A``) with the map's attribution."""
    text = run_tool(
        [require_tool("arm-none-eabi-size"), "-A", "-d", str(build.elf)],
        what="arm-none-eabi-size",
        timeout=60,
    )
    origins = parse_link_map(build.map_file.read_text())
    sections = []
    for line in text.splitlines():
        m = _SECTION_LINE.match(line.strip())
        if not m or not m.group(1).startswith("."):
            continue
        name, n, addr = m.group(1), int(m.group(2)), int(m.group(3))
        if name in (".ARM.attributes", ".comment") or name.startswith(".debug"):
            continue
        sections.append(SectionUse(name, addr, n, origins.get(name, {})))
    return M7Size(tuple(sections))


def measured(m7_size: M7Size, *, stack_bytes: int | None = None) -> DaisyFit:
    """The Patch firmware's fit from a real Cortex-M7 build of the engine (harness excluded).

    ``stack_bytes`` (e.g. ``M7Run.stack_bytes``) is added to DTCM, where libDaisy puts the
    main stack.
    """
    notes = [f"DTCM includes {stack_bytes} B of measured stack"] if stack_bytes is not None else []
    return fit(m7_size.footprint(stack_bytes or 0), unplaced=m7_size.unplaced(), notes=notes)
