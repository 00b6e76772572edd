// Verilator main for a generated `wavecomp_net`: fast long renders without cocotb.
//
// Built by wavecomp/rtl/render.py (`verilator --cc --exe --build ... net_main.cpp`), with
// -DWC_IN_CHANNELS / -DWC_OUT_CHANNELS set to the model's channel counts. Run it in the folder
// that holds the memory images ($readmemh paths are relative to the working directory):
//
//   Vwavecomp_net IN.bin OUT.bin [+verilator+seed+N +verilator+rand+reset+2]
//
// ("-" for stdin / stdout; the plusargs give every uninitialised register and memory bit a
// random value when the model was built with --x-initial unique.)
//
// IN.bin is a 32-byte header (little-endian uint32s: magic "WCI1", in channels, out channels,
// samples T, cycles per sample, latency L, reset_at R, flags) followed by T x C_in int16
// samples. OUT.bin gets T x C_out int16 samples, already de-latencied: L zero samples are fed
// after the input, and output p (read at the end of strobe period p) goes to row p - L.
// Progress goes to stderr as "progress DONE TOTAL" lines; errors as "error: ..." (exit 1).
//
// Protocol (hdl/README.md, sim/test_network.py): reset; per sample in_data with strobe=1 for
// one clock, then strobe=0 for cycles_per_sample-1 clocks; out_data is read just before the
// next strobe. `fault` is sticky and must stay 0. Reset is rst high 3 clocks with strobe low,
// or with flags bit 0 upstream eurorack-pmod's pattern: strobe high during reset and for two
// clocks after it (junk on in_data), then low for a clock. R > 0 resets the core again just
// before sample R (mid-stream): rows from R on are the reference for x[R:] from zero history,
// rows R-L..R-1 are the zeros the core puts out while it refills its pipeline.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "Vwavecomp_net.h"
#include "verilated.h"

#ifndef WC_IN_CHANNELS
#error "build with -DWC_IN_CHANNELS=<network input channels>"
#endif
#ifndef WC_OUT_CHANNELS
#error "build with -DWC_OUT_CHANNELS=<network output channels>"
#endif

namespace {

constexpr uint32_t kMagic = 0x31494357u;  // "WCI1" read as a little-endian uint32
constexpr int kResetClocks = 3;
constexpr int kHeldStrobeClocks = 2;  // upstream top.sv: strobe still high after reset
constexpr uint32_t kUpstreamReset = 1u;  // flags bit 0
constexpr uint32_t kProgressEvery = 8192;

struct Header {
    uint32_t magic, in_channels, out_channels, samples, cycles_per_sample, latency, reset_at, flags;
};
static_assert(sizeof(Header) == 32, "header layout");

[[noreturn]] void fail(const char* what, const char* detail = "") {
    std::fprintf(stderr, "error: %s%s\n", what, detail);
    std::exit(1);
}

// Lane i of a packed port is bits [16*i +: 16]. Verilator gives ports <= 64 bits a scalar type
// (CData/SData/IData/QData) and wider ones VlWide<N> (N 32-bit words, word 0 = bits 31:0); these
// overloads let the same code drive any channel count.
template <typename T>
void put_lanes(T& port, const int16_t* v, int n) {
    uint64_t word = 0;
    for (int i = 0; i < n; ++i) word |= uint64_t(uint16_t(v[i])) << (16 * i);
    port = T(word);
}
template <std::size_t N>
void put_lanes(VlWide<N>& port, const int16_t* v, int n) {
    for (std::size_t w = 0; w < N; ++w) port.at(w) = 0;
    for (int i = 0; i < n; ++i) port.at(i >> 1) |= EData(uint16_t(v[i])) << (16 * (i & 1));
}
template <typename T>
void get_lanes(const T& port, int16_t* v, int n) {
    const uint64_t word = uint64_t(port);
    for (int i = 0; i < n; ++i) v[i] = int16_t(uint16_t(word >> (16 * i)));
}
template <std::size_t N>
void get_lanes(const VlWide<N>& port, int16_t* v, int n) {
    for (int i = 0; i < n; ++i) v[i] = int16_t(uint16_t(port.at(i >> 1) >> (16 * (i & 1))));
}

void read_all(FILE* f, void* dst, std::size_t bytes, const char* name) {
    if (bytes && std::fread(dst, 1, bytes, f) != bytes) fail("input ended early: ", name);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) fail("usage: Vwavecomp_net IN.bin|- OUT.bin|- [+verilator+...]");
    for (int i = 3; i < argc; ++i)
        if (argv[i][0] != '+') fail("unexpected argument (only +verilator+ options): ", argv[i]);
    FILE* in = std::strcmp(argv[1], "-") ? std::fopen(argv[1], "rb") : stdin;
    if (!in) fail("cannot open input ", argv[1]);

    Header h{};
    read_all(in, &h, sizeof h, argv[1]);
    if (h.magic != kMagic) fail("not a wavecomp stimulus file (bad magic): ", argv[1]);
    if (h.in_channels != WC_IN_CHANNELS || h.out_channels != WC_OUT_CHANNELS) {
        char msg[160];
        std::snprintf(msg, sizeof msg, "stimulus has %u in / %u out channels, this model %d / %d",
                      h.in_channels, h.out_channels, WC_IN_CHANNELS, WC_OUT_CHANNELS);
        fail(msg);
    }
    if (h.cycles_per_sample < 1) fail("cycles per sample must be >= 1");
    if (h.reset_at >= h.samples && h.reset_at != 0) fail("reset_at must be < the sample count");
    if (h.flags & ~kUpstreamReset) fail("unknown flags in the stimulus header");
    const uint64_t T = h.samples, L = h.latency, cps = h.cycles_per_sample;
    std::vector<int16_t> x(T * WC_IN_CHANNELS);
    read_all(in, x.data(), x.size() * sizeof(int16_t), argv[1]);
    if (in != stdin) std::fclose(in);

    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    auto top = std::make_unique<Vwavecomp_net>(ctx.get());
    auto tick = [&] {
        top->clk = 0;
        top->eval();
        top->clk = 1;
        top->eval();
    };

    const int16_t zeros[WC_IN_CHANNELS] = {};
    int16_t junk[WC_IN_CHANNELS];
    for (int i = 0; i < WC_IN_CHANNELS; ++i) junk[i] = int16_t(0x5a5a + 0x1111 * i);
    const bool upstream = h.flags & kUpstreamReset;
    auto reset = [&] {
        top->rst = 1;
        top->strobe = upstream;
        put_lanes(top->in_data, upstream ? junk : zeros, WC_IN_CHANNELS);
        for (int i = 0; i < kResetClocks; ++i) tick();
        top->rst = 0;
        if (upstream) {
            for (int i = 0; i < kHeldStrobeClocks; ++i) tick();
            top->strobe = 0;
            tick();
        }
    };

    reset();
    std::vector<int16_t> y(T * WC_OUT_CHANNELS);
    for (uint64_t p = 0; p < T + L; ++p) {
        if (h.reset_at != 0 && p == h.reset_at) reset();
        put_lanes(top->in_data, p < T ? &x[p * WC_IN_CHANNELS] : zeros, WC_IN_CHANNELS);
        top->strobe = 1;
        tick();
        top->strobe = 0;
        for (uint64_t c = 1; c < cps; ++c) tick();
        if (top->fault) {
            std::fprintf(stderr,
                         "error: the core raised `fault` in sample period %llu (program overran "
                         "the %llu-cycle period or the drain collided)\n",
                         (unsigned long long)p, (unsigned long long)cps);
            return 1;
        }
        if (p >= L) get_lanes(top->out_data, &y[(p - L) * WC_OUT_CHANNELS], WC_OUT_CHANNELS);
        if ((p + 1) % kProgressEvery == 0) {
            std::fprintf(stderr, "progress %llu %llu\n", (unsigned long long)(p + 1),
                         (unsigned long long)(T + L));
            std::fflush(stderr);
        }
    }
    top->final();

    FILE* out = std::strcmp(argv[2], "-") ? std::fopen(argv[2], "wb") : stdout;
    if (!out) fail("cannot open output ", argv[2]);
    if (std::fwrite(y.data(), sizeof(int16_t), y.size(), out) != y.size() || std::fflush(out))
        fail("cannot write output ", argv[2]);
    if (out != stdout) std::fclose(out);
    return 0;
}
