`default_nettype none
// wc_drain: serialises one finished group of Q accumulators through D wc_requant units,
// up to D output channels per cycle (a "beat"); D = 1 gives one channel per cycle.
// Timing: `load` in cycle c with count = n (0..Q) gives out_valid=1 in cycles c+1 .. c+B,
// B = ceil(n/D). Beat j (cycle c+1+j) shows columns jD .. min(jD+D, n)-1 in lanes 0.. :
// out_ch = base+jD (mod 2^CH_W) is lane 0's channel (lane i is channel out_ch+i),
// out_value[16*i +: 16] = requant(acc column jD+i, relu), out_lanes = the low min(D, n-jD) bits
// set, out_tag = tag. In other cycles out_valid=0 and out_lanes=0 (out_ch/out_value/out_tag
// hold). Values of lanes whose out_lanes bit is 0 are don't-care.
// Column q of `acc` is acc[q*ACC_W +: ACC_W]; acc, base, count, relu, tag matter only in the
// load cycle (columns 0..D-1 go straight through wc_requant into the output register, the
// other columns are captured). count = 0 emits nothing; count > Q is not allowed.
// `busy` = beats remain to be shown after this cycle, so the next load is accepted in cycle
// c+B (while the last beat is shown). A load while busy sets the sticky `collision` (cleared
// only by rst); the new load then replaces whatever was left of the old group.
module wc_drain #(
    parameter Q = 1,
    parameter D = 1,
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
    output reg  [D-1:0]            out_lanes,
    output reg  [CH_W-1:0]         out_ch,
    output reg  [D*16-1:0]         out_value,
    output reg  [TAG_W-1:0]        out_tag,
    output wire                    busy,
    output reg                     collision
);
    // channel step per beat, D mod 2^CH_W
    localparam [CH_W-1:0] STEP = D[CH_W-1:0];

    reg [CH_W-1:0]    next_ch;
    reg               group_relu;
    reg [TAG_W-1:0]   group_tag;

    // Column q of the loaded group is real iff q < count: a thermometer code.
    wire [Q-1:0] real_cols = ~({Q{1'b1}} << count);

    // Columns D..Q-1 of the group wait in a shift register with one valid bit per column;
    // the next beat's columns are its low D columns. Shifted by D columns per beat.
    wire [D*ACC_W-1:0] pending_columns;
    wire [D-1:0]       pending_lanes;
    generate
        if (Q == D) begin : g_single
            // nothing waits: the whole group leaves in the load cycle
            assign pending_columns = '0;
            assign pending_lanes = '0;
            assign busy = 1'b0;
        end else begin : g_pending
            reg [Q*ACC_W-1:0] pending;  // top D columns stay 0 (optimised away)
            reg [Q-1:0]       pending_valid;
            always_ff @(posedge clk) begin
                if (load) pending <= acc >> (D * ACC_W);
                else if (busy) pending <= pending >> (D * ACC_W);
            end
            always_ff @(posedge clk) begin
                if (rst) pending_valid <= '0;
                else if (load) pending_valid <= real_cols >> D;
                else if (busy) pending_valid <= pending_valid >> D;
            end
            assign pending_columns = pending[D*ACC_W-1:0];
            assign pending_lanes = pending_valid[D-1:0];
            assign busy = (pending_valid != '0);
        end
    endgenerate

    // In a load cycle columns 0..D-1 come straight from the input, otherwise from `pending`.
    wire [D*ACC_W-1:0] columns = load ? acc[D*ACC_W-1:0] : pending_columns;
    wire               lane_relu = load ? relu : group_relu;
    wire [D*16-1:0]    values;

    genvar i;
    generate
        for (i = 0; i < D; i = i + 1) begin : g_lane
            wc_requant #(.ACC_W(ACC_W)) u_requant (
                .acc (columns[i*ACC_W +: ACC_W]),
                .relu(lane_relu),
                .y   (values[i*16 +: 16])
            );
        end
    endgenerate

    always_ff @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            out_lanes <= '0;
            collision <= 1'b0;
        end else if (load) begin
            if (busy) collision <= 1'b1;
            out_valid <= (count != '0);
            out_lanes <= real_cols[D-1:0];
            out_ch <= base;
            out_value <= values;
            out_tag <= tag;
            next_ch <= base + STEP;
            group_relu <= relu;
            group_tag <= tag;
        end else if (busy) begin
            out_valid <= 1'b1;
            out_lanes <= pending_lanes;
            out_ch <= next_ch;
            out_value <= values;
            out_tag <= group_tag;
            next_ch <= next_ch + STEP;
        end else begin
            out_valid <= 1'b0;
            out_lanes <= '0;
        end
    end
endmodule
`default_nettype wire
