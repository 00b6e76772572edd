`default_nettype none
// wc_table_rom: the pwl knot tables of wc_activation, one DP16KD (1024 x 16, two read ports)
// per table. Table t has 1,025 int16 knots L_t[0..1024]; given (table t, index i) it shows
// low = L_t[i] and high = L_t[i+1], the two ends of segment i.
// Image: TABLE_FILE holds N_TABLES*1024 16-bit hex words, word t*1024 + i = L_t[i] for
// i = 0..1023; the last knot L_t[1024] is TABLE_ENDS[16*t +: 16] (no second block RAM for one
// word). Port A reads {t, i}, port B reads {t, i+1} (wrapping to {t, 0} at i = 1023, a word then
// ignored): a registered i == 1023 selects TABLE_ENDS instead. Table indices >= N_TABLES are
// not used (their outputs are undefined).
// Timing: latency 2, no enable, no reset. A (table, i) sampled by clock edge e shows on
// low/high after edge e+1: edge e reads both ports (block RAM), edge e+1 is the output register.
// Both reads sit in one always_ff on a plain reg [15:0] array, so Yosys (synth_ecp5) maps the
// memory to N_TABLES DP16KD (one per 1024 words), not to 36-bit PDPW16KD pairs.
module wc_table_rom #(
    parameter N_TABLES = 1,
    parameter TABLE_FILE = "",
    parameter TBL_W = 1,
    parameter [N_TABLES*16-1:0] TABLE_ENDS = 0  // L_t[1024] at [16*t +: 16]
) (
    input  wire                   clk,
    input  wire [TBL_W-1:0]       table_i,  // t
    input  wire [9:0]             i,
    output reg  signed [15:0]     low,      // L_t[i]
    output reg  signed [15:0]     high      // L_t[i+1]
);
    localparam ROM_AW = 10 + $clog2(N_TABLES);

    reg [15:0] rom [0:N_TABLES*1024-1];
    initial begin  // memory image only; no logic state is initialised here
        if (TABLE_FILE != "") $readmemh(TABLE_FILE, rom);
    end

    /* verilator lint_off UNUSEDSIGNAL */  // table bits above ROM_AW (TBL_W > log2 N_TABLES)
    wire [TBL_W+9:0] addr_a = {table_i, i};
    wire [TBL_W+9:0] addr_b = {table_i, i + 10'd1};  // i = 1023 wraps inside table t
    /* verilator lint_on UNUSEDSIGNAL */

    // ---- stage 1: both block RAM ports, the table index and the last-segment flag -----------
    reg [15:0] qa, qb;
    reg [TBL_W-1:0] t1;
    reg last1;
    always_ff @(posedge clk) begin
        qa <= rom[addr_a[ROM_AW-1:0]];
        qb <= rom[addr_b[ROM_AW-1:0]];
    end
    always_ff @(posedge clk) begin
        t1 <= table_i;
        last1 <= &i;
    end

    // ---- stage 2: output register; high is TABLE_ENDS[t] on segment 1023 ----------------------
    reg [15:0] end1;
    integer k;
    always @* begin
        end1 = 16'd0;
        for (k = 0; k < N_TABLES; k = k + 1)
            if (t1 == k[TBL_W-1:0]) end1 = TABLE_ENDS[16*k +: 16];
    end
    always_ff @(posedge clk) begin
        low <= qa;
        high <= last1 ? end1 : qb;
    end
endmodule
`default_nettype wire
