`default_nettype none
// wc_cache_ptrs — the pointer file and address arithmetic of one packed activation memory
// (wc_cache_ram): N tensors' rings back to back, each with an exact (not power-of-two) size.
//
// Layout (word units; a word is one 16-bit value in each of the memory's BANKS banks). Tensor t
// occupies words [BASE_t, BASE_t + SIZE_t) of every bank: COLS_t ring columns of W_t words
// each (SIZE_t = COLS_t * W_t, W_t = ceil(C_t / BANKS)); column j starts at BASE_t + j * W_t.
// The packed parameters hold tensor t at [t*ADDR_W +: ADDR_W]; each value must fit in ADDR_W
// bits, and BASE_t + SIZE_t <= 2**ADDR_W (so ADDR_W = $clog2(DEPTH + 1) always works; a ring
// filling a whole power-of-two memory needs that one extra bit). W_t >= 1, SIZE_t >= W_t,
// SPANW_t = span_t * W_t with 1 <= span_t <= COLS_t. Other values are undefined behaviour.
//
// Pointer state of tensor t: a wc_ring_ptr (its header is the contract; commit[t], any number
// per cycle; rst wins): pend_t, newest_t, countw_t, with registers pend_t and full_t (the read
// path's inputs). Memory is never cleared: columns not written since reset read 0 via rzero.
//
// Read (re, rsel = tensor t < N, rlagw = lag in words, rword < W_t): the word rword of the
// column rlagw / W_t columns older than the newest one:
//   raddr = newest_t - rlagw (+ SIZE_t when that is < BASE_t) + rword   for rlagw <= SIZE_t - W_t
//           (undefined for larger rlagw: such a read is always zeroed, see rzero)
//   rzero = (rlagw >= countw_t)    (the column was not committed since reset, or is older than
//                                   the span; any rlagw >= SPANW_t reads zero)
// The compiler puts rlagw = lag * W_t (lag < span_t <= COLS_t) into the program, so no
// multiplier is needed here; rlagw need not be a multiple of W_t.
// Timing (ADDR_LAT = 2): a request sampled (re = 1) at clock edge e uses the pointer state from
// before edge e (a commit at edge e is not seen by it) and shows raddr/rzero with rvalid = 1
// after edge e+1 (i.e. in the cycle that follows edge e+1, ready to be sampled by
// wc_cache_ram at edge e+2, which reads the memory word at that edge: a write of the column
// read, e.g. of the pending column when it is the oldest one, must be sampled after edge e+2).
// rvalid is 0 in cycles whose edge brought no read; raddr and rzero are then stale. rst cancels
// reads in flight: a request sampled at a rst edge is dropped, and so is one whose second edge
// (e+1) is a rst edge. rvalid is 0 after a rst edge.
//   stage 1 (edge e): the rsel mux of pend/full (nothing after it) and the rsel constants
//   combined with rlagw/rword; stage 2 (edge e+1): compares, candidate addresses, select.
//
// Write (wsel = tensor t < N; bank b's word index wword lane b, [b*WORD_W +: WORD_W], < W_t):
//   waddr lane b = pend_t + wword lane b, combinational from the registered pointers (so a
// write in a commit cycle goes to the pending column from before the commit). This wsel mux
// over N pointers plus the adder is the module's longest path (ECP5-45 speed 6, N = 48,
// ADDR_W = 14, between flip-flops: ~93 MHz; the registered read path alone: ~130 MHz).
module wc_cache_ptrs #(
    parameter N = 1,  // tensors in this memory
    parameter ADDR_W = 1,  // word-address width (see above: holds BASE_t + SIZE_t - 1)
    parameter SEL_W = 1,  // width of rsel/wsel (holds N-1)
    parameter LAG_W = 1,  // width of rlagw
    parameter WORD_W = 1,  // width of rword and of each wword lane
    parameter BANKS = 1,
    parameter [N*ADDR_W-1:0] BASES = 0,  // BASE_t at [t*ADDR_W +: ADDR_W]
    parameter [N*ADDR_W-1:0] SIZES = 1,  // SIZE_t = COLS_t * W_t
    parameter [N*ADDR_W-1:0] WORDS = 1,  // W_t
    parameter [N*ADDR_W-1:0] SPANWS = 1  // SPANW_t = span_t * W_t (count saturation)
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire [           N-1:0] commit,
    input  wire                    re,
    input  wire [       SEL_W-1:0] rsel,
    input  wire [       LAG_W-1:0] rlagw,
    input  wire [      WORD_W-1:0] rword,
    output reg  [      ADDR_W-1:0] raddr,
    output reg                     rzero,
    output reg                     rvalid,
    input  wire [       SEL_W-1:0] wsel,
    input  wire [BANKS*WORD_W-1:0] wword,  // bank b's word index at [b*WORD_W +: WORD_W]
    output wire [BANKS*ADDR_W-1:0] waddr   // bank b's write address at [b*ADDR_W +: ADDR_W]
);
  /* verilator lint_off UNUSEDPARAM */
  localparam ADDR_LAT = 2;  // for readers and generators: the read timing above
  /* verilator lint_on UNUSEDPARAM */
  localparam AW = ADDR_W;
  // width of the compares (BASE + W + rlagw, no overflow) and of the zero-extensions
  localparam MAX_W0 = (AW > LAG_W) ? AW : LAG_W;
  localparam CMP_W = ((MAX_W0 > WORD_W) ? MAX_W0 : WORD_W) + 1;
  localparam XW = CMP_W - AW;  // zero bits that extend an AW-bit value to CMP_W
  // ---- per tensor: the ring's pointers, and the constants the read path indexes by rsel ----
  wire [N*(AW+1)-1:0] pf_all;  // {full_t, pend_t}: one lane for the read and write muxes
  wire [N*CMP_W-1:0] base_k, basew_k, spanw_k;  // BASE_t, BASE_t + W_t, SPANW_t
  wire [N*AW-1:0] w_k, smw_k;  // W_t, SIZE_t - W_t
  generate
    for (genvar t = 0; t < N; t = t + 1) begin : g_tensor
      localparam [AW-1:0] BASE_T = BASES[t*AW+:AW], SIZE_T = SIZES[t*AW+:AW];
      localparam [AW-1:0] W_T = WORDS[t*AW+:AW], SPANW_T = SPANWS[t*AW+:AW];
      /* verilator lint_off PINCONNECTEMPTY */  // newest/countw: what pend/full stand for
      wc_ring_ptr #(.BASE(BASE_T), .SIZE(SIZE_T), .W(W_T), .SPANW(SPANW_T), .ADDR_W(AW)) u_ring (
          .clk(clk), .rst(rst), .commit(commit[t]), .pend(pf_all[t*(AW+1)+:AW]),
          .full(pf_all[t*(AW+1)+AW]), .newest(), .countw());
      /* verilator lint_on PINCONNECTEMPTY */
      assign base_k[t*CMP_W+:CMP_W] = {{XW{1'b0}}, BASE_T};
      assign basew_k[t*CMP_W+:CMP_W] = {{XW{1'b0}}, BASE_T} + {{XW{1'b0}}, W_T};
      assign spanw_k[t*CMP_W+:CMP_W] = {{XW{1'b0}}, SPANW_T};
      assign w_k[t*AW+:AW] = W_T;
      assign smw_k[t*AW+:AW] = SIZE_T - W_T;
    end
  endgenerate
  // ---- write addresses: pend[wsel] + wword lane b -----------------------------------------
  wire [AW-1:0] pend_w = pf_all[wsel*(AW+1)+:AW];
  generate
    for (genvar b = 0; b < BANKS; b = b + 1) begin : g_bank
      wire [CMP_W-1:0] word_x = {{(CMP_W - WORD_W) {1'b0}}, wword[b*WORD_W+:WORD_W]};  // lane b
      assign waddr[b*AW+:AW] = pend_w + word_x[AW-1:0];
      wire unused_word_x = &{1'b0, word_x[CMP_W-1:AW]};  // 0 for valid word indices (< W_t)
    end
  endgenerate
  // ---- read stage 1: the rsel muxes, and the rsel constants combined with rlagw/rword ------
  wire [CMP_W-1:0] lag_c = {{(CMP_W - LAG_W) {1'b0}}, rlagw};  // rlagw zero-extended
  wire [CMP_W-1:0] word_c = {{(CMP_W - WORD_W) {1'b0}}, rword};  // rword zero-extended
  wire [AW-1:0] lag_a = lag_c[AW-1:0];  // address arithmetic is mod 2**AW (results fit)
  wire [AW-1:0] word_a = word_c[AW-1:0];
  wire unused_word_c = &{1'b0, word_c[CMP_W-1:AW]};  // 0 for valid word indices (< W_t)
  reg v1;  // stage 1 holds a read
  reg [AW-1:0] p1;  // pend[rsel]
  reg f1;  // full[rsel]
  reg [CMP_W-1:0] bl1;  // BASE + rlagw          -> not full: zero iff pend <= bl1
  reg [CMP_W-1:0] bwl1;  // BASE + W + rlagw     -> wrap iff pend < bwl1
  reg zs1;  // rlagw >= SPANW                    -> zero
  reg [AW-1:0] k1;  // W + rlagw - rword         -> no wrap: pend - k1
  reg [AW-1:0] sk1;  // SIZE - W - rlagw + rword -> wrap:    pend + sk1
  always @(posedge clk) begin
    v1 <= re && !rst;
    if (re) begin
      {f1, p1} <= pf_all[rsel*(AW+1)+:AW+1];
      bl1  <= base_k[rsel*CMP_W+:CMP_W] + lag_c;
      bwl1 <= basew_k[rsel*CMP_W+:CMP_W] + lag_c;
      zs1  <= lag_c >= spanw_k[rsel*CMP_W+:CMP_W];
      k1   <= w_k[rsel*AW+:AW] + lag_a - word_a;
      sk1  <= smw_k[rsel*AW+:AW] - lag_a + word_a;
    end
  end
  // ---- read stage 2: compares, candidate addresses, select -----------------------------------
  wire [CMP_W-1:0] p1_c = {{XW{1'b0}}, p1};
  always @(posedge clk) begin
    rvalid <= v1 && !rst;
    if (v1) begin
      raddr <= (p1_c < bwl1) ? p1 + sk1 : p1 - k1;
      rzero <= zs1 || (!f1 && (p1_c <= bl1));
    end
  end
endmodule
`default_nettype wire
