// Memories of the effc accelerator.
//   effc_wmem  - weights, per-channel parameters and descriptors: one port, WW bits a word,
//                written a byte at a time or more (byte enables be).
//                Simulation: an array loaded with $readmemh from +weights=FILE.
//                iCE40 (EFFC_ICE40_SPRAM): SB_SPRAM256KA blocks side by side (16 bits each),
//                which hold no bitstream contents: the UART loader fills them.
//   effc_abank - one byte-wide activation bank: one write port, one read port (EBR/BRAM).
`default_nettype none
module effc_wmem #(parameter WW = 64, parameter WAW = 14, parameter WDEPTH = 1 << WAW) (
    input  wire           clk,
    input  wire           we,
    input  wire [WW/8-1:0] be,
    input  wire [WAW-1:0] addr,
    input  wire [WW-1:0]  wdata,
    output wire [WW-1:0]  rdata
);
`ifdef EFFC_ICE40_SPRAM
    genvar k;
    generate
        for (k = 0; k < WW / 16; k = k + 1) begin : spram
            SB_SPRAM256KA ram (
                .ADDRESS(addr[13:0]), .DATAIN(wdata[16*k+15:16*k]),
                .MASKWREN({be[2*k+1], be[2*k+1], be[2*k], be[2*k]}),
                .WREN(we && (be[2*k] || be[2*k+1])), .CHIPSELECT(1'b1), .CLOCK(clk),
                .STANDBY(1'b0), .SLEEP(1'b0), .POWEROFF(1'b1),
                .DATAOUT(rdata[16*k+15:16*k]));
        end
    endgenerate
`else
    reg [WW-1:0] mem [0:WDEPTH - 1];
    reg [WW-1:0] q;
    integer j;
    assign rdata = q;
    always @(posedge clk) begin
        for (j = 0; j < WW / 8; j = j + 1)
            if (we && be[j]) mem[addr][8*j +: 8] <= wdata[8*j +: 8];
        q <= mem[addr];
    end
`ifndef SYNTHESIS
    reg [8*512-1:0] file;
    initial begin
        if ($value$plusargs("weights=%s", file)) $readmemh(file, mem);
    end
`endif
`endif
endmodule

module effc_abank #(parameter DEPTH = 1024, parameter BAW = 10) (
    input  wire           clk,
    input  wire           we,
    input  wire [BAW-1:0] waddr,
    input  wire [7:0]     wdata,
    input  wire [BAW-1:0] raddr,
    output reg  [7:0]     rdata
);
    // A read of the byte being written in the same cycle is never used (the compiler's
    // overlap rule keeps every output below the bytes still to be read), so the block RAM
    // needs no collision logic. Simulation returns a corrupted byte on a collision, so
    // that a design relying on one fails the bit-exact tests.
    (* no_rw_check *)
    reg [7:0] mem [0:DEPTH-1];
    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
`ifdef SYNTHESIS
        rdata <= mem[raddr];
`else
        rdata <= (we && waddr == raddr) ? ~mem[raddr] : mem[raddr];
`endif
    end
endmodule
`default_nettype wire
