`default_nettype none
// wc_ring_ptr — the pointer state of one ring of a packed activation memory (one tensor in
// wc_cache_ptrs, which keeps N of these and does the address arithmetic).
//
// Layout (word units, absolute word addresses): the ring occupies words [BASE, BASE + SIZE):
// COLS ring columns of W words each (SIZE = COLS * W); column j starts at BASE + j * W.
// Parameters: non-negative integers (or ADDR_W-bit vectors, as wc_cache_ptrs passes them;
// plain 32-bit integers need ADDR_W <= 32) with W >= 1, SIZE = COLS * W for some COLS >= 1,
// SPANW = span * W with 1 <= span <= COLS; BASE, SIZE, W and SPANW each fit in ADDR_W bits
// (< 2**ADDR_W), and BASE + SIZE <= 2**ADDR_W (a ring may end at the top of the address space).
// Other values are undefined behaviour.
//
// Outputs (ADDR_W bits each but full), as they behave:
//   pend    start of the pending column (the one being written): newest + W, or BASE where
//           that reaches BASE + SIZE (with COLS columns the pending column is the oldest one);
//   newest  start of the newest committed column;
//   countw  committed words since reset: (columns committed) * W, saturating at SPANW;
//   full    at least COLS columns committed since reset (pend has wrapped to BASE).
// rst (synchronous, wins over commit): pend = BASE (the first column written after a reset is
// column 0), newest = BASE + SIZE - W (the last column), countw = 0, full = 0.
// commit (at a clock edge without rst): newest <= pend, pend advances one column (wrapping),
// countw <= min(countw + W, SPANW), full <= 1 if pend wraps at this commit. Nothing else
// changes the state; before the first rst edge it is undefined (no power-up values).
//
// Registers: pend and full (ADDR_W + 1 flip-flops), the outputs of those names. newest and
// countw are combinational from them only (a commit shows after its clock edge, like pend):
// newest = pend - W (BASE + SIZE - W when pend = BASE); countw = SPANW if full, else
// min(pend - BASE, SPANW) (before the first wrap pend - BASE is the number of words committed).
module wc_ring_ptr #(
    parameter BASE = 0,  // first word of the ring
    parameter SIZE = 1,  // COLS * W words
    parameter W = 1,  // words per column
    parameter SPANW = 1,  // span * W: where countw saturates
    parameter ADDR_W = 1  // word-address width (holds BASE + SIZE - 1)
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              commit,
    output reg  [ADDR_W-1:0] pend,
    output reg               full,
    output wire [ADDR_W-1:0] newest,
    output wire [ADDR_W-1:0] countw
);
  localparam LAST_I = BASE + SIZE - W;  // start of the last column (mod 2**ADDR_W below)
  localparam [ADDR_W-1:0] BASE_A = BASE[ADDR_W-1:0];
  localparam [ADDR_W-1:0] LAST_A = LAST_I[ADDR_W-1:0];
  localparam [ADDR_W-1:0] W_A = W[ADDR_W-1:0];
  localparam [ADDR_W-1:0] SPANW_A = SPANW[ADDR_W-1:0];

  always @(posedge clk) begin
    if (rst) begin
      pend <= BASE_A;
      full <= 1'b0;
    end else if (commit) begin
      if (pend == LAST_A) begin
        pend <= BASE_A;
        full <= 1'b1;
      end else begin
        pend <= pend + W_A;
      end
    end
  end

  wire [ADDR_W-1:0] used = pend - BASE_A;  // words committed, before the first wrap
  assign newest = (pend == BASE_A) ? LAST_A : pend - W_A;
  assign countw = (!full && used < SPANW_A) ? used : SPANW_A;
endmodule
`default_nettype wire
