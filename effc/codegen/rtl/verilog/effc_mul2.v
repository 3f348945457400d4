// effc_mul2: two signed int8 x int8 products, operands and products registered (two
// cycles). On iCE40 (EFFC_ICE40) one SB_MAC16 in its dual 8x8 mode: A = {xb, xa},
// B = {wb, wa}, the top half's product on O[31:16], the bottom's on O[15:0] (checked
// against yosys' SB_MAC16 simulation model on every operand pair, tests/test_rtl.py).
`default_nettype none
module effc_mul2 (
    input  wire        clk,
    input  wire [7:0]  xa, wa, xb, wb,
    output wire [15:0] pa, pb
);
`ifdef EFFC_ICE40
    wire [31:0] o;
    SB_MAC16 #(.A_REG(1'b1), .B_REG(1'b1), .TOP_8x8_MULT_REG(1'b1), .BOT_8x8_MULT_REG(1'b1),
               .TOPOUTPUT_SELECT(2'b10), .BOTOUTPUT_SELECT(2'b10), .MODE_8x8(1'b1),
               .A_SIGNED(1'b1), .B_SIGNED(1'b1)) mac (
        .CLK(clk), .CE(1'b1), .A({xb, xa}), .B({wb, wa}), .C(16'd0), .D(16'd0),
        .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0), .IRSTTOP(1'b0),
        .IRSTBOT(1'b0), .ORSTTOP(1'b0), .ORSTBOT(1'b0), .OLOADTOP(1'b0), .OLOADBOT(1'b0),
        .ADDSUBTOP(1'b0), .ADDSUBBOT(1'b0), .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0),
        .ACCUMCI(1'b0), .SIGNEXTIN(1'b0), .O(o), .CO(), .ACCUMCO(), .SIGNEXTOUT());
    assign pa = o[15:0];
    assign pb = o[31:16];
`else
    reg [7:0] xa_q, wa_q, xb_q, wb_q;
    reg signed [15:0] pa_q, pb_q;
    always @(posedge clk) begin
        xa_q <= xa; wa_q <= wa; xb_q <= xb; wb_q <= wb;
        pa_q <= $signed({{8{xa_q[7]}}, xa_q}) * $signed({{8{wa_q[7]}}, wa_q});
        pb_q <= $signed({{8{xb_q[7]}}, xb_q}) * $signed({{8{wb_q[7]}}, wb_q});
    end
    assign pa = pa_q;
    assign pb = pb_q;
`endif
endmodule
`default_nettype wire
