`default_nettype none
// wc_rom: read-only memory (program, weights, biases) preloaded from a $readmemh image.
// Timing: registered read, latency 1. `data` shows mem[addr] in the cycle after a clock edge
// that sampled en=1 with that addr; with en=0 it holds its previous value.
// No reset: `data` is undefined until the first enabled read.
module wc_rom #(
    parameter WIDTH = 16,
    parameter DEPTH = 2,
    parameter ADDR_W = 1,
    parameter INIT_FILE = ""
) (
    input  wire              clk,
    input  wire              en,
    input  wire [ADDR_W-1:0] addr,
    output reg  [WIDTH-1:0]  data
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];

    // Memory image only (allowed by the HDL rules); no logic state is initialised here.
    initial begin
        if (INIT_FILE != "") $readmemh(INIT_FILE, mem);
    end

    always_ff @(posedge clk) begin
        if (en) data <= mem[addr];
    end
endmodule
`default_nettype wire
