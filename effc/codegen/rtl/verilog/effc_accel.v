// effc_accel: a programmable int8 inference engine (docs/rtl-backend.md).
//
// P MAC lanes with int32 accumulators run a stream of 16-word descriptors that the
// compiler (effc/codegen/rtl) writes into the weight memory from word 0:
//   op 1  conv, broadcast: lane i = output channel i of a group of P; one activation
//         byte a cycle feeds every lane (conv, 1x1, strided, padded, dense, grouped)
//   op 2  conv, per-lane: lane i = channel i (depthwise), P activation bytes a cycle
//   op 3  max pool (per-lane)   op 4  average pool (per-lane, exact divider)
//   op 5  Add (TFLite int8 ADD through the shared requantizer)   op 0  end
// Outputs of a pixel go to shadow registers and drain through the one shared
// requantization unit (effc_rq) while the lanes accumulate the next pixel.
`default_nettype none
module effc_accel #(
    parameter P = 8,            // MAC lanes (8 or 16)
    parameter LP = 3,           // log2(P)
    parameter AW = 14,          // activation byte address bits
    parameter WAW = 14,         // weight word address bits
    parameter DSP_LANES = 8,    // lanes whose multiplier is inferred (DSP); others in LUTs
    parameter PAW = 8,          // parameter RAM address bits (output channels a descriptor)
    parameter BANK_DEPTH = 2048, // bytes a bank (at most 2^(AW - LP))
    parameter WDEPTH = 1 << WAW  // weight memory words (simulation, BRAM)
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            start,
    output wire            busy,
    output reg  [7:0]      desc_index,
    output reg             error,     // a shadow overrun (a compiler bug), sticky
    // host port (only while idle)
    input  wire            host_w_we,
    input  wire [WAW-1:0]  host_w_addr,
    input  wire [8*P-1:0]  host_w_data,
    input  wire            host_a_we,
    input  wire [AW-1:0]   host_a_addr,
    input  wire [7:0]      host_a_data,
    output wire [7:0]      host_a_rdata
);
    localparam WW = 8 * P;
    localparam DW = 512 / WW;             // weight words per descriptor
    localparam BAW = AW - LP;
    localparam TAGW = AW + 3;

    localparam S_IDLE = 4'd0, S_FETCH = 4'd1, S_DECODE = 4'd2, S_PARAMS = 4'd4, S_RUN = 4'd5, S_END = 4'd6, S_ADD_A = 4'd7,
               S_ADD_B = 4'd8, S_ADD_S1 = 4'd9, S_ADD_S2 = 4'd10, S_ADD_WAIT = 4'd11,
               S_ADD_DRAIN = 4'd12;
    reg [3:0] state;
    assign busy = state != S_IDLE;

    // ---------------------------------------------------------------- descriptor
    reg [511:0] desc;
    wire [3:0]  op   = desc[3:0];
    wire [7:0]  d_kw = desc[11:4];
    wire [3:0]  d_sh = desc[15:12], d_sw = desc[19:16], d_dh = desc[23:20], d_dw = desc[27:24];
    wire [4:0]  d_lastl = {1'b0, desc[31:28]} + 5'd1;
    wire [15:0] d_h = desc[47:32], d_w = desc[63:48];
    wire [15:0] d_oh = desc[79:64], d_ow = desc[95:80];
    wire [31:0] d_win0 = desc[127:96];
    wire [15:0] d_cin = desc[143:128], d_ngroups = desc[159:144];
    wire [31:0] d_row_step = desc[191:160], d_col_step = desc[223:192];
    wire [31:0] d_prow_step = desc[255:224], d_pcol_step = desc[287:256];
    wire [15:0] d_out0 = desc[303:288], d_cs_out = desc[319:304];
    wire [15:0] d_wbase = desc[335:320], d_wstride = desc[351:336];
    wire [7:0]  d_in_zp = desc[359:352], d_out_zp = desc[367:360];
    wire [7:0]  d_amin = desc[375:368], d_amax = desc[383:376];
    wire [7:0]  d_pad_t = desc[391:384], d_pad_l = desc[399:392];
    wire [15:0] d_k = desc[415:400];
    wire [15:0] d_period = desc[431:416], d_goff = desc[447:432];
    // Add
    wire [31:0] d_a_base = desc[127:96], d_b_base = desc[191:160];
    wire [4:0]  d_s1 = desc[196:192], d_s2 = desc[204:200], d_so = desc[212:208];
    wire [4:0]  d_left = desc[220:216];
    wire [7:0]  d_zpb = desc[391:384];
    wire [31:0] d_m1 = desc[447:416], d_m2 = desc[479:448], d_mo = desc[511:480];
    wire [15:0] d_pbase = desc[463:448], d_cout = desc[479:464];

    // ---------------------------------------------------------------- memories
    reg  [WAW-1:0] w_addr;
    wire [WW-1:0]  w_rdata;
    effc_wmem #(.WW(WW), .WAW(WAW), .WDEPTH(WDEPTH)) wmem (
        .clk(clk), .we(host_w_we && state == S_IDLE),
        .addr(state == S_IDLE ? host_w_addr : w_addr), .wdata(host_w_data), .rdata(w_rdata));

    reg  [AW-1:0] a_raddr;          // byte address of lane 0's byte
    reg           a_we;
    reg  [AW-1:0] a_waddr;
    reg  [7:0]    a_wdata;
    wire [AW-1:0] rd_addr = state == S_IDLE ? host_a_addr : a_raddr;
    wire          wr_en = state == S_IDLE ? host_a_we : a_we;
    wire [AW-1:0] wr_addr = state == S_IDLE ? host_a_addr : a_waddr;
    wire [7:0]    wr_data = state == S_IDLE ? host_a_data : a_wdata;
    wire [8*P-1:0] bank_q;
    // bank b holds the bytes whose address is b modulo P; banks below lane 0's read
    // the next row (one incrementer for all)
    wire [BAW-1:0] rd_row = rd_addr[AW-1:LP];
    wire [BAW-1:0] rd_row1 = rd_row + 1'b1;
    genvar b;
    generate
        for (b = 0; b < P; b = b + 1) begin : bank
            wire [LP-1:0] lo = rd_addr[LP-1:0];
            wire [BAW-1:0] row = b < lo ? rd_row1 : rd_row;
            effc_abank #(.DEPTH(BANK_DEPTH), .BAW(BAW)) mem (
                .clk(clk), .we(wr_en && wr_addr[LP-1:0] == b), .waddr(wr_addr[AW-1:LP]),
                .wdata(wr_data), .raddr(row), .rdata(bank_q[8*b+7:8*b]));
        end
    endgenerate
    reg [LP-1:0] rd_lo_q;           // lane 0's bank, one cycle later
    always @(posedge clk) rd_lo_q <= rd_addr[LP-1:0];
    // lane i = byte at address + i = bank (lo + i) mod P
    wire [16*P-1:0] bank_q2 = {bank_q, bank_q};
    wire [8*P-1:0]  vec = bank_q2 >> (8 * rd_lo_q);
    assign host_a_rdata = vec[7:0];

    // ---------------------------------------------------------------- loop state
    reg [15:0] g;                       // channel group within the pixel
    reg [15:0] oh, ow;                  // output pixel
    reg [15:0] t;                       // tap slot within the group's period
    reg [15:0] ci;
    reg [7:0]  kw;
    // input coordinates (signed) and activation addresses; addresses wrap modulo 2^AW,
    // which is exact for every tap inside the input (the only ones read)
    reg signed [16:0] ih0, iw0, ih, iw;
    reg [AW-1:0] prow, ppix, gorg, arow, acol, aaddr;
    reg [15:0] opix, ogrp;              // output address of the pixel / of the group
    reg [15:0] wg;                      // weight word of the group's first tap
    reg [15:0] pcount;
    reg [15:0] chunk;
    reg [4:0]  wait_n;
    reg [WAW-1:0] desc_addr;
    reg [4:0]  fetch_n;
    wire conv_op = op == 4'd1 || op == 4'd2;
    wire [8*P-1:0] x_byte = op == 4'd1 ? {P{vec[7:0]}} : vec;
    wire [7:0]     x_zp = conv_op ? d_in_zp : 8'd0;

    wire tap_issue = state == S_RUN && t < d_k;
    wire tap_valid = !ih[16] && ih < $signed({1'b0, d_h}) && !iw[16] &&
                     iw < $signed({1'b0, d_w});
    wire last_group = g == d_ngroups - 16'd1;
    wire [4:0] lanes_now = last_group ? d_lastl : P[4:0];

    // ---------------------------------------------------------------- parameter RAM
    // entry c: {shift, multiplier, bias} of the descriptor's output channel c
    // written only while the drain is idle (S_PARAMS): no read-write collision logic
    (* no_rw_check *)
    reg  [71:0] pram [0:(1 << PAW) - 1];
    reg  [71:0] pram_q;
    reg  [7:0]  pram_shift;             // a channel's first word: its shift
    reg  [PAW-1:0] pram_raddr;
    reg s1_issue, s1_valid, s1_first, s1_last, s1_param;
    reg [15:0] s1_opix, s1_pidx;
    // parameter words arrive one cycle after their read: the shift, then {mult, bias},
    // which goes into the RAM straight from the weight memory
    always @(posedge clk) begin
        if (s1_param && s1_pidx[0]) pram[s1_pidx[PAW:1]] <= {pram_shift, w_rdata[63:0]};
        pram_q <= pram[pram_raddr];
    end

    // ---------------------------------------------------------------- pipeline registers
    reg [4:0]  s1_nl;
    reg s2_issue, s2_valid, s2_first, s2_last;
    reg [15:0] s2_opix, s2_pidx;
    reg [4:0]  s2_nl;
    reg signed [8:0] s2_x [0:P-1];
    reg signed [7:0] s2_w [0:P-1];
    reg s3_issue, s3_valid, s3_first, s3_last;
    reg [15:0] s3_opix, s3_pidx;
    reg [4:0]  s3_nl;
    wire signed [16:0] s3_p [0:P-1];
    reg signed [31:0] acc [0:P-1];
    reg [15:0] cnt;
    // shadow registers and the two-stage drain (parameter read, then requantizer)
    reg signed [31:0] shadow [0:P-1];   // a shift register: lane 0 drains first
    reg signed [31:0] e_x;
    reg [15:0] sh_cnt, sh_addr, sh_pidx;
    reg [4:0]  sh_nl;
    reg        d_busy;
    reg [LP:0] d_l;
    reg        e_v;                     // drain stage 2
    reg [LP:0] e_l;
    reg [4:0]  d_div;
    reg [23:0] dv_q;                    // numerator bits shifted out, quotient bits in
    reg [24:0] dv_r;
    reg        dv_neg;
    // Add: the activation read holds A's chunk through S_ADD_S1 and B's through S_ADD_S2
    // (the read is registered: B's address goes out in S_ADD_S1's last cycle)
    wire [8*P-1:0] add_vec = vec >> (8 * pcount[LP-1:0]);
    wire [7:0]  add_byte = add_vec[7:0];
    integer i;

    // ---------------------------------------------------------------- lane multipliers
    genvar l;
    generate
        for (l = 0; l < P; l = l + 1) begin : lane
            reg signed [16:0] p;
            if (l < DSP_LANES) begin : dsp
                always @(posedge clk) p <= s2_x[l] * s2_w[l];
            end else begin : lut
                wire signed [16:0] q;
                effc_booth mul (.clk(clk), .x(s2_x[l]), .w(s2_w[l]), .p(q));
                always @(*) p = q;
            end
            assign s3_p[l] = p;
        end
    endgenerate

    // ---------------------------------------------------------------- requantizer
    reg         rq_v;
    reg  [31:0] rq_x, rq_m;
    reg  [4:0]  rq_left, rq_right;
    // constant a descriptor (the next one is fetched after the requantizer is empty)
    wire [7:0]  rq_zp = op == 4'd3 ? 8'h80 : d_out_zp;
    reg  [TAGW-1:0] rq_tag;
    wire        rq_ov;
    wire [7:0]  rq_y;
    wire [31:0] rq_raw;
    wire [TAGW-1:0] rq_otag;
    effc_rq #(.TAGW(TAGW)) rq (
        .clk(clk), .in_valid(rq_v), .x(rq_x), .m(rq_m), .left(rq_left), .right(rq_right),
        .zp(rq_zp), .amin(d_amin), .amax(d_amax), .tag(rq_tag), .out_valid(rq_ov),
        .y(rq_y), .y_raw(rq_raw), .out_tag(rq_otag));
    // tag: {raw, accumulate, write, address}
    wire ot_raw = rq_otag[TAGW-1], ot_acc = rq_otag[TAGW-2], ot_we = rq_otag[TAGW-3];
    wire [AW-1:0] ot_addr = rq_otag[AW-1:0];

    reg signed [31:0] accn [0:P-1];
    always @(*) begin
        for (i = 0; i < P; i = i + 1) begin
            // accumulators restart from 0 (cleared at the last tap); max pool keeps
            // x + 128 (0..255), so padding (-128) is that 0 as well; the lane's weight
            // is 1 there, so its product is the input byte
            if (op == 4'd3) begin
                if (s3_valid && {~s3_p[i][7], s3_p[i][6:0]} > acc[i][7:0])
                    accn[i] = {24'd0, ~s3_p[i][7], s3_p[i][6:0]};
                else
                    accn[i] = acc[i];
            end else begin
                accn[i] = acc[i] + {{15{s3_p[i][16]}}, s3_p[i]};
            end
        end
    end
    wire [15:0] cntn = cnt + {15'd0, s3_valid};

    wire [15:0] drain_addr = sh_addr + {{(15 - LP){1'b0}}, d_l};
    wire [15:0] e_addr = sh_addr + {{(15 - LP){1'b0}}, e_l};
    reg  [23:0] dv_mag;
    always @(*) dv_mag = shadow[0][31] ? -shadow[0][23:0] : shadow[0][23:0];
    wire [24:0] dv_try = {dv_r[23:0], dv_q[23]};
    wire [24:0] dv_sub = dv_try - {9'd0, sh_cnt};
    wire signed [24:0] dv_res = dv_neg ? -$signed({1'b0, dv_q}) : $signed({1'b0, dv_q});
    wire [7:0] e_shift = pram_q[71:64];

    // The shadow registers: loaded in parallel at a pixel's last tap, else shifted down
    // by one lane when the drain consumes lane 0 or when an Add addend arrives (it enters
    // at the top: in lane order, adding to lane 0 on the second pass, so that lane 0 is
    // at the bottom again after P results). One enable, one data source a register.
    wire sh_copy = s3_issue && s3_last;
    wire sh_drain = d_busy && !(state == S_ADD_WAIT && wait_n == 5'd0) &&
                    (op == 4'd4 ? d_div == 5'd25 : 1'b1);
    wire sh_shift = (rq_ov && ot_raw) || sh_drain;
    reg  signed [31:0] sh_top;
    always @(*) sh_top = ot_acc ? shadow[0] + rq_raw : rq_raw;
    always @(posedge clk) begin
        if (sh_copy) begin
            for (i = 0; i < P; i = i + 1) shadow[i] <= accn[i];
        end else if (sh_shift) begin
            for (i = 0; i < P - 1; i = i + 1) shadow[i] <= shadow[i + 1];
            shadow[P-1] <= sh_top;
        end
    end

    always @(posedge clk) begin
        a_we <= 1'b0;
        rq_v <= 1'b0;
        // ------------------------------------------------ stage 1 -> 2: operands
        s2_issue <= s1_issue; s2_valid <= s1_valid; s2_first <= s1_first;
        s2_last <= s1_last; s2_opix <= s1_opix; s2_nl <= s1_nl; s2_pidx <= s1_pidx;
        // lane i's operand: byte 0 (broadcast) or byte i, minus the input zero point on
        // convolutions, 0 for a padding tap (conv, average pool); max pool and Add take
        // the byte as it is
        for (i = 0; i < P; i = i + 1) begin
            if (s1_valid || !(conv_op || op == 4'd4))
                s2_x[i] <= $signed({x_byte[8*i+7], x_byte[8*i +: 8]}) -
                           $signed({x_zp[7], x_zp});
            else
                s2_x[i] <= 9'sd0;
            s2_w[i] <= conv_op ? w_rdata[8*i +: 8] : 8'sd1;
        end
        if (s1_param && !s1_pidx[0]) pram_shift <= w_rdata[7:0];
        // ------------------------------------------------ stage 2 -> 3
        s3_issue <= s2_issue; s3_valid <= s2_valid; s3_first <= s2_first;
        s3_last <= s2_last; s3_opix <= s2_opix; s3_nl <= s2_nl; s3_pidx <= s2_pidx;
        // ------------------------------------------------ stage 3: accumulate
        if (s3_issue) begin
            for (i = 0; i < P; i = i + 1) acc[i] <= s3_last ? 32'sd0 : accn[i];
            cnt <= s3_last ? 16'd0 : cntn;
        end
        // ------------------------------------------------ drain, stage 1
        pram_raddr <= sh_pidx[PAW-1:0] + {{(PAW - LP - 1){1'b0}}, d_l} + 1'b1;
        e_v <= 1'b0;
        if (s3_issue && s3_last) begin
            if (d_busy) error <= 1'b1;
            sh_cnt <= cntn;
            sh_addr <= s3_opix;
            sh_nl <= s3_nl;
            sh_pidx <= s3_pidx;
            pram_raddr <= s3_pidx[PAW-1:0];
            d_busy <= 1'b1;
            d_l <= 0;
            d_div <= 5'd0;
        end else if (state == S_ADD_WAIT && wait_n == 5'd0) begin
            sh_addr <= d_out0 + (chunk << LP);
            sh_nl <= chunk == d_ngroups - 16'd1 ? d_lastl : P[4:0];
            d_busy <= 1'b1;
            d_l <= 0;
        end else if (d_busy) begin
            if (op == 4'd4) begin
                // exact average: (|s| + c/2) / c with the sign of s, restoring division
                if (d_div == 5'd0) begin
                    dv_q <= dv_mag + {9'd0, sh_cnt[15:1]};
                    dv_r <= 25'd0;
                    dv_neg <= shadow[0][31];
                    d_div <= 5'd1;
                end else if (d_div <= 5'd24) begin
                    if (!dv_sub[24]) begin
                        dv_r <= dv_sub;
                        dv_q <= {dv_q[22:0], 1'b1};
                    end else begin
                        dv_r <= dv_try;
                        dv_q <= {dv_q[22:0], 1'b0};
                    end
                    d_div <= d_div + 5'd1;
                end else begin
                    a_we <= {1'b0, d_l} < {1'b0, sh_nl};
                    a_waddr <= drain_addr[AW-1:0];
                    a_wdata <= dv_res < $signed({{17{d_amin[7]}}, d_amin}) ? d_amin :
                               dv_res > $signed({{17{d_amax[7]}}, d_amax}) ? d_amax :
                               dv_res[7:0];
                    d_div <= 5'd0;
                    d_l <= d_l + 1;
                    if (d_l == P - 1) d_busy <= 1'b0;
                end
            end else begin
                e_v <= 1'b1;
                e_l <= d_l;
                e_x <= shadow[0];
                d_l <= d_l + 1;
                if (d_l == P - 1) d_busy <= 1'b0;
            end
        end
        // ------------------------------------------------ drain, stage 2: requantizer
        if (e_v) begin
            rq_v <= 1'b1;
            rq_tag <= {1'b0, 1'b0, {1'b0, e_l} < {1'b0, sh_nl}, e_addr[AW-1:0]};
            if (op == 4'd5) begin
                rq_x <= e_x;
                rq_m <= d_mo; rq_left <= 5'd0; rq_right <= d_so;
            end else if (op == 4'd3) begin
                rq_x <= e_x;                   // identity: x * 2^31 / 2^31, then - 128
                rq_m <= 32'h40000000; rq_left <= 5'd1; rq_right <= 5'd0;
            end else begin
                rq_x <= e_x + pram_q[31:0];
                rq_m <= pram_q[63:32];
                rq_left <= e_shift[7] ? 5'd0 : e_shift[4:0];
                rq_right <= e_shift[7] ? 5'd0 - e_shift[4:0] : 5'd0;
            end
        end
        // ------------------------------------------------ requantizer results
        if (rq_ov) begin
            if (!ot_raw) begin
                a_we <= ot_we;
                a_waddr <= ot_addr;
                a_wdata <= rq_y;
            end
        end

        // ------------------------------------------------ controller
        s1_issue <= 1'b0; s1_param <= 1'b0;
        case (state)
        S_IDLE: if (start) begin
            state <= S_FETCH; desc_addr <= 0; fetch_n <= 0; desc_index <= 0; w_addr <= 0;
        end
        S_FETCH: begin
            // word k is read in cycle k and arrives in cycle k + 1
            // word k lands in its own bits (unused descriptor bits then need no flip-flop)
            for (i = 0; i < DW; i = i + 1)
                if (fetch_n == i + 1) desc[i*WW +: WW] <= w_rdata;
            if (fetch_n == DW[4:0]) state <= S_DECODE;
            else w_addr <= desc_addr + {{(WAW - 5){1'b0}}, fetch_n} + 1'b1;
            fetch_n <= fetch_n + 1;
        end
        S_DECODE: begin
            g <= 0; oh <= 0; ow <= 0; t <= 0; ci <= 0; kw <= 0; chunk <= 0; pcount <= 0;
            ih0 <= -$signed({9'd0, d_pad_t}); iw0 <= -$signed({9'd0, d_pad_l});
            ih <= -$signed({9'd0, d_pad_t}); iw <= -$signed({9'd0, d_pad_l});
            prow <= d_win0; ppix <= d_win0; gorg <= d_win0;
            arow <= d_win0; acol <= d_win0; aaddr <= d_win0;
            opix <= d_out0; ogrp <= d_out0; wg <= d_wbase;
            w_addr <= conv_op ? d_pbase[WAW-1:0] : d_wbase[WAW-1:0];
            if (op == 4'd0) state <= S_IDLE;
            else if (op == 4'd5) state <= S_ADD_A;
            else if (conv_op) state <= S_PARAMS;
            else state <= S_RUN;
        end
        S_PARAMS: begin
            // two words an output channel, read once a descriptor
            s1_param <= 1'b1;
            s1_pidx <= pcount;
            pcount <= pcount + 1;
            if (pcount + 1 == {d_cout[14:0], 1'b0}) begin
                state <= S_RUN;
                w_addr <= d_wbase[WAW-1:0];
            end else w_addr <= w_addr + 1'b1;
        end
        S_RUN: begin
            // this cycle's tap (if t < K) reads aaddr and weight word wg + t
            s1_issue <= tap_issue;
            s1_valid <= tap_valid;
            s1_first <= t == 0;
            s1_last <= t == d_k - 1;
            s1_opix <= ogrp;
            s1_pidx <= g << LP;
            s1_nl <= lanes_now;
            if (t + 1 == d_period) begin
                t <= 0; ci <= 0; kw <= 0;
                ih <= ih0; iw <= iw0;
                if (!last_group) begin
                    // the next channel group of this pixel
                    g <= g + 1;
                    gorg <= gorg + d_goff;
                    arow <= gorg + d_goff; acol <= gorg + d_goff; aaddr <= gorg + d_goff;
                    ogrp <= ogrp + P;
                    wg <= wg + d_wstride;
                    w_addr <= wg + d_wstride;
                end else begin
                    g <= 0;
                    wg <= d_wbase;
                    w_addr <= d_wbase[WAW-1:0];
                    opix <= opix + d_cs_out;
                    ogrp <= opix + d_cs_out;
                    if (ow + 1 == d_ow) begin
                        ow <= 0;
                        oh <= oh + 1;
                        ih0 <= ih0 + d_sh; iw0 <= -$signed({9'd0, d_pad_l});
                        ih <= ih0 + d_sh; iw <= -$signed({9'd0, d_pad_l});
                        prow <= prow + d_prow_step;
                        ppix <= prow + d_prow_step; gorg <= prow + d_prow_step;
                        arow <= prow + d_prow_step; acol <= prow + d_prow_step;
                        aaddr <= prow + d_prow_step;
                        if (oh + 1 == d_oh) begin
                            state <= S_END;
                            wait_n <= 0;
                        end
                    end else begin
                        ow <= ow + 1;
                        iw0 <= iw0 + d_sw; iw <= iw0 + d_sw;
                        ppix <= ppix + d_pcol_step; gorg <= ppix + d_pcol_step;
                        arow <= ppix + d_pcol_step; acol <= ppix + d_pcol_step;
                        aaddr <= ppix + d_pcol_step;
                    end
                end
            end else begin
                t <= t + 1;
                w_addr <= w_addr + 1'b1;
                if (ci + 1 != d_cin) begin
                    ci <= ci + 1;
                    aaddr <= aaddr + 1;
                end else begin
                    ci <= 0;
                    if (kw + 1 != d_kw) begin
                        kw <= kw + 1;
                        iw <= iw + d_dw;
                        acol <= acol + d_col_step; aaddr <= acol + d_col_step;
                    end else begin
                        kw <= 0;
                        iw <= iw0;
                        ih <= ih + d_dh;
                        arow <= arow + d_row_step; acol <= arow + d_row_step;
                        aaddr <= arow + d_row_step;
                    end
                end
            end
        end
        S_ADD_A: if (!d_busy && !e_v) state <= S_ADD_B;
        S_ADD_B: begin
            state <= S_ADD_S1;
            pcount <= 0;
        end
        S_ADD_S1: begin
            rq_v <= 1'b1;
            rq_x <= {{24{add_byte[7]}}, add_byte} -
                    {{24{d_in_zp[7]}}, d_in_zp};
            rq_m <= d_m1; rq_left <= d_left; rq_right <= d_s1;
            rq_tag <= {1'b1, 1'b0, 1'b0, {(AW - LP){1'b0}}, pcount[LP-1:0]};
            pcount <= pcount + 1;
            if (pcount == P - 1) begin state <= S_ADD_S2; pcount <= 0; end
        end
        S_ADD_S2: begin
            rq_v <= 1'b1;
            rq_x <= {{24{add_byte[7]}}, add_byte} -
                    {{24{d_zpb[7]}}, d_zpb};
            rq_m <= d_m2; rq_left <= d_left; rq_right <= d_s2;
            rq_tag <= {1'b1, 1'b1, 1'b0, {(AW - LP){1'b0}}, pcount[LP-1:0]};
            pcount <= pcount + 1;
            if (pcount == P - 1) begin state <= S_ADD_WAIT; wait_n <= 5'd7; end
        end
        S_ADD_WAIT: begin
            if (wait_n == 5'd0) state <= S_ADD_DRAIN;   // the drain starts now (above)
            else wait_n <= wait_n - 1'b1;
        end
        S_ADD_DRAIN: begin
            chunk <= chunk + 1;
            state <= chunk + 1 == d_ngroups ? S_END : S_ADD_A;
            wait_n <= 0;
        end
        S_END: begin
            // the lanes, the drain and the requantizer finish before the next descriptor
            if (d_busy || e_v || s1_issue || s2_issue || s3_issue) wait_n <= 0;
            else if (wait_n == 5'd10) begin
                state <= S_FETCH;
                desc_addr <= desc_addr + DW[WAW-1:0];
                w_addr <= desc_addr + DW[WAW-1:0];
                fetch_n <= 0;
                desc_index <= desc_index + 1;
            end else wait_n <= wait_n + 1'b1;
        end
        default: state <= S_IDLE;
        endcase
        if (rst) begin
            state <= S_IDLE; d_busy <= 1'b0; error <= 1'b0; desc_index <= 0; e_v <= 1'b0;
            s1_issue <= 1'b0; s2_issue <= 1'b0; s3_issue <= 1'b0; s1_param <= 1'b0;
            for (i = 0; i < P; i = i + 1) acc[i] <= 32'sd0;
            cnt <= 16'd0;
        end
    end

    // activation read address: taps, the Add's two vectors, or the host
    always @(*) begin
        if (state == S_ADD_A || state == S_ADD_B ||
            (state == S_ADD_S1 && pcount[LP-1:0] != {LP{1'b1}}))
            a_raddr = d_a_base[AW-1:0] + (chunk[AW-LP-1:0] << LP);
        else if (state == S_ADD_S1 || state == S_ADD_S2)
            a_raddr = d_b_base[AW-1:0] + (chunk[AW-LP-1:0] << LP);
        else a_raddr = aaddr[AW-1:0];
    end
endmodule

// effc_booth: a signed 9x8 multiplier in LUTs (radix-4 Booth), registered output, for
// lanes kept out of the DSP blocks. Digit k is -2 w[2k+1] + w[2k] + w[2k-1]; its partial product |digit| * x is
// inverted when the digit is negative, and the +1 of that negation sits in a zero bit of
// the next partial product (the last digit's in the final sum).
module effc_booth (
    input  wire               clk,
    input  wire signed [8:0]  x,
    input  wire signed [7:0]  w,
    output reg  signed [16:0] p
);
    wire [8:0] wx = {w, 1'b0};
    wire signed [16:0] op [0:3];
    wire [3:0] neg;
    genvar k;
    generate
        for (k = 0; k < 4; k = k + 1) begin : dig
            wire [2:0] r = wx[2*k +: 3];
            wire one = r[1] ^ r[0];
            wire two = r == 3'b011 || r == 3'b100;
            wire [10:0] mag = one ? {{2{x[8]}}, x} : two ? {x[8], x, 1'b0} : 11'd0;
            wire [10:0] pp = mag ^ {11{r[2]}};
            wire signed [16:0] ppx = {{6{pp[10]}}, pp};
            assign neg[k] = r[2];
            if (k == 0) begin : first
                assign op[k] = ppx;
            end else begin : rest
                assign op[k] = (ppx <<< (2 * k)) | ({16'd0, neg[k-1]} << (2 * k - 2));
            end
        end
    endgenerate
    always @(posedge clk) p <= (op[0] + op[1]) + (op[2] + op[3]) + {10'd0, neg[3], 6'd0};
endmodule
`default_nettype wire
