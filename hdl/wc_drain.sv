`default_nettype none
// wc_drain: serialises one finished group of Q accumulators through wc_requant,
// one output channel per cycle.
// Timing: `load` in cycle c with count = n (1..Q) gives out_valid=1 in cycles c+1 .. c+n with
// out_ch = base+q (mod 2^CH_W), out_value = requant(acc column q, relu), out_tag = tag for
// q = 0 .. n-1 in order; out_valid=0 otherwise (out_ch/out_value/out_tag then hold).
// Column q of `acc` is acc[q*ACC_W +: ACC_W]; acc, base, count, relu, tag matter only in the
// load cycle (column 0 goes straight through wc_requant into the output register, the other
// columns are captured). count = 0 emits nothing.
// `busy` = values remain to be emitted after this cycle, so the next load is accepted in cycle
// c+n (while the last value is shown). A load while busy sets the sticky `collision` (cleared
// only by rst); the new load then replaces whatever was left of the old group.
module wc_drain #(
    parameter Q = 1,
    parameter ACC_W = 40,
    parameter CH_W = 1,
    parameter TAG_W = 1
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    load,
    input  wire [Q*ACC_W-1:0]      acc,
    input  wire [CH_W-1:0]         base,
    input  wire [CH_W:0]           count,
    input  wire                    relu,
    input  wire [TAG_W-1:0]        tag,
    output reg                     out_valid,
    output reg  [CH_W-1:0]         out_ch,
    output reg  signed [15:0]      out_value,
    output reg  [TAG_W-1:0]        out_tag,
    output wire                    busy,
    output reg                     collision
);
    reg [CH_W:0]      left;         // values still to emit after the one being output
    reg [CH_W-1:0]    next_ch;
    reg               group_relu;
    reg [TAG_W-1:0]   group_tag;

    assign busy = (left != '0);

    // Columns 1..Q-1 of the group wait in a shift register; the next one is at [ACC_W-1:0].
    wire [ACC_W-1:0] pending_column;
    generate
        if (Q == 1) begin : g_single
            assign pending_column = '0;  // nothing waits: the only column leaves in the load cycle
        end else begin : g_pending
            reg [Q*ACC_W-1:0] pending;  // top column stays 0 (optimised away)
            always_ff @(posedge clk) begin
                if (load) pending <= acc >> ACC_W;
                else if (busy) pending <= pending >> ACC_W;
            end
            assign pending_column = pending[ACC_W-1:0];
        end
    endgenerate

    // In a load cycle column 0 comes straight from the input, otherwise from `pending`.
    wire signed [ACC_W-1:0] column = $signed(load ? acc[ACC_W-1:0] : pending_column);
    wire signed [15:0] value;

    wc_requant #(.ACC_W(ACC_W)) u_requant (
        .acc (column),
        .relu(load ? relu : group_relu),
        .y   (value)
    );

    always_ff @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            left <= '0;
            collision <= 1'b0;
        end else if (load) begin
            if (busy) collision <= 1'b1;
            out_valid <= (count != '0);
            out_ch <= base;
            out_value <= value;
            out_tag <= tag;
            left <= (count != '0) ? count - 1'b1 : '0;
            next_ch <= base + 1'b1;
            group_relu <= relu;
            group_tag <= tag;
        end else if (busy) begin
            out_valid <= 1'b1;
            out_ch <= next_ch;
            out_value <= value;
            out_tag <= group_tag;
            left <= left - 1'b1;
            next_ch <= next_ch + 1'b1;
        end else begin
            out_valid <= 1'b0;
        end
    end
endmodule
`default_nettype wire
