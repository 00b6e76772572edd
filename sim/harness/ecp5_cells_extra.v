// Simulation models for the two ECP5 cells that Yosys' own library leaves as black boxes:
// DP16KD (sysMEM block RAM) and MULT18X18D (sysDSP 18x18 multiplier). Yosys (0.70 here) ships
// share/ecp5/cells_sim.v with models for LUT4, CCU2C, PFUMX, L6MUX21, TRELLIS_FF,
// TRELLIS_DPR16X4 and friends, but DP16KD is `(* blackbox *)` there and MULT18X18D exists only
// in cells_bb.v. wavecomp/fpga/netlist_check.py simulates the synth_ecp5 netlist with Yosys'
// models plus these two (each is switched off by +define+WC_YOSYS_HAS_<CELL> when the Yosys in
// use models it itself).
//
// They are wavecomp's, not the vendor's: written from the cells' documented behaviour (Lattice's
// ECP5 memory and sysDSP usage guides) and from how Yosys' techmap files (brams_map_16kd.v,
// dsp_map_18x18.v) drive them. They model only what synth_ecp5 instantiates; any other
// configuration stops the simulation with $fatal instead of being modelled by a guess. The
// INITVAL row layout and the 36-bit word layout below are the conventions Yosys writes (and
// nextpnr packs into the bitstream), so this check cannot catch an error in those two.
//
// DP16KD: 1024 x 18 bit array; INITVAL_xx holds rows 16*xx .. 16*xx+15, row j of it at bits
//   [20*j +: 18] (18 data bits in a 20-bit slot).
//   - DATA_WIDTH 18 on a port: row = AD[13:4]; a write stores DI[8:0] if AD[0] and DI[17:9]
//     if AD[1] (the byte enables); WRITEMODE NORMAL keeps DO, WRITETHROUGH shows the new row,
//     READBEFOREWRITE the old one.
//   - DATA_WIDTH w = 9, 4, 2 or 1 on a port (either port, any mix with 18): the word at
//     AD[13:lsb] (lsb = 3, 2, 1, 0) is bits [9*h + p*w +: w] of row AD[13:4], h = AD[3] (the
//     row's two 9-bit halves), p = AD[2:lsb] (none for 9): a narrower word never uses a half's
//     bit 8. It reads and writes on DO/DI[w-1:0] (the other DO bits read 0), the write modes as
//     for 18. (Yosys' x9/x4/x2/x1 INIT layout, checked against its own netlists in every width
//     mode, mixed widths and write modes included: tests/test_cell_models.py.)
//   - DATA_WIDTH_A = DATA_WIDTH_B = 36 (Yosys' pseudo-dual-port PDPW16KD shape) as a ROM only:
//     port B reads the 36-bit word w = AD[13:5] = {row 2w+1, row 2w}: DOA = row 2w, DOB = row
//     2w+1; a write through either port stops the simulation.
//   - NOREG outputs (the data register is the RAM's own: DO changes at the clock edge when CE);
//     OCE matters only with output registers and is ignored; RST must stay low, the chip
//     selects must equal CSDECODE (0b000), both clock muxes must be plain, both ports must run
//     on one clock.
//   - The bits the other port writes in the same clock read as random data (in flux: the
//     hardware does not define them), so a design that relies on them mismatches; the row's
//     other bits read normally, as Yosys' read-old emulation assumes (it forwards only the
//     written bits of a word written the clock before);
//     both ports writing one bit at once stops the simulation.
//   - The output registers have no initial value (random with +verilator+rand+reset+2).
// MULT18X18D: combinational only (every REG_*_CLK "NONE"), P = A x B as 36 bits with each
//   operand signed when its SIGNEDx pin is high; SOURCEA/SOURCEB (shift chains) must be low;
//   the C input and the cascade outputs are not modelled (SROA, SROB, ROA, ROB, ROC read 0).
//   SIGNEDP = SIGNEDA | SIGNEDB.
`default_nettype none

`ifndef WC_YOSYS_HAS_DP16KD
module DP16KD (
    input  wire DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
    input  wire ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
    input  wire CEA, OCEA, CLKA, WEA, RSTA,
    input  wire CSA2, CSA1, CSA0,
    output wire DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
    input  wire DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input  wire ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input  wire CEB, OCEB, CLKB, WEB, RSTB,
    input  wire CSB2, CSB1, CSB0,
    output wire DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
    parameter DATA_WIDTH_A = 18;
    parameter DATA_WIDTH_B = 18;
    parameter REGMODE_A = "NOREG";
    parameter REGMODE_B = "NOREG";
    parameter RESETMODE = "SYNC";
    parameter ASYNC_RESET_RELEASE = "SYNC";
    parameter CSDECODE_A = "0b000";
    parameter CSDECODE_B = "0b000";
    parameter WRITEMODE_A = "NORMAL";
    parameter WRITEMODE_B = "NORMAL";
    parameter CLKAMUX = "CLKA";
    parameter CLKBMUX = "CLKB";
    parameter GSR = "ENABLED";
    parameter WID = 0;
    parameter INIT_DATA = "STATIC";
    parameter [319:0] INITVAL_00 = 320'h0;
    parameter [319:0] INITVAL_01 = 320'h0;
    parameter [319:0] INITVAL_02 = 320'h0;
    parameter [319:0] INITVAL_03 = 320'h0;
    parameter [319:0] INITVAL_04 = 320'h0;
    parameter [319:0] INITVAL_05 = 320'h0;
    parameter [319:0] INITVAL_06 = 320'h0;
    parameter [319:0] INITVAL_07 = 320'h0;
    parameter [319:0] INITVAL_08 = 320'h0;
    parameter [319:0] INITVAL_09 = 320'h0;
    parameter [319:0] INITVAL_0A = 320'h0;
    parameter [319:0] INITVAL_0B = 320'h0;
    parameter [319:0] INITVAL_0C = 320'h0;
    parameter [319:0] INITVAL_0D = 320'h0;
    parameter [319:0] INITVAL_0E = 320'h0;
    parameter [319:0] INITVAL_0F = 320'h0;
    parameter [319:0] INITVAL_10 = 320'h0;
    parameter [319:0] INITVAL_11 = 320'h0;
    parameter [319:0] INITVAL_12 = 320'h0;
    parameter [319:0] INITVAL_13 = 320'h0;
    parameter [319:0] INITVAL_14 = 320'h0;
    parameter [319:0] INITVAL_15 = 320'h0;
    parameter [319:0] INITVAL_16 = 320'h0;
    parameter [319:0] INITVAL_17 = 320'h0;
    parameter [319:0] INITVAL_18 = 320'h0;
    parameter [319:0] INITVAL_19 = 320'h0;
    parameter [319:0] INITVAL_1A = 320'h0;
    parameter [319:0] INITVAL_1B = 320'h0;
    parameter [319:0] INITVAL_1C = 320'h0;
    parameter [319:0] INITVAL_1D = 320'h0;
    parameter [319:0] INITVAL_1E = 320'h0;
    parameter [319:0] INITVAL_1F = 320'h0;
    parameter [319:0] INITVAL_20 = 320'h0;
    parameter [319:0] INITVAL_21 = 320'h0;
    parameter [319:0] INITVAL_22 = 320'h0;
    parameter [319:0] INITVAL_23 = 320'h0;
    parameter [319:0] INITVAL_24 = 320'h0;
    parameter [319:0] INITVAL_25 = 320'h0;
    parameter [319:0] INITVAL_26 = 320'h0;
    parameter [319:0] INITVAL_27 = 320'h0;
    parameter [319:0] INITVAL_28 = 320'h0;
    parameter [319:0] INITVAL_29 = 320'h0;
    parameter [319:0] INITVAL_2A = 320'h0;
    parameter [319:0] INITVAL_2B = 320'h0;
    parameter [319:0] INITVAL_2C = 320'h0;
    parameter [319:0] INITVAL_2D = 320'h0;
    parameter [319:0] INITVAL_2E = 320'h0;
    parameter [319:0] INITVAL_2F = 320'h0;
    parameter [319:0] INITVAL_30 = 320'h0;
    parameter [319:0] INITVAL_31 = 320'h0;
    parameter [319:0] INITVAL_32 = 320'h0;
    parameter [319:0] INITVAL_33 = 320'h0;
    parameter [319:0] INITVAL_34 = 320'h0;
    parameter [319:0] INITVAL_35 = 320'h0;
    parameter [319:0] INITVAL_36 = 320'h0;
    parameter [319:0] INITVAL_37 = 320'h0;
    parameter [319:0] INITVAL_38 = 320'h0;
    parameter [319:0] INITVAL_39 = 320'h0;
    parameter [319:0] INITVAL_3A = 320'h0;
    parameter [319:0] INITVAL_3B = 320'h0;
    parameter [319:0] INITVAL_3C = 320'h0;
    parameter [319:0] INITVAL_3D = 320'h0;
    parameter [319:0] INITVAL_3E = 320'h0;
    parameter [319:0] INITVAL_3F = 320'h0;

    localparam WIDE = (DATA_WIDTH_A == 36);

    wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
    wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
    wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
    wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};
    reg [17:0] doa, dob;
    assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;

    reg [17:0] mem[0:1023];

    task automatic load(input [5:0] block, input [319:0] value);
        integer j;
        for (j = 0; j < 16; j = j + 1) mem[{block, 4'b0} + j] = value[20*j+:18];
    endtask

    function automatic good_writemode(input [8*15-1:0] mode);
        good_writemode = mode == "NORMAL" || mode == "WRITETHROUGH" || mode == "READBEFOREWRITE";
    endfunction

    initial begin
        if (!((row_mode_width(DATA_WIDTH_A) && row_mode_width(DATA_WIDTH_B)) || (DATA_WIDTH_A == 36 && DATA_WIDTH_B == 36)))
            $fatal(1, "DP16KD %m: DATA_WIDTH_A=%0d DATA_WIDTH_B=%0d is not modelled", DATA_WIDTH_A,
                   DATA_WIDTH_B);
        if (REGMODE_A != "NOREG" || REGMODE_B != "NOREG")
            $fatal(1, "DP16KD %m: output registers (REGMODE OUTREG) are not modelled");
        if (CSDECODE_A != "0b000" || CSDECODE_B != "0b000")
            $fatal(1, "DP16KD %m: CSDECODE other than 0b000 is not modelled");
        if (CLKAMUX != "CLKA" || CLKBMUX != "CLKB")
            $fatal(1, "DP16KD %m: inverted or constant clocks are not modelled");
        if (!good_writemode(WRITEMODE_A) || !good_writemode(WRITEMODE_B))
            $fatal(1, "DP16KD %m: unknown WRITEMODE");
    load(6'h00, INITVAL_00);
    load(6'h01, INITVAL_01);
    load(6'h02, INITVAL_02);
    load(6'h03, INITVAL_03);
    load(6'h04, INITVAL_04);
    load(6'h05, INITVAL_05);
    load(6'h06, INITVAL_06);
    load(6'h07, INITVAL_07);
    load(6'h08, INITVAL_08);
    load(6'h09, INITVAL_09);
    load(6'h0A, INITVAL_0A);
    load(6'h0B, INITVAL_0B);
    load(6'h0C, INITVAL_0C);
    load(6'h0D, INITVAL_0D);
    load(6'h0E, INITVAL_0E);
    load(6'h0F, INITVAL_0F);
    load(6'h10, INITVAL_10);
    load(6'h11, INITVAL_11);
    load(6'h12, INITVAL_12);
    load(6'h13, INITVAL_13);
    load(6'h14, INITVAL_14);
    load(6'h15, INITVAL_15);
    load(6'h16, INITVAL_16);
    load(6'h17, INITVAL_17);
    load(6'h18, INITVAL_18);
    load(6'h19, INITVAL_19);
    load(6'h1A, INITVAL_1A);
    load(6'h1B, INITVAL_1B);
    load(6'h1C, INITVAL_1C);
    load(6'h1D, INITVAL_1D);
    load(6'h1E, INITVAL_1E);
    load(6'h1F, INITVAL_1F);
    load(6'h20, INITVAL_20);
    load(6'h21, INITVAL_21);
    load(6'h22, INITVAL_22);
    load(6'h23, INITVAL_23);
    load(6'h24, INITVAL_24);
    load(6'h25, INITVAL_25);
    load(6'h26, INITVAL_26);
    load(6'h27, INITVAL_27);
    load(6'h28, INITVAL_28);
    load(6'h29, INITVAL_29);
    load(6'h2A, INITVAL_2A);
    load(6'h2B, INITVAL_2B);
    load(6'h2C, INITVAL_2C);
    load(6'h2D, INITVAL_2D);
    load(6'h2E, INITVAL_2E);
    load(6'h2F, INITVAL_2F);
    load(6'h30, INITVAL_30);
    load(6'h31, INITVAL_31);
    load(6'h32, INITVAL_32);
    load(6'h33, INITVAL_33);
    load(6'h34, INITVAL_34);
    load(6'h35, INITVAL_35);
    load(6'h36, INITVAL_36);
    load(6'h37, INITVAL_37);
    load(6'h38, INITVAL_38);
    load(6'h39, INITVAL_39);
    load(6'h3A, INITVAL_3A);
    load(6'h3B, INITVAL_3B);
    load(6'h3C, INITVAL_3C);
    load(6'h3D, INITVAL_3D);
    load(6'h3E, INITVAL_3E);
    load(6'h3F, INITVAL_3F);
    end

    // the widths of the row modes (x18 and narrower; x36 is the other mode)
    function automatic row_mode_width(input integer width);
        row_mode_width = width == 18 || width == 9 || width == 4 || width == 2 || width == 1;
    endfunction

    // a port's word in its row (see the header): bits [offset +: width]
    function automatic integer offset(input integer width, input [13:0] ad);
        integer lsb;
        lsb = width == 9 ? 3 : width == 4 ? 2 : width == 2 ? 1 : 0;
        offset = width == 18 ? 0 : 9 * ad[3] + (width == 9 ? 0 : (ad[2:0] >> lsb) * width);
    endfunction

    function automatic [17:0] word_mask(input integer width);
        word_mask = width == 18 ? 18'h3ffff : (18'h1 << width) - 18'h1;
    endfunction

    // a written row: x18, DI's bytes where the byte enables (AD[1:0]) are set; narrower, the
    // addressed word replaced by DI[w-1:0]
    function automatic [17:0] merged(input integer width, input [17:0] old, input [17:0] di,
                                     input [13:0] ad);
        if (width == 18) merged = {ad[1] ? di[17:9] : old[17:9], ad[0] ? di[8:0] : old[8:0]};
        else merged = (old & ~(word_mask(width) << offset(width, ad)))
                      | ((di & word_mask(width)) << offset(width, ad));
    endfunction

    // the bits of a row a write covers
    function automatic [17:0] written(input integer width, input [13:0] ad);
        written = merged(width, 18'h0, 18'h3ffff, ad);
    endfunction

    // what a port reads of a row
    function automatic [17:0] word(input integer width, input [17:0] row, input [13:0] ad);
        word = (row >> offset(width, ad)) & word_mask(width);
    endfunction

    wire [9:0] row_a = ada[13:4];
    wire [9:0] row_b = adb[13:4];
    wire [8:0] word_b = adb[13:5];
    wire write_a = CEA && WEA;
    wire write_b = CEB && WEB;

    // checks common to both modes
    always @(posedge CLKA) begin
        if (RSTA) $fatal(1, "DP16KD %m: RSTA high (output reset is not modelled)");
        if (CEA && {CSA2, CSA1, CSA0} != 3'b000)
            $fatal(1, "DP16KD %m: port A deselected by CSA (not modelled)");
        if (CEA && CEB && !CLKB) $fatal(1, "DP16KD %m: ports on different clocks (not modelled)");
    end
    always @(posedge CLKB) begin
        if (RSTB) $fatal(1, "DP16KD %m: RSTB high (output reset is not modelled)");
        if (CEB && {CSB2, CSB1, CSB0} != 3'b000)
            $fatal(1, "DP16KD %m: port B deselected by CSB (not modelled)");
        if (CEA && CEB && !CLKA) $fatal(1, "DP16KD %m: ports on different clocks (not modelled)");
    end

    generate
        if (WIDE) begin : g_x36
            // pseudo dual port, read-only: port B reads {row 2w+1, row 2w}
            always @(posedge CLKA)
                if (write_a) $fatal(1, "DP16KD %m: writes in the 36-bit mode are not modelled");
            always @(posedge CLKB) begin
                if (write_b) $fatal(1, "DP16KD %m: port B writes in the 36-bit mode");
                if (CEB) begin
                    doa <= mem[{word_b, 1'b0}];
                    dob <= mem[{word_b, 1'b1}];
                end
            end
        end else begin : g_rows
            always @(posedge CLKA) begin
                if (write_a && write_b && row_a == row_b
                    && |(written(DATA_WIDTH_A, ada) & written(DATA_WIDTH_B, adb)))
                    $fatal(1, "DP16KD %m: both ports write bits of row %0d at once", row_a);
                if (write_a) begin
                    mem[row_a] <= merged(DATA_WIDTH_A, mem[row_a], dia, ada);
                    if (WRITEMODE_A == "WRITETHROUGH")
                        doa <= word(DATA_WIDTH_A, merged(DATA_WIDTH_A, mem[row_a], dia, ada), ada);
                    else if (WRITEMODE_A == "READBEFOREWRITE")
                        doa <= word(DATA_WIDTH_A, mem[row_a], ada);
                end else if (CEA) begin
                    // the bits port B writes in this clock are undefined
                    doa <= word(DATA_WIDTH_A, mem[row_a] ^ (write_b && row_a == row_b
                                ? 18'($random) & written(DATA_WIDTH_B, adb) : 18'h0), ada);
                end
            end
            always @(posedge CLKB) begin
                if (write_b) begin
                    mem[row_b] <= merged(DATA_WIDTH_B, mem[row_b], dib, adb);
                    if (WRITEMODE_B == "WRITETHROUGH")
                        dob <= word(DATA_WIDTH_B, merged(DATA_WIDTH_B, mem[row_b], dib, adb), adb);
                    else if (WRITEMODE_B == "READBEFOREWRITE")
                        dob <= word(DATA_WIDTH_B, mem[row_b], adb);
                end else if (CEB) begin
                    dob <= word(DATA_WIDTH_B, mem[row_b] ^ (write_a && row_a == row_b
                                ? 18'($random) & written(DATA_WIDTH_A, ada) : 18'h0), adb);
                end
            end
        end
    endgenerate
endmodule
`endif

`ifndef WC_YOSYS_HAS_MULT18X18D
module MULT18X18D (
    input  wire A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0,
    input  wire B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0,
    input  wire C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0,
    input  wire SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
    input  wire CLK3, CLK2, CLK1, CLK0, CE3, CE2, CE1, CE0, RST3, RST2, RST1, RST0,
    input  wire SRIA17, SRIA16, SRIA15, SRIA14, SRIA13, SRIA12, SRIA11, SRIA10, SRIA9, SRIA8, SRIA7, SRIA6, SRIA5, SRIA4, SRIA3, SRIA2, SRIA1, SRIA0,
    input  wire SRIB17, SRIB16, SRIB15, SRIB14, SRIB13, SRIB12, SRIB11, SRIB10, SRIB9, SRIB8, SRIB7, SRIB6, SRIB5, SRIB4, SRIB3, SRIB2, SRIB1, SRIB0,
    output wire SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6, SROA5, SROA4, SROA3, SROA2, SROA1, SROA0,
    output wire SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6, SROB5, SROB4, SROB3, SROB2, SROB1, SROB0,
    output wire ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4, ROA3, ROA2, ROA1, ROA0,
    output wire ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4, ROB3, ROB2, ROB1, ROB0,
    output wire ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4, ROC3, ROC2, ROC1, ROC0,
    output wire P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0,
    output wire SIGNEDP
);
    parameter REG_INPUTA_CLK = "NONE";
    parameter REG_INPUTA_CE = "CE0";
    parameter REG_INPUTA_RST = "RST0";
    parameter REG_INPUTB_CLK = "NONE";
    parameter REG_INPUTB_CE = "CE0";
    parameter REG_INPUTB_RST = "RST0";
    parameter REG_INPUTC_CLK = "NONE";
    parameter REG_INPUTC_CE = "CE0";
    parameter REG_INPUTC_RST = "RST0";
    parameter REG_PIPELINE_CLK = "NONE";
    parameter REG_PIPELINE_CE = "CE0";
    parameter REG_PIPELINE_RST = "RST0";
    parameter REG_OUTPUT_CLK = "NONE";
    parameter REG_OUTPUT_CE = "CE0";
    parameter REG_OUTPUT_RST = "RST0";
    parameter CLK0_DIV = "ENABLED";
    parameter CLK1_DIV = "ENABLED";
    parameter CLK2_DIV = "ENABLED";
    parameter CLK3_DIV = "ENABLED";
    parameter HIGHSPEED_CLK = "NONE";
    parameter GSR = "ENABLED";
    parameter CAS_MATCH_REG = "FALSE";
    parameter SOURCEB_MODE = "B_SHIFT";
    parameter MULT_BYPASS = "DISABLED";
    parameter RESETMODE = "SYNC";

    initial begin
        if (REG_INPUTA_CLK != "NONE" || REG_INPUTB_CLK != "NONE" || REG_INPUTC_CLK != "NONE"
            || REG_PIPELINE_CLK != "NONE" || REG_OUTPUT_CLK != "NONE")
            $fatal(1, "MULT18X18D %m: registered inputs/pipeline/output are not modelled");
        if (MULT_BYPASS != "DISABLED") $fatal(1, "MULT18X18D %m: MULT_BYPASS is not modelled");
    end

    wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
    wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
    // each operand extended to 19 bits by its sign pin, then a signed 36-bit product
    wire signed [18:0] a_x = {SIGNEDA & a[17], a};
    wire signed [18:0] b_x = {SIGNEDB & b[17], b};
    wire signed [37:0] product = a_x * b_x;
    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = product[35:0];
    assign SIGNEDP = SIGNEDA | SIGNEDB;
    assign {SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6, SROA5, SROA4, SROA3, SROA2, SROA1, SROA0} = 18'd0;
    assign {SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6, SROB5, SROB4, SROB3, SROB2, SROB1, SROB0} = 18'd0;
    assign {ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4, ROA3, ROA2, ROA1, ROA0} = 18'd0;
    assign {ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4, ROB3, ROB2, ROB1, ROB0} = 18'd0;
    assign {ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4, ROC3, ROC2, ROC1, ROC0} = 18'd0;

    always @* begin
        if (SOURCEA || SOURCEB) $fatal(1, "MULT18X18D %m: shift-chain sources are not modelled");
    end
endmodule
`endif

`default_nettype wire
