`default_nettype none
// wc_requant: accumulator (24 fraction bits) -> Q4.12 activation (DESIGN.md numerics contract).
// Combinational: y = clamp(acc >>> 12, -32768, 32767) with an arithmetic (floor) shift,
// then, if relu, y = max(y, 0). The rounding constant R is already folded into acc.
// Works for ACC_W >= 28 (the library uses 29..64).
module wc_requant #(
    parameter ACC_W = 40
) (
    /* verilator lint_off UNUSEDSIGNAL */  // acc[11:0] is the fraction dropped by the floor
    input  wire signed [ACC_W-1:0] acc,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire                    relu,
    output wire signed [15:0]      y
);
    // acc >>> 12 fits 16 bits iff acc[ACC_W-1:27] are all copies of the sign bit.
    wire [ACC_W-28:0] high_bits = acc[ACC_W-1:27];
    wire fits = (&high_bits) | ~(|high_bits);
    wire negative = acc[ACC_W-1];

    wire signed [15:0] limit = negative ? 16'sh8000 : 16'sh7fff;
    wire signed [15:0] saturated = fits ? $signed(acc[27:12]) : limit;

    assign y = (relu && saturated[15]) ? 16'sd0 : saturated;
endmodule
`default_nettype wire
