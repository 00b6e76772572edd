`default_nettype none
// wc_act_cache — one layer's activation cache: a ring of 2**COL_W columns, each column WORDS
// words, each word one 16-bit value per bank (bank b holds channels c with c % BANKS == b).
//
// wp is the column of the newest committed sample; count the number of real columns since
// reset (saturating at SPAN). Writes go to the pending column wp+1 in the banks selected by
// wbank_en; each bank has its own word index (bank b: wword lane b, [WORD_W*b +: WORD_W]), so
// one clock can write consecutive channels that straddle two words (channel c is bank
// c % BANKS, word c / BANKS). commit makes the pending column the newest one. A read issued in
// cycle c (re) of column wp-rlag, word rword, shows on rdata in cycle c+2; if rlag >= count at
// issue time rdata is all zeros (taps before time 0 read 0, no memory clearing — also after a
// mid-run rst). All inputs use the state before the clock edge (a read in a commit cycle sees
// the old wp). A read and a write of the same address in the same cycle return the old data
// (read-before-write; see the RAM below). The top never writes in a commit cycle. rst clears
// wp and count only. rdata holds when no read completes.
//
// Memory address = column * WORDS + word (for writes: that bank's word); one 16-bit RAM per bank
// (block or distributed RAM).
// Pipeline: stage 1 = RAM read register, stage 2 = zeroing + output register.
module wc_act_cache #(
    parameter BANKS = 1,   // banks (G)
    parameter WORDS = 1,   // words per column, power of two
    parameter WORD_W = 1,  // width of rword / of each wword lane (low log2(WORDS) bits used)
    parameter COL_W = 1,   // columns = 2**COL_W (>= SPAN)
    parameter SPAN = 1,    // (K-1)*d+1 of the layer reading this cache
    parameter LAG_W = 1    // width of rlag
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    commit,
    input  wire                    we,
    input  wire [       BANKS-1:0] wbank_en,
    input  wire [BANKS*WORD_W-1:0] wword,  // bank b's word index at [WORD_W*b +: WORD_W]
    input  wire [    BANKS*16-1:0] wdata,
    input  wire                    re,
    input  wire [       LAG_W-1:0] rlag,
    input  wire [      WORD_W-1:0] rword,
    output reg  [    BANKS*16-1:0] rdata,
    output wire                    has_data
);
  localparam WB = $clog2(WORDS);  // word-index bits used
  localparam AW = COL_W + WB;  // RAM address bits
  localparam DEPTH = (1 << COL_W) * WORDS;
  localparam CNT_W = $clog2(SPAN + 1);
  localparam CMP_W0 = (LAG_W > CNT_W) ? LAG_W : CNT_W;
  localparam CMP_W = (CMP_W0 > COL_W) ? CMP_W0 : COL_W;
  localparam [COL_W-1:0] COL_ONE = 1;
  localparam [CNT_W-1:0] CNT_ONE = 1;
  localparam [CNT_W-1:0] CNT_SPAN = SPAN[CNT_W-1:0];

  reg [COL_W-1:0] wp;  // newest committed column
  reg [CNT_W-1:0] count;  // real columns since reset, saturating at SPAN

  always @(posedge clk) begin
    if (rst) begin
      wp <= '0;
      count <= '0;
    end else if (commit) begin
      wp <= wp + COL_ONE;
      if (count != CNT_SPAN) count <= count + CNT_ONE;
    end
  end

  assign has_data = (count != '0);

  // rlag and count zero-extended to a common width for the compare and the column arithmetic
  reg [CMP_W-1:0] lag_x;
  reg [CMP_W-1:0] count_x;
  always @* begin
    lag_x = '0;
    lag_x[LAG_W-1:0] = rlag;
    count_x = '0;
    count_x[CNT_W-1:0] = count;
  end

  wire [COL_W-1:0] wcol = wp + COL_ONE;  // pending column
  wire [COL_W-1:0] rcol = wp - lag_x[COL_W-1:0];

  // read address (shared by all banks); each bank's write address is built in g_bank
  wire [AW-1:0] raddr;
  generate
    if (WB == 0) begin : g_addr_col
      assign raddr = rcol;
    end else begin : g_addr_word
      assign raddr = {rcol, rword[WB-1:0]};
    end
  endgenerate
  // word-index bits above log2(WORDS) (in every wword lane and in rword) are ignored by
  // definition
  wire unused_word_bits = &{1'b0, wword, rword};

  // stage 1: RAM read register per bank, plus the zero flag and read-valid
  reg re_d1;
  reg zero_d1;
  always @(posedge clk) begin
    re_d1 <= re;
    if (re) zero_d1 <= (lag_x >= count_x);
  end

  // Same-cycle read and write of one address: the read returns the old data. Such a collision
  // can only hit the pending column, i.e. rlag == 2**COL_W-1 (mod 2**COL_W). When SPAN <
  // 2**COL_W that lag is always >= count, so the read is zeroed anyway and the RAM may return
  // anything: no_rw_check lets Yosys map it to a plain DP16KD. When SPAN == 2**COL_W (the
  // pending column aliases the oldest one) the old data matters and Yosys adds its read-first
  // emulation (a delayed write plus a bypass, ~37 FFs per bank).
  wire [BANKS*16-1:0] q_all;
  genvar b;
  generate
    for (b = 0; b < BANKS; b = b + 1) begin : g_bank
      reg [15:0] q;
      wire [AW-1:0] waddr;  // {pending column, wword lane b}
      if (WB == 0) begin : g_waddr_col
        assign waddr = wcol;
      end else begin : g_waddr_word
        assign waddr = {wcol, wword[WORD_W*b+:WB]};
      end
      if (SPAN < (1 << COL_W)) begin : g_ram
        (* no_rw_check *)
        reg [15:0] mem[0:DEPTH-1];
        always @(posedge clk) begin
          if (we && wbank_en[b]) mem[waddr] <= wdata[16*b+:16];
          if (re) q <= mem[raddr];
        end
      end else begin : g_ram_alias
        reg [15:0] mem[0:DEPTH-1];
        always @(posedge clk) begin
          if (we && wbank_en[b]) mem[waddr] <= wdata[16*b+:16];
          if (re) q <= mem[raddr];
        end
      end
      assign q_all[16*b+:16] = q;
    end
  endgenerate

  // stage 2: zeroing + output register (keeps the RAM output off the critical path)
  always @(posedge clk) begin
    if (re_d1) rdata <= zero_d1 ? '0 : q_all;
  end
endmodule
`default_nettype wire
