`default_nettype none
// wc_group_queue: one waiting slot between the MAC array and wc_drain, so a short group may
// finish while the drain still serialises the previous one (a narrow group drains one channel
// per clock; the group after it may be shorter than that).
// A group (in_valid, in_data: accumulators and the group's drain fields) goes straight through
// (out_load = in_valid, out_data = in_data, same cycle) when the slot is empty and the drain
// can take a load this cycle (drain_busy = 0: wc_drain accepts a load in its last beat). Else
// it waits in the slot; a waiting group is loaded (out_load = 1, out_data = the slot) in the
// first cycle with drain_busy = 0, and a group arriving in that same cycle takes the slot.
// A group arriving while the slot is full and the drain busy is lost and sets the sticky
// `overflow` (cleared only by rst; the compiler's schedule never does this). rst empties the
// slot.
module wc_group_queue #(
    parameter WIDTH = 1
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             in_valid,
    input  wire [WIDTH-1:0] in_data,
    input  wire             drain_busy,
    output wire             out_load,
    output wire [WIDTH-1:0] out_data,
    output reg              overflow
);
    reg             waiting;
    reg [WIDTH-1:0] slot;

    wire from_slot = waiting && !drain_busy;
    assign out_load = from_slot || (in_valid && !waiting && !drain_busy);
    assign out_data = waiting ? slot : in_data;

    // an arriving group waits unless it went straight to the drain (or is lost: full and busy)
    wire capture = in_valid && (waiting ? !drain_busy : drain_busy);

    always_ff @(posedge clk) begin
        if (capture) slot <= in_data;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            waiting <= 1'b0;
            overflow <= 1'b0;
        end else begin
            if (in_valid && waiting && drain_busy) overflow <= 1'b1;
            if (capture) waiting <= 1'b1;
            else if (from_slot) waiting <= 1'b0;
        end
    end
endmodule
`default_nettype wire
