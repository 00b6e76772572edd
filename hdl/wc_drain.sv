`default_nettype none
// wc_drain: serialises one finished group of Q accumulators through D wc_requant units,
// up to D output channels per cycle (a "beat"), or one per beat for a narrow group (one feeding
// a one-lane unit after the drain); with D = 1 both give one channel per cycle.
// Timing: `load` in cycle c with count = n (0..Q) gives out_valid=1 in cycles c+1 .. c+B.
// narrow = 0: B = ceil(n/D); beat j (cycle c+1+j) shows columns jD .. min(jD+D, n)-1 in lanes
// 0.. : out_ch = base+jD (mod 2^CH_W) is lane 0's channel (lane i is channel out_ch+i),
// out_value[16*i +: 16] = requant(acc column jD+i), out_lanes = the low min(D, n-jD) bits set.
// narrow = 1: B = n; beat j (cycle c+1+j) shows column j in lane 0 only: out_ch = base+j
// (mod 2^CH_W), out_value[15:0] = requant(acc column j), out_lanes = 1.
// requant(a) = clamp(a >>> (12 + shift)) then ReLU if relu (wc_requant); every beat has
// out_tag = tag. In other cycles out_valid=0 and out_lanes=0 (out_ch/out_value/out_tag hold).
// Values of lanes whose out_lanes bit is 0 are don't-care.
// Column q of `acc` is acc[q*ACC_W +: ACC_W]; acc, base, count, relu, shift, narrow, tag matter
// only in the load cycle (beat 0 goes straight through wc_requant into the output register, the
// rest of the group is captured). count = 0 emits nothing; count > Q and shift > MAX_SHIFT are
// not allowed. `busy` = beats remain to be shown after this cycle, so the next load is accepted
// in cycle c+B (while the last beat is shown). A load while busy sets the sticky `collision`
// (cleared only by rst); the new load then replaces whatever was left of the old group.
// NARROW = 0 (a core without narrow groups) ignores `narrow` and leaves out the narrow logic.
module wc_drain #(
    parameter Q = 1,
    parameter D = 1,
    parameter ACC_W = 40,
    parameter CH_W = 1,
    parameter TAG_W = 1,
    parameter MAX_SHIFT = 0,
    parameter NARROW = 1
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    load,
    input  wire [Q*ACC_W-1:0]      acc,
    input  wire [CH_W-1:0]         base,
    input  wire [CH_W:0]           count,
    input  wire                    relu,
    input  wire [1:0]              shift,
    input  wire                    narrow,
    input  wire [TAG_W-1:0]        tag,
    output reg                     out_valid,
    output reg  [D-1:0]            out_lanes,
    output reg  [CH_W-1:0]         out_ch,
    output reg  [D*16-1:0]         out_value,
    output reg  [TAG_W-1:0]        out_tag,
    output wire                    busy,
    output reg                     collision
);
    reg [CH_W-1:0]    next_ch;
    reg               group_relu;
    reg [1:0]         group_shift;
    reg               group_narrow;
    reg [TAG_W-1:0]   group_tag;

    // The group being shown: the inputs in a load cycle, the registered group otherwise.
    wire       beat_relu = load ? relu : group_relu;
    wire [1:0] beat_shift = load ? shift : group_shift;
    wire       beat_narrow = (NARROW != 0) && (load ? narrow : group_narrow);
    // channel step per beat, mod 2^CH_W: 1 if narrow, else D
    wire [CH_W-1:0] step = beat_narrow ? CH_W'(1) : CH_W'(D);

    // Column q of the loaded group is real iff q < count: a thermometer code.
    wire [Q-1:0] real_cols = ~({Q{1'b1}} << count);

    // The columns after beat 0 wait in a shift register with one valid bit per column; the
    // next beat's columns are its low D (narrow: 1) columns. Shifted by D (or 1) per beat.
    wire [D*ACC_W-1:0] pending_columns;
    wire [D-1:0]       pending_lanes;
    generate
        if (Q == 1 || (Q == D && NARROW == 0)) begin : g_single
            // nothing waits: the whole group leaves in the load cycle
            assign pending_columns = '0;
            assign pending_lanes = '0;
            assign busy = 1'b0;
        end else begin : g_pending
            reg [Q*ACC_W-1:0] pending;  // top column(s) stay 0 (optimised away)
            reg [Q-1:0]       pending_valid;
            wire [Q*ACC_W-1:0] cols = load ? acc : pending;
            wire [Q-1:0]       valid = load ? real_cols : pending_valid;
            always_ff @(posedge clk) begin
                if (load || busy) pending <= beat_narrow ? cols >> ACC_W : cols >> (D * ACC_W);
            end
            always_ff @(posedge clk) begin
                if (rst) pending_valid <= '0;
                else if (load || busy) pending_valid <= beat_narrow ? valid >> 1 : valid >> D;
            end
            assign pending_columns = pending[D*ACC_W-1:0];
            assign pending_lanes = pending_valid[D-1:0];
            assign busy = (pending_valid != '0);
        end
    endgenerate

    // In a load cycle beat 0's columns come straight from the input, otherwise from `pending`.
    wire [D*ACC_W-1:0] columns = load ? acc[D*ACC_W-1:0] : pending_columns;
    wire [D-1:0]       lane_mask = beat_narrow ? D'(1) : {D{1'b1}};
    wire [D*16-1:0]    values;

    genvar i;
    generate
        for (i = 0; i < D; i = i + 1) begin : g_lane
            wc_requant #(.ACC_W(ACC_W), .MAX_SHIFT(MAX_SHIFT)) u_requant (
                .acc  (columns[i*ACC_W +: ACC_W]),
                .shift(beat_shift),
                .relu (beat_relu),
                .y    (values[i*16 +: 16])
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
            out_lanes <= real_cols[D-1:0] & lane_mask;
            out_ch <= base;
            out_value <= values;
            out_tag <= tag;
            next_ch <= base + step;
            group_relu <= relu;
            group_shift <= shift;
            group_narrow <= narrow;
            group_tag <= tag;
        end else if (busy) begin
            out_valid <= 1'b1;
            out_lanes <= pending_lanes & lane_mask;
            out_ch <= next_ch;
            out_value <= values;
            out_tag <= group_tag;
            next_ch <= next_ch + step;
        end else begin
            out_valid <= 1'b0;
            out_lanes <= '0;
        end
    end
endmodule
`default_nettype wire
