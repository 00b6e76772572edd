`default_nettype none
// wc_delay: DEPTH-cycle delay line for pipeline alignment, q(t) = d(t - DEPTH).
// DEPTH = 0 is a plain wire. Synchronous active-high rst clears every stage to 0,
// so q reads 0 for the DEPTH cycles after reset until real data arrives.
module wc_delay #(
    parameter WIDTH = 1,
    parameter DEPTH = 1
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [WIDTH-1:0] d,
    output wire [WIDTH-1:0] q
);
    generate
        if (DEPTH == 0) begin : g_wire
            assign q = d;
            // clk/rst are unused in the wire case
            wire unused_clk_rst = clk ^ rst;
        end else begin : g_stages
            reg [DEPTH*WIDTH-1:0] stages;  // stage i, [i*WIDTH +: WIDTH], holds d(t - 1 - i)
            /* verilator lint_off UNUSEDSIGNAL */  // the last stage leaves through q
            wire [(DEPTH+1)*WIDTH-1:0] shifted = {stages, d};  // stage i -> i + 1, d -> 0
            /* verilator lint_on UNUSEDSIGNAL */

            always_ff @(posedge clk) begin
                if (rst) stages <= '0;
                else stages <= shifted[DEPTH*WIDTH-1:0];
            end

            assign q = stages[(DEPTH-1)*WIDTH +: WIDTH];
        end
    endgenerate
endmodule
`default_nettype wire
