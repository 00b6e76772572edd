`default_nettype none
// wc_sequencer: runs the per-sample micro-program once per accepted strobe.
// Timing: a strobe accepted at clock edge e (start=1 in the cycle before e) starts a run; the
// LEN cycles after e have run=1 and pc = 0, 1, ..., LEN-1; then run=0. While idle (run=0) pc
// is 0.
// Strobe held over from reset: upstream eurorack-pmod's top.sv registers its strobe from a
// counter that reset holds at 0, so strobe is high during reset and for one clock after it
// (two strobe clocks in a row once rst is low). That is no sample: the inputs are whatever
// reset left, and treating it as two samples would flag an overrun after every reset. So a
// strobe is accepted only once strobe has been low since reset: `armed` is !strobe at the
// last reset edge, and becomes 1 at the first later edge with strobe low. Every accepted
// strobe counts, so a real overrun is still caught.
// A strobe accepted while a run still has steps left after the current one (run=1 and
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
    output wire            start,    // the strobe is accepted: a sample period begins
    output reg             run,
    output reg  [PC_W-1:0] pc,
    output reg             overrun
);
    localparam [PC_W-1:0] LAST_PC = PC_W'(LEN - 1);

    reg armed;  // strobe has been low since the last reset edge
    assign start = strobe && armed && !rst;

    wire last_step = run && (pc == LAST_PC);

    always_ff @(posedge clk) begin
        if (rst) armed <= !strobe;
        else if (!strobe) armed <= 1'b1;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            run <= 1'b0;
            pc <= '0;
            overrun <= 1'b0;
        end else if (start) begin
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
