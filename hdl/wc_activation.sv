`default_nettype none
// wc_activation: one lane of a node's activation on a pre-activation p (Q4.12, already
// shifted and clamped). Modes: 0 pass (y = p); 1 leaky_relu (y = p >= 0 ? p :
// clamp((p*slope + R0) >>> 12)); 2 pwl (y = pwl(table_a, p)); 3 gated: channel ch < in_half
// stores s = pwl(table_a, p) in gate-buffer entry ch and shows nothing, channel ch >= in_half
// shows y = clamp((buf[ch-in_half] * pwl(table_b, p) + R0) >>> 12) as out_ch = ch-in_half.
// pwl(L, p): u = p + 32768, i = u >> 6, f = u & 63, L[i] + (((L[i+1]-L[i])*f + r) >>> 6).
// HALF_UP = 1: R0 = 2048, r = 32; HALF_UP = 0: R0 = r = 0. Tables (wc_table_rom): TABLE_FILE
// word t*1024 + i = L_t[i] (16-bit hex, i < 1024), TABLE_ENDS[16*t +: 16] = L_t[1024]. A gated
// node's first-half channels come before its second-half ones (the next cycle is soon enough).
// Needs GATE_DEPTH <= 2**CH_W and table indices < N_TABLES.
// Timing: LATENCY = 7 in every mode, counted like wc_drain/wc_delay: a beat with in_valid=1
// in cycle c (sampled by the clock edge that ends cycle c) shows on out_* in cycle c+7, right
// after the 7th edge (out_valid=1, out_ch, out_y, out_tag = in_tag of that beat). A gated
// first half, a bubble or a beat cut by rst gives out_valid=0 in its cycle c+7 (out_ch, out_y,
// out_tag don't-care). rst clears the valid bits only: beats sampled by an edge with rst=1 or
// by the 6 edges before it are dropped. Stages (after edge k): 1 table ROM read (block RAM,
// L[i] and L[i+1] on its two ports), 2 ROM output register, 3 L[i+1]-L[i], 4 interpolation
// product (MULT18X18D), 5 sum; gate buffer (distributed RAM) write/read, 6 shared leaky/gate
// product (MULT18X18D), 7 clamp.
module wc_activation #(
    parameter N_TABLES = 1,
    parameter TABLE_FILE = "",
    parameter [N_TABLES*16-1:0] TABLE_ENDS = 0,  // L_t[1024] at [16*t +: 16]
    parameter TBL_W = 1,
    parameter CH_W = 1,
    parameter TAG_W = 1,
    parameter GATE_DEPTH = 1,
    parameter HALF_UP = 1
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    in_valid,
    input  wire [CH_W-1:0]         in_ch,
    input  wire signed [15:0]      in_p,
    input  wire [TAG_W-1:0]        in_tag,
    input  wire [1:0]              in_mode,     // 0 pass, 1 leaky_relu, 2 pwl, 3 gated
    input  wire signed [15:0]      in_slope,    // leaky_relu slope, Q4.12
    input  wire [TBL_W-1:0]        in_table_a,  // pwl: its table; gated: the tanh-like table
    input  wire [TBL_W-1:0]        in_table_b,  // gated: the sigmoid-like table
    input  wire [CH_W-1:0]         in_half,     // gated: C; channels >= C are the gate half
    output reg                     out_valid,
    output reg  [CH_W-1:0]         out_ch,
    output reg  signed [15:0]      out_y,
    output reg  [TAG_W-1:0]        out_tag
);
    /* verilator lint_off UNUSEDPARAM */
    localparam LATENCY = 7;  // for readers and generators: the timing above
    /* verilator lint_on UNUSEDPARAM */
    localparam GB_AW = GATE_DEPTH > 1 ? $clog2(GATE_DEPTH) : 1;
    localparam signed [31:0] R0 = HALF_UP ? 32'sd2048 : 32'sd0;
    localparam [5:0] R_PWL = HALF_UP ? 6'd32 : 6'd0;
    localparam [1:0] LEAKY = 2'd1, PWL = 2'd2, GATED = 2'd3;

    // ---- stages 1-2: table ROM read, output register; the gate half reads table_b ------------
    wire gate_half = (in_mode == GATED) && (in_ch >= in_half);
    wire signed [15:0] low2, high2;  // L[i], L[i+1] after edge 2
    wc_table_rom #(.N_TABLES(N_TABLES), .TABLE_FILE(TABLE_FILE), .TBL_W(TBL_W),
                   .TABLE_ENDS(TABLE_ENDS)) u_rom (
        .clk(clk), .table_i(gate_half ? in_table_b : in_table_a), .i({~in_p[15], in_p[14:6]}),
        .low(low2), .high(high2));

    // ---- control, stage k at [(k-1)*CW +: CW]: {store (a gated first half), mode, ch (out_ch,
    // or a first half's buffer entry), tag}; v: the valid bits, the only state rst clears ----
    localparam CW = 3 + CH_W + TAG_W;
    wire [CW-1:0] ctrl_in = {(in_mode == GATED) && !gate_half, in_mode,
                             gate_half ? in_ch - in_half : in_ch, in_tag};
    reg [6*CW-1:0] ctrl;
    reg [6:1] v;
    reg signed [15:0] p1, p2, p3, p4, slope1, slope2, slope3, slope4;
    always_ff @(posedge clk) begin
        if (rst) v <= '0;
        else v <= {v[5:1], in_valid};
        ctrl <= {ctrl[5*CW-1:0], ctrl_in};
        {p4, slope4, p3, slope3, p2, slope2, p1, slope1} <=
            {p3, slope3, p2, slope2, p1, slope1, in_p, in_slope};
    end
    /* verilator lint_off UNUSEDSIGNAL */  // not every field is used in every stage
    wire [CW-1:0] ctrl4 = ctrl[3*CW +: CW], ctrl5 = ctrl[4*CW +: CW], ctrl6 = ctrl[5*CW +: CW];
    wire [CH_W-1:0] ch4 = ctrl4[TAG_W +: CH_W];  // a buffer entry needs only its low GB_AW bits
    /* verilator lint_on UNUSEDSIGNAL */
    wire             store4 = ctrl4[CW-1], store6 = ctrl6[CW-1];
    wire [1:0]       mode4 = ctrl4[CW-2 -: 2], mode5 = ctrl5[CW-2 -: 2];
    wire [CH_W-1:0]  ch6 = ctrl6[TAG_W +: CH_W];
    wire [TAG_W-1:0] tag6 = ctrl6[TAG_W-1:0];
    wire [GB_AW-1:0] entry4 = ch4[GB_AW-1:0];

    // ---- stages 3-5: L[i+1] - L[i], product, interpolated value g -----------------------------
    reg signed [16:0] diff3;
    reg signed [23:0] base3, base4, prod4;  // base = (L[i] << 6) + r
    always_ff @(posedge clk) begin
        diff3 <= $signed({high2[15], high2}) - $signed({low2[15], low2});
        base3 <= $signed({{2{low2[15]}}, low2, R_PWL});
        prod4 <= diff3 * $signed({1'b0, p3[5:0]});  // f = u & 63 = p & 63
        base4 <= base3;
    end
    /* verilator lint_off UNUSEDSIGNAL */  // only bits 21:6 carry the result (it fits int16)
    wire signed [23:0] interp = prod4 + base4;
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [15:0] g = interp[21:6];

    // ---- stage 5: gate buffer and the shared multiplier's operands ----------------------------
    reg signed [15:0] gate_buf [0:GATE_DEPTH-1];
    reg signed [15:0] ma5, mb5;
    always_ff @(posedge clk) begin
        if (v[4] && store4) gate_buf[entry4] <= g;
        ma5 <= (mode4 == GATED) ? gate_buf[entry4] : p4;  // pass/leaky: p
        mb5 <= (mode4 == LEAKY) ? slope4 : g;             // pwl: the result
    end

    // ---- stage 6: product; stage 7: round, clamp, select --------------------------------------
    reg signed [31:0] prod6;
    reg signed [15:0] plain6;
    reg use_prod6;
    always_ff @(posedge clk) begin
        prod6 <= ma5 * mb5;
        plain6 <= (mode5 == PWL) ? mb5 : ma5;
        use_prod6 <= (mode5 == GATED) || (mode5 == LEAKY && ma5[15]);
    end
    /* verilator lint_off UNUSEDSIGNAL */  // bits 11:0 are the fraction dropped by the floor
    wire signed [31:0] rounded = prod6 + R0;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [4:0] high = rounded[31:27];  // rounded >>> 12 fits int16 iff bits 31:27 agree
    wire fits = (&high) | ~(|high);
    wire signed [15:0] clamped = fits ? rounded[27:12] : (high[4] ? 16'sh8000 : 16'sh7fff);

    always_ff @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else out_valid <= v[6] && !store6;
        out_ch <= ch6;
        out_y <= use_prod6 ? clamped : plain6;
        out_tag <= tag6;
    end
endmodule
`default_nettype wire
