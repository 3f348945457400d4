// Icarus testbench of effc_accel: the same protocol as tb_verilator.cpp.
// vvp tb.vvp +weights=W.hex +input=IN.hex +output=OUT.hex +n=N +in_addr=A +in_size=S
//            +out_addr=B +out_size=T      (IN.hex / OUT.hex: one byte a line)
`timescale 1ns/1ps
module tb;
    reg clk = 0, rst = 1, start = 0;
    reg host_a_we = 0;
    reg [15:0] host_a_addr = 0;
    reg [7:0] host_a_data = 0;
    wire busy, error;
    wire [7:0] desc_index, host_a_rdata;
    effc_accel dut (
        .clk(clk), .rst(rst), .start(start), .busy(busy), .desc_index(desc_index),
        .error(error), .host_w_we(1'b0), .host_w_be(8'd0), .host_w_addr(16'd0), .host_w_data(64'd0),
        .host_a_we(host_a_we), .host_a_addr(host_a_addr), .host_a_data(host_a_data),
        .host_a_rdata(host_a_rdata));
    reg [8*512-1:0] fin, fout;
    integer n, in_addr, in_size, out_addr, out_size, s, i, fd, cyc, t0, tdesc, desc;
    reg [7:0] inbuf [0:(1 << 22) - 1];
    task tick; begin #5 clk = 1; #5 clk = 0; cyc = cyc + 1; end endtask
    initial begin
        cyc = 0;
        if (!$value$plusargs("input=%s", fin) || !$value$plusargs("output=%s", fout) ||
            !$value$plusargs("n=%d", n) || !$value$plusargs("in_addr=%d", in_addr) ||
            !$value$plusargs("in_size=%d", in_size) || !$value$plusargs("out_addr=%d", out_addr) ||
            !$value$plusargs("out_size=%d", out_size)) begin
            $display("ERROR: missing plusargs"); $finish;
        end
        $readmemh(fin, inbuf);
        fd = $fopen(fout, "w");
        tick; tick; rst = 0;
        for (s = 0; s < n; s = s + 1) begin
            for (i = 0; i < in_size; i = i + 1) begin
                host_a_we = 1; host_a_addr = in_addr + i; host_a_data = inbuf[s * in_size + i];
                tick;
            end
            host_a_we = 0; start = 1; tick; start = 0;
            t0 = cyc; tdesc = cyc; desc = 0;
            while (busy) begin
                tick;
                if (desc_index != desc || !busy) begin
                    $display("cycles %0d %0d %0d", s, desc, cyc - tdesc);
                    tdesc = cyc; desc = desc_index;
                end
            end
            $display("total %0d %0d", s, cyc - t0);
            if (error) $display("ERROR: shadow overrun");
            for (i = 0; i < out_size; i = i + 1) begin
                host_a_addr = out_addr + i; tick;
                $fdisplay(fd, "%02x", host_a_rdata);
            end
        end
        $fclose(fd);
        $finish;
    end
endmodule
