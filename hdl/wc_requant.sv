`default_nettype none
// wc_requant: accumulator (24 fraction bits) -> Q4.12 activation (DESIGN.md numerics contract).
// Combinational: y = clamp(acc >>> (12 + shift), -32768, 32767) with an arithmetic (floor)
// shift, then, if relu, y = max(y, 0). The rounding constant R is already folded into acc.
// shift is a node's weight shift, 0..MAX_SHIFT (MAX_SHIFT in 0..3); larger values never occur
// and give an unspecified y. With MAX_SHIFT = 0 the shift input is ignored (the fixed >>> 12).
// Needs ACC_W >= 29 + MAX_SHIFT (16 result bits, 12 + shift fraction bits and a sign, as
// schedule.MIN_ACC_BITS sizes it; the library uses up to 64).
module wc_requant #(
    parameter ACC_W = 40,
    parameter MAX_SHIFT = 0
) (
    /* verilator lint_off UNUSEDSIGNAL */  // acc[11:0] is the fraction dropped by the floor;
    input  wire signed [ACC_W-1:0] acc,    // shift is unused when MAX_SHIFT = 0
    input  wire        [1:0]       shift,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire                    relu,
    output wire signed [15:0]      y
);
    // shifted = acc >>> (12 + shift)
    wire signed [ACC_W-13:0] shifted;
    generate
        if (MAX_SHIFT == 0) begin : g_fixed
            assign shifted = acc[ACC_W-1:12];
        end else begin : g_shift
            wire signed [ACC_W-13:0] whole = acc[ACC_W-1:12];
            assign shifted = whole >>> shift;
        end
    endgenerate

    // shifted fits 16 bits iff shifted[ACC_W-13:15] are all copies of the sign bit.
    wire [ACC_W-28:0] high_bits = shifted[ACC_W-13:15];
    wire fits = (&high_bits) | ~(|high_bits);
    wire negative = acc[ACC_W-1];

    wire signed [15:0] limit = negative ? 16'sh8000 : 16'sh7fff;
    wire signed [15:0] saturated = fits ? shifted[15:0] : limit;

    assign y = (relu && saturated[15]) ? 16'sd0 : saturated;
endmodule
`default_nettype wire
