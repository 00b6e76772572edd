`default_nettype none
// wc_mac_array — G x Q multipliers, per-column adder trees and accumulators.
//
// Per step (in_valid) each column q computes sum_g x_g * w_{g,q}; a group is the run of valid
// steps from in_first to in_last (possibly one step). Column q's result is
//   init_q + sum over the group's steps of sum_g x_g * w_{g,q}
// exactly: products are 16x16 signed at 32 bits, resized to ACC_W, trees and accumulators are
// ACC_W bits (the compiler sizes ACC_W from a static bound, so nothing can wrap). init is
// sampled with the in_first step. Steps with in_valid = 0 are bubbles (first/last ignored).
//
// Pipeline: stage 1 = a private copy of each multiplier's operands (short routes into every
// MULT18X18D, which Yosys does not give input registers), stage 2 = product registers, then one
// register per adder-tree level ($clog2(G) levels, G padded to a power of two with zeros), then
// the accumulator (acc <= (first ? init : acc) + tree_sum), which on the last step also loads
// out_acc and pulses out_valid: LATENCY = 3 + $clog2(G) cycles after the in_last step. Groups
// may follow back to back. rst clears the valid flags only.
// UNSIGNED_W = 1 adds in_wunsigned (with w): that step's weights are unsigned 16-bit (0..65535,
// so 0x8000 is +2**15: an identity source's X << 15 in one step); products are then 16 x 17.
module wc_mac_array #(
    parameter G = 1,     // rows: input channels summed per step
    parameter Q = 1,     // columns: output channels at once
    parameter ACC_W = 40, // accumulator width
    parameter UNSIGNED_W = 0
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               in_valid,
    input  wire               in_first,
    input  wire               in_last,
    input  wire [   G*16-1:0] x,         // lane g at [16*g +: 16], shared by all columns
    input  wire [ G*Q*16-1:0] w,         // row g, column q at [16*(g*Q+q) +: 16]
    input  wire               in_wunsigned, // with w; ignored unless UNSIGNED_W
    input  wire [Q*ACC_W-1:0] init,      // column q at [q*ACC_W +: ACC_W], with in_first
    output reg                out_valid,
    output reg  [Q*ACC_W-1:0] out_acc    // column q at [q*ACC_W +: ACC_W]
);
  localparam LV = $clog2(G);  // adder-tree levels
  localparam GP = 1 << LV;  // G padded to a power of two
  localparam D = 2 + LV;  // cycles from a step to the accumulator stage

  // ---- stage 1: G*Q multipliers, one MULT18X18D each --------------------------------------
  localparam BW = UNSIGNED_W ? 17 : 16;  // weight operand width (sign bit added when unsigned)
  localparam PW = 16 + BW;  // product width
  reg [G*Q*PW-1:0] prod;
  genvar g, q, n;
  generate
    for (g = 0; g < G; g = g + 1) begin : g_row
      for (q = 0; q < Q; q = q + 1) begin : g_col
        (* keep *) reg signed [15:0] a;  // keep: Yosys would merge the Q copies of x_g
        reg signed [BW-1:0] b;
        wire [15:0] w_gq = w[16*(g*Q+q)+:16];
        always @(posedge clk) a <= $signed(x[16*g+:16]);
        if (UNSIGNED_W) begin : g_wide_b
          always @(posedge clk) b <= $signed({in_wunsigned ? 1'b0 : w_gq[15], w_gq});
        end else begin : g_b
          always @(posedge clk) b <= $signed(w_gq);
        end
        wire signed [PW-1:0] p = a * b;
        always @(posedge clk) prod[PW*(g*Q+q)+:PW] <= $unsigned(p);
      end
    end
  endgenerate
  wire unused_wunsigned = UNSIGNED_W ? 1'b0 : in_wunsigned;

  // ---- control and init delay lines (D stages, aligned with the tree output) ---------------
  reg [D-1:0] v_pipe;
  reg [D-1:0] f_pipe;
  reg [D-1:0] l_pipe;
  reg [D*Q*ACC_W-1:0] init_pipe;
  integer i;
  always @(posedge clk) begin
    if (rst) v_pipe <= '0;
    else begin
      v_pipe[0] <= in_valid;
      for (i = 1; i < D; i = i + 1) v_pipe[i] <= v_pipe[i-1];
    end
    f_pipe[0] <= in_first;
    l_pipe[0] <= in_last;
    init_pipe[0+:Q*ACC_W] <= init;
    for (i = 1; i < D; i = i + 1) begin
      f_pipe[i] <= f_pipe[i-1];
      l_pipe[i] <= l_pipe[i-1];
      init_pipe[i*Q*ACC_W+:Q*ACC_W] <= init_pipe[(i-1)*Q*ACC_W+:Q*ACC_W];
    end
  end

  wire acc_v = v_pipe[D-1];
  wire acc_first = f_pipe[D-1];
  wire acc_last = l_pipe[D-1];
  wire [Q*ACC_W-1:0] acc_init = init_pipe[(D-1)*Q*ACC_W+:Q*ACC_W];

  // ---- per column: registered adder tree + accumulator ------------------------------------
  reg [Q*ACC_W-1:0] acc;
  wire [Q*ACC_W-1:0] acc_next;
  generate
    for (q = 0; q < Q; q = q + 1) begin : g_tree
      // heap-ordered nodes 1..2*GP-1: leaves GP..2*GP-1 are the (resized) products of rows
      // 0..GP-1 (zero for padding rows), node n is the registered sum of nodes 2n and 2n+1.
      wire [2*GP*ACC_W-1:ACC_W] node;
      for (n = 0; n < GP; n = n + 1) begin : g_leaf
        if (n >= G) begin : g_pad
          assign node[(GP+n)*ACC_W+:ACC_W] = '0;
        end else begin : g_prod
          wire [PW-1:0] p = prod[PW*(n*Q+q)+:PW];
          if (ACC_W > PW) begin : g_sext
            assign node[(GP+n)*ACC_W+:ACC_W] = {{(ACC_W - PW) {p[PW-1]}}, p};
          end else if (ACC_W == PW) begin : g_same
            assign node[(GP+n)*ACC_W+:ACC_W] = p;
          end else begin : g_trunc
            assign node[(GP+n)*ACC_W+:ACC_W] = p[ACC_W-1:0];
            wire unused_hi = &{1'b0, p[PW-1:ACC_W]};  // sign copies by the ACC_W bound
          end
        end
      end
      for (n = 1; n < GP; n = n + 1) begin : g_node
        reg [ACC_W-1:0] s;
        always @(posedge clk) s <= node[(2*n)*ACC_W+:ACC_W] + node[(2*n+1)*ACC_W+:ACC_W];
        assign node[n*ACC_W+:ACC_W] = s;
      end
      wire [ACC_W-1:0] tree_sum = node[ACC_W+:ACC_W];
      wire [ACC_W-1:0] base = acc_first ? acc_init[q*ACC_W+:ACC_W] : acc[q*ACC_W+:ACC_W];
      assign acc_next[q*ACC_W+:ACC_W] = base + tree_sum;
    end
  endgenerate

  always @(posedge clk) begin
    if (acc_v) acc <= acc_next;
    if (acc_v && acc_last) out_acc <= acc_next;
    if (rst) out_valid <= 1'b0;
    else out_valid <= acc_v && acc_last;
  end
endmodule
`default_nettype wire
