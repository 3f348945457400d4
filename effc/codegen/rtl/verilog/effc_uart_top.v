// effc_uart_top: the accelerator behind a UART loader (8N1, CLK_HZ / BAUD cycles a bit).
// Commands (bytes, addresses little-endian):
//   'W' a0 a1 d0..d(P-1)  write weight word a            (reply: none)
//   'A' a0 a1 n0 n1 bytes write n activation bytes from a (reply: none)
//   'R' a0 a1 n0 n1       read n activation bytes from a  (reply: the bytes)
//   'S'                   run the program                 (reply: 'D', or 'E' on error)
`default_nettype none
module effc_uart_top #(
    parameter P = 8, parameter LP = 3, parameter AW = 14, parameter WAW = 14,
    parameter ACCW = 32, parameter CW = 16, parameter PAW = 8, parameter BANK_DEPTH = 2048,
    parameter WDEPTH = 1 << WAW,
    parameter DIV = 104
) (
    input  wire clk,
    input  wire rx,
    output reg  tx,
    output wire led
);
    localparam BPW = $clog2(DIV + 1);      // bit-period counter width
    // ---------------------------------------------------------------- receiver
    reg [BPW-1:0] rx_cnt = 0;
    reg [3:0]  rx_bit = 0;
    reg [7:0]  rx_sh = 0;
    reg        rx_busy = 0, rx_v = 0;
    reg [7:0]  rx_byte = 0;
    reg [1:0]  rx_sync = 2'b11;
    always @(posedge clk) begin
        rx_sync <= {rx_sync[0], rx};
        rx_v <= 1'b0;
        if (!rx_busy) begin
            if (!rx_sync[1]) begin rx_busy <= 1'b1; rx_cnt <= DIV / 2; rx_bit <= 0; end
        end else if (rx_cnt == DIV - 1) begin
            rx_cnt <= 0;
            rx_bit <= rx_bit + 1'b1;
            if (rx_bit >= 1 && rx_bit <= 8) rx_sh <= {rx_sync[1], rx_sh[7:1]};
            if (rx_bit == 9) begin rx_busy <= 1'b0; rx_v <= 1'b1; rx_byte <= rx_sh; end
        end else rx_cnt <= rx_cnt + 1'b1;
    end
    // ---------------------------------------------------------------- transmitter
    reg [BPW-1:0] tx_cnt = 0;
    reg [3:0]  tx_bit = 0;
    reg [9:0]  tx_sh = 10'h3ff;
    reg        tx_busy = 0;
    reg        tx_go = 0;
    reg [7:0]  tx_byte = 0;
    always @(posedge clk) begin
        if (!tx_busy) begin
            tx <= 1'b1;
            if (tx_go) begin tx_busy <= 1'b1; tx_sh <= {1'b1, tx_byte, 1'b0}; tx_cnt <= 0;
                             tx_bit <= 0; end
        end else begin
            tx <= tx_sh[0];
            if (tx_cnt == DIV - 1) begin
                tx_cnt <= 0;
                tx_sh <= {1'b1, tx_sh[9:1]};
                tx_bit <= tx_bit + 1'b1;
                if (tx_bit == 9) tx_busy <= 1'b0;
            end else tx_cnt <= tx_cnt + 1'b1;
        end
    end
    // ---------------------------------------------------------------- command decoder
    localparam C_CMD = 3'd0, C_ADDR = 3'd1, C_LEN = 3'd2, C_DATA = 3'd3, C_READ = 3'd4,
               C_RUN = 3'd5, C_SEND = 3'd6;
    reg [2:0]  cs = C_CMD;
    reg [7:0]  cmd = 0;
    reg [15:0] addr = 0, len = 0;
    reg [1:0]  nb = 0;
    reg [LP:0] wb = 0;                    // byte of the weight word: written as it arrives
    reg        w_we = 0, w_last = 0, a_we = 0, start = 0;
    reg [7:0]  a_data = 0;
    reg [1:0]  rd_wait = 0;
    reg        rst = 1;
    wire       busy, error;
    wire [7:0] desc_index, a_rdata;
    reg  [P-1:0] w_be = 0;
    assign led = busy;
    effc_accel #(.P(P), .LP(LP), .AW(AW), .WAW(WAW), .ACCW(ACCW), .CW(CW), .PAW(PAW),
                 .BANK_DEPTH(BANK_DEPTH), .WDEPTH(WDEPTH)) core (
        .clk(clk), .rst(rst), .start(start), .busy(busy), .desc_index(desc_index),
        .error(error), .host_w_we(w_we), .host_w_be(w_be), .host_w_addr(addr[WAW-1:0]),
        .host_w_data({P{a_data}}),
        .host_a_we(a_we), .host_a_addr(addr[AW-1:0]), .host_a_data(a_data),
        .host_a_rdata(a_rdata));
    always @(posedge clk) begin
        rst <= 1'b0;
        w_we <= 1'b0; a_we <= 1'b0; start <= 1'b0; tx_go <= 1'b0;
        if ((w_we && w_last) || a_we) addr <= addr + 1'b1;
        case (cs)
        C_CMD: if (rx_v) begin
            cmd <= rx_byte; nb <= 0; wb <= 0;
            if (rx_byte == "S") begin start <= 1'b1; cs <= C_RUN; rd_wait <= 0; end
            else if (rx_byte == "W" || rx_byte == "A" || rx_byte == "R") cs <= C_ADDR;
        end
        C_ADDR: if (rx_v) begin
            if (nb == 0) addr[7:0] <= rx_byte;
            else addr[15:8] <= rx_byte;
            nb <= nb + 1'b1;
            if (nb == 1) begin nb <= 0; cs <= cmd == "W" ? C_DATA : C_LEN; end
        end
        C_LEN: if (rx_v) begin
            if (nb == 0) len[7:0] <= rx_byte;
            else len[15:8] <= rx_byte;
            nb <= nb + 1'b1;
            if (nb == 1) cs <= cmd == "R" ? C_READ : C_DATA;
        end
        C_DATA: if (rx_v) begin
            if (cmd == "W") begin
                a_data <= rx_byte; w_we <= 1'b1; w_be <= {{(P - 1){1'b0}}, 1'b1} << wb;
                w_last <= wb == P - 1;
                wb <= wb + 1'b1;
                if (wb == P - 1) cs <= C_CMD;
            end else begin
                a_data <= rx_byte; a_we <= 1'b1;
                len <= len - 1'b1;
                if (len == 1) cs <= C_CMD;
            end
        end
        C_READ: begin
            // the byte at addr arrives a cycle after its address; then send it
            if (len == 0) cs <= C_CMD;
            else if (rd_wait != 2'd2) rd_wait <= rd_wait + 1'b1;
            else if (!tx_busy && !tx_go) begin
                tx_byte <= a_rdata; tx_go <= 1'b1; cs <= C_SEND;
            end
        end
        C_SEND: if (tx_busy) begin
            addr <= addr + 1'b1; len <= len - 1'b1; rd_wait <= 0; cs <= C_READ;
        end
        C_RUN: begin
            if (rd_wait != 2'd3) rd_wait <= rd_wait + 1'b1;
            else if (!busy && !tx_busy) begin
                tx_byte <= error ? "E" : "D"; tx_go <= 1'b1; cs <= C_CMD;
            end
        end
        default: cs <= C_CMD;
        endcase
    end
endmodule
`default_nettype wire
