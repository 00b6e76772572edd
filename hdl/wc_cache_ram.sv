`default_nettype none
// wc_cache_ram — one packed activation memory: BANKS banks of DEPTH 16-bit words (bank b holds
// the channels c with c % BANKS == b), with a shared read address, per-bank write addresses and
// read zeroing. wc_cache_ptrs computes the addresses of the rings packed into it.
//
// Write (we): every bank b with wbank_en[b] = 1 writes wdata lane b ([16*b +: 16]) at its own
// address waddr lane b ([ADDR_W*b +: ADDR_W]), at the clock edge that samples them.
// Read (re): raddr and rzero are sampled at edge e; rdata shows the words at raddr of every
// bank (lane b = bank b), or all zeros if rzero was 1, after edge e+2 (2 edges: stage 1 = the
// RAM's read register, stage 2 = zeroing + output register, which keeps the block RAM's
// clock-to-out off the paths behind it). rdata holds when no read completes.
// The memory word is read at edge e: a write sampled before edge e is seen, one sampled after
// it is not. Addresses must be < DEPTH (others: undefined; ADDR_W may be wider than
// $clog2(DEPTH), its extra bits are then ignored). A read and a write of the same address at
// the same edge never happen in the design: the pending column of a ring may be its oldest
// one (COLS_t == span_t), but the compiler orders the nodes so that every read of a ring
// precedes the writes of its pending column within a sample period. So the RAM is marked
// no_rw_check: such a read returns undefined data, and Yosys maps a plain DP16KD (or LUT RAM)
// without its read-first emulation (a delayed write plus a bypass, ~37 FFs per bank).
// No reset: contents and registers start undefined; reads of words never written are made
// zero upstream (rzero from wc_cache_ptrs' column counts).
//
// STYLE is passed to Yosys as the memory's ram_style attribute (memory_libmap): "block" = DP16KD
// block RAM, "distributed" = LUT RAM (TRELLIS_DPR16X4 on ECP5). (Yosys also takes "block_ram",
// "ebr", "logic"/"registers" = flip-flops, "auto"; Verilator ignores it.)
module wc_cache_ram #(
    parameter BANKS = 1,
    parameter DEPTH = 1,  // words per bank (any positive integer)
    parameter ADDR_W = 1,  // address width (holds DEPTH-1; may be wider)
    /* verilator lint_off UNUSEDPARAM */  // only Yosys reads STYLE (an attribute)
    parameter STYLE = "block"  // "block" or "distributed"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire                    clk,
    input  wire                    we,
    input  wire [       BANKS-1:0] wbank_en,
    input  wire [BANKS*ADDR_W-1:0] waddr,  // bank b's write address at [ADDR_W*b +: ADDR_W]
    input  wire [    BANKS*16-1:0] wdata,  // bank b's word at [16*b +: 16]
    input  wire                    re,
    input  wire [      ADDR_W-1:0] raddr,
    input  wire                    rzero,
    output reg  [    BANKS*16-1:0] rdata
);
  /* verilator lint_off UNUSEDPARAM */
  localparam READ_LAT = 2;  // for readers and generators: the timing above
  /* verilator lint_on UNUSEDPARAM */

  // memory index width; addresses are < DEPTH, so any ADDR_W bits above it are 0
  localparam MEM_AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
  localparam X_W = (ADDR_W > MEM_AW) ? ADDR_W : MEM_AW;

  reg [X_W-1:0] raddr_x;
  always @* begin
    raddr_x = '0;
    raddr_x[ADDR_W-1:0] = raddr;
  end
  wire [MEM_AW-1:0] ra = raddr_x[MEM_AW-1:0];
  wire unused_raddr_x = &{1'b0, raddr_x};  // (the bits above MEM_AW)

  // stage 1: RAM read register per bank, plus the zero flag and read-valid
  reg re_d1;
  reg zero_d1;
  always @(posedge clk) begin
    re_d1 <= re;
    if (re) zero_d1 <= rzero;
  end

  wire [BANKS*16-1:0] q_all;
  genvar b;
  generate
    for (b = 0; b < BANKS; b = b + 1) begin : g_bank
      reg [X_W-1:0] waddr_x;
      always @* begin
        waddr_x = '0;
        waddr_x[ADDR_W-1:0] = waddr[ADDR_W*b+:ADDR_W];
      end
      wire [MEM_AW-1:0] wa = waddr_x[MEM_AW-1:0];
      wire unused_waddr_x = &{1'b0, waddr_x};  // (the bits above MEM_AW)
      wire wen = we && wbank_en[b];
      reg [15:0] q;
      (* ram_style = STYLE, no_rw_check *)
      reg [15:0] mem[0:DEPTH-1];
      always @(posedge clk) begin
        if (wen) mem[wa] <= wdata[16*b+:16];
        if (re) q <= mem[ra];
      end
      assign q_all[16*b+:16] = q;
    end
  endgenerate

  // stage 2: zeroing + output register
  always @(posedge clk) begin
    if (re_d1) rdata <= zero_d1 ? '0 : q_all;
  end
endmodule
`default_nettype wire
