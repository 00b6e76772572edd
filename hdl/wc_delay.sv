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
            integer i;

            always_ff @(posedge clk) begin
                if (rst) begin
                    stages <= '0;
                end else begin
                    stages[0 +: WIDTH] <= d;
                    for (i = 1; i < DEPTH; i = i + 1)
                        stages[i*WIDTH +: WIDTH] <= stages[(i-1)*WIDTH +: WIDTH];
                end
            end

            assign q = stages[(DEPTH-1)*WIDTH +: WIDTH];
        end
    endgenerate
endmodule
`default_nettype wire
