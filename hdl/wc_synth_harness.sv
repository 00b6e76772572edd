`default_nettype none
// Synthesis harness for a core-only resource/Fmax check (not used on a board).
//
// A core has ~140 I/O bits; placing it alone would measure pin timing, not the core. This
// wraps `wavecomp_core` so only 4 pins remain: the 64 input-sample bits arrive through a
// shift register from `din`, the strobe comes from a counter every CYCLES_PER_SAMPLE clocks,
// and the 64 output-sample bits leave through a shift register on `dout`. Everything the core
// computes stays observable, so synthesis cannot optimise it away.
module wc_synth_harness #(
    parameter CYCLES_PER_SAMPLE = 256
) (
    input  wire clk,
    input  wire rst,
    input  wire din,
    output wire dout
);
    localparam CNT_W = $clog2(CYCLES_PER_SAMPLE);

    reg [63:0] in_shift;
    reg [63:0] out_shift;
    reg [CNT_W-1:0] count;
    reg strobe;
    wire [63:0] core_out;

    always_ff @(posedge clk) begin
        if (rst) begin
            count <= '0;
            strobe <= 1'b0;
        end else begin
            strobe <= (count == CNT_W'(CYCLES_PER_SAMPLE - 1));
            count <= (count == CNT_W'(CYCLES_PER_SAMPLE - 1)) ? '0 : count + 1'b1;
        end
    end

    always_ff @(posedge clk) begin
        in_shift <= {in_shift[62:0], din};
        if (strobe) out_shift <= core_out;
        else out_shift <= {out_shift[62:0], 1'b0};
    end
    assign dout = out_shift[63];

    wavecomp_core u_core (
        .clk(clk), .rst(rst), .strobe(strobe),
        .sample_in0(in_shift[15:0]), .sample_in1(in_shift[31:16]),
        .sample_in2(in_shift[47:32]), .sample_in3(in_shift[63:48]),
        .sample_out0(core_out[15:0]), .sample_out1(core_out[31:16]),
        .sample_out2(core_out[47:32]), .sample_out3(core_out[63:48]),
        .jack(in_shift[7:0]));
endmodule
`default_nettype wire
