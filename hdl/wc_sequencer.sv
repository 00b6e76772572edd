`default_nettype none
// wc_sequencer: runs the per-sample micro-program once per strobe.
// Timing: a strobe sampled at clock edge e starts a run; the LEN cycles after e have run=1 and
// pc = 0, 1, ..., LEN-1; then run=0. While idle (run=0) pc is 0.
// A strobe sampled while a run still has steps left after the current one (run=1 and
// pc != LEN-1) restarts at pc=0 and sets the sticky `overrun` (cleared only by rst).
// A strobe in the last run cycle (strobes exactly LEN cycles apart) is a clean back-to-back
// run, not an overrun. rst: run=0, pc=0, overrun=0. PC_W must hold LEN-1.
module wc_sequencer #(
    parameter LEN = 1,
    parameter PC_W = 1
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            strobe,
    output reg             run,
    output reg  [PC_W-1:0] pc,
    output reg             overrun
);
    localparam [PC_W-1:0] LAST_PC = PC_W'(LEN - 1);

    wire last_step = run && (pc == LAST_PC);

    always_ff @(posedge clk) begin
        if (rst) begin
            run <= 1'b0;
            pc <= '0;
            overrun <= 1'b0;
        end else if (strobe) begin
            run <= 1'b1;
            pc <= '0;
            if (run && !last_step) overrun <= 1'b1;
        end else if (last_step) begin
            run <= 1'b0;
            pc <= '0;
        end else if (run) begin
            pc <= pc + 1'b1;
        end
    end
endmodule
`default_nettype wire
