// effc_accel: a programmable int8 inference engine (docs/rtl-backend.md).
//
// P MAC lanes with int32 accumulators run a stream of 16-word descriptors that the
// compiler (effc/codegen/rtl) writes into the weight memory from word 0:
//   op 1  conv, broadcast: lane i = output channel i of a group of P; one activation
//         byte a cycle feeds every lane (conv, 1x1, strided, padded, dense, grouped);
//         K-split (s = 2^ls lanes a channel): lane i takes byte i mod s of the cycle's
//         read, i.e. a share of channel i / s's input channels, the drain adds the s sums
//   op 2  conv, per-lane: lane i = channel i (depthwise), P activation bytes a cycle
//   op 3  max pool (per-lane)   op 4  average pool (per-lane, exact divider)
//   op 5  Add (TFLite int8 ADD through the shared requantizer)   op 0  end
// At a channel group's last tap its sums go into the drain's registers (the lanes go on
// with the next group), which shift them out one a cycle through the one shared
// requantization unit (effc_rq): the compiler's period is at least the drain's length.
// Add runs element by element through effc_rq.
`default_nettype none
module effc_accel #(
    parameter P = 8,            // MAC lanes (8 or 16)
    parameter LP = 3,           // log2(P)
    parameter AW = 14,          // activation byte address bits
    parameter WAW = 14,         // weight word address bits
    parameter ACCW = 32,        // accumulator bits (the compiler bounds every sum to fit)
    parameter CW = 16,          // loop counter and size field bits (the compiler checks)
    parameter PAW = 8,          // parameter RAM address bits (output channels a descriptor)
    parameter BANK_DEPTH = 2048, // bytes a bank (at most 2^(AW - LP))
    parameter WDEPTH = 1 << WAW  // weight memory words (simulation, BRAM)
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            start,
    output wire            busy,
    output reg  [7:0]      desc_index,
    output reg             error,     // a drain overrun (a compiler bug), sticky
    // host port (only while idle)
    input  wire            host_w_we,
    input  wire [P-1:0]    host_w_be,  // byte enables of the write
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

    localparam S_IDLE = 4'd0, S_FETCH = 4'd1, S_DECODE = 4'd2, S_PARAMS = 4'd4, S_RUN = 4'd5,
               S_END = 4'd6, S_ADD_A = 4'd7, S_ADD_B = 4'd8, S_ADD_S1 = 4'd9,
               S_ADD_S2 = 4'd10, S_ADD_WAIT = 4'd11;
    reg [3:0] state;
    assign busy = state != S_IDLE;

    // ---------------------------------------------------------------- descriptor
    reg [511:0] desc;
    wire [3:0]  op   = desc[3:0];
    wire [7:0]  d_kw = desc[11:4];
    wire [3:0]  d_sh = desc[15:12], d_sw = desc[19:16], d_dh = desc[23:20], d_dw = desc[27:24];
    wire [4:0]  d_lastl = {1'b0, desc[31:28]} + 5'd1;
    wire [CW-1:0] d_h = desc[32 +: CW], d_w = desc[48 +: CW];
    wire [CW-1:0] d_oh = desc[64 +: CW], d_ow = desc[80 +: CW];
    wire [31:0] d_win0 = desc[127:96];
    wire [CW-1:0] d_cin = desc[128 +: CW], d_ngroups = desc[144 +: CW];
    wire [31:0] d_row_step = desc[191:160], d_col_step = desc[223:192];
    wire [31:0] d_prow_step = desc[255:224], d_pcol_step = desc[287:256];
    wire [AW-1:0] d_out0 = desc[288 +: AW];
    wire [CW-1:0] d_cs_out = desc[304 +: CW];
    wire [WAW-1:0] d_wbase = desc[320 +: WAW];
    wire [CW-1:0] d_wstride = desc[336 +: CW];
    wire [7:0]  d_in_zp = desc[359:352], d_out_zp = desc[367:360];
    wire [7:0]  d_amin = desc[375:368], d_amax = desc[383:376];
    wire [7:0]  d_pad_t = desc[391:384], d_pad_l = desc[399:392];
    wire [CW-1:0] d_k = desc[400 +: CW];
    wire [CW-1:0] d_period = desc[416 +: CW], d_goff = desc[432 +: CW];
    // Add
    wire [31:0] d_a_base = desc[127:96], d_b_base = desc[191:160];
    wire [4:0]  d_s1 = desc[196:192], d_s2 = desc[204:200], d_so = desc[212:208];
    wire [4:0]  d_left = desc[220:216];
    wire [7:0]  d_zpb = desc[391:384];
    wire [31:0] d_m1 = desc[447:416], d_m2 = desc[479:448], d_mo = desc[511:480];
    wire [WAW-1:0] d_pbase = desc[448 +: WAW];
    wire [CW-1:0] d_cout = desc[464 +: CW];
    // convolutions: K-split (op 1: 2^d_ls lanes share an output channel, each its share
    // of the taps) and one shift for every channel (parameters one word a channel)
    wire [1:0]  d_ls = desc[481:480];
    wire        d_ushift = desc[482];
    wire [7:0]  d_ushv = desc[495:488];

    // ---------------------------------------------------------------- memories
    reg  [WAW-1:0] w_addr;
    wire [WW-1:0]  w_rdata;
    effc_wmem #(.WW(WW), .WAW(WAW), .WDEPTH(WDEPTH)) wmem (
        .clk(clk), .we(host_w_we && state == S_IDLE), .be(host_w_be),
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
    reg [CW-1:0] g;                     // channel group within the pixel
    reg [CW-1:0] oh, ow;                // output pixel
    reg [CW-1:0] t;                     // tap slot within the group's period
    reg [CW-1:0] ci;
    reg [7:0]  kw;
    // input coordinates (signed) and activation addresses; addresses wrap modulo 2^AW,
    // which is exact for every tap inside the input (the only ones read)
    reg signed [CW:0] ih0, iw0, ih, iw;
    reg [AW-1:0] prow, ppix, gorg, arow, acol, aaddr;
    reg [AW-1:0] opix, ogrp;            // output address of the pixel / of the group
    reg [WAW-1:0] wg;                   // weight word of the group's first tap
    reg [CW-1:0] pcount;
    reg [CW-1:0] chunk;
    reg [4:0]  wait_n;
    reg [WAW-1:0] desc_addr;
    reg [4:0]  fetch_n;
    wire conv_op = op == 4'd1 || op == 4'd2;
    // lanes a channel (s = 2^ls): lane l reads byte l mod s of the cycle's read (broadcast),
    // byte l (per lane); a group holds P / s channels (ls registered: constant a descriptor)
    reg  [1:0] ls;
    always @(posedge clk) ls <= op == 4'd1 ? d_ls : 2'd0;
    wire [LP-1:0] smask = ~({LP{1'b1}} << ls);
    wire [LP-1:0] lmask = op == 4'd1 ? smask : {LP{1'b1}};
    wire [LP:0] gout = P[LP:0] >> ls;
    wire [3:0]  sstep = 4'd1 << ls;                 // input channels a tap slot
    wire        ushift = conv_op && d_ushift;
    wire [PAW+LP-1:0] gch = {g[PAW-1:0], {LP{1'b0}}} >> ls;
    wire [8*P-1:0] x_byte;

    wire tap_issue = state == S_RUN && t < d_k;
    wire tap_valid = !ih[CW] && ih < $signed({1'b0, d_h}) && !iw[CW] &&
                     iw < $signed({1'b0, d_w});
    wire last_group = g == d_ngroups - 1'b1;
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
    reg [PAW:0] s1_pidx;                // parameter word (S_PARAMS)
    // parameter words arrive one cycle after their read: the shift, then {mult, bias},
    // which goes into the RAM straight from the weight memory
    always @(posedge clk) begin
        if (s1_param && s1_pidx[0]) pram[s1_pidx[PAW:1]] <= {pram_shift, w_rdata[63:0]};
        pram_q <= pram[pram_raddr];
    end

    // ---------------------------------------------------------------- pipeline registers
    reg s2_issue, s2_valid, s2_first, s2_last;
    reg s3_issue, s3_valid, s3_first, s3_last;
    reg s4_load;                        // the lanes hold a group's sums this cycle
    // the group's output address, parameter index and lanes, taken at its last tap (the
    // next group's last tap is a period >= P + 1 cycles later, after its drain began)
    reg [AW-1:0]  c_opix;
    reg [PAW-1:0] c_pidx;
    reg [4:0]     c_nl;
    wire signed [15:0] s3_p [0:P-1];
    reg signed [ACCW-1:0] acc [0:P-1];
    // the group's sums, taken the cycle after its last tap's accumulation (the lanes go on
    // with the next group; from acc, so each adder keeps its flip-flop in its logic cell)
    // and shifted down a lane at a time as they drain
    reg signed [ACCW-1:0] shd [0:P-1];
    reg [CW-1:0] cnt;
    // the drain: lane d_l's sum (parameter RAM read two cycles ahead)
    reg [CW-1:0] sh_cnt;
    reg [AW-1:0] sh_addr;
    reg [PAW-1:0] sh_pidx;
    reg [4:0]  sh_nl;
    reg        d_busy;
    reg [LP:0] d_l;
    wire [LP:0] d_ch = d_l >> ls;                               // its output channel
    reg         d_first, d_lastk;          // d_l is the channel's first lane / its last
    wire [LP:0] d_l1 = d_l + 1'b1;
    wire [LP:0] d_l2 = (d_l + 2'd2) >> ls;                      // channel two lanes on
    reg [4:0]  d_div;
    wire       d_next = d_busy && (op != 4'd4 || d_div == 5'd25); // the drain's next lane
    reg [23:0] dv_q;                    // numerator bits shifted out, quotient bits in
    reg [CW-1:0] dv_r;                  // remainder < the count < 2^CW
    reg        dv_neg;
    // Add, element pcount of chunk: A's chunk is read in S_ADD_A, B's in S_ADD_B; A's
    // scaled value waits in add_a for B's, then their sum goes through the requantizer
    wire [8*P-1:0] add_vec = vec >> (8 * pcount[LP-1:0]);
    wire [7:0]  add_byte = add_vec[7:0];
    reg  [31:0] add_a;
    reg  [7:0]  add_q;                  // the byte read last cycle (A's, then B's)
    wire [AW-1:0] add_out = d_out0[AW-1:0] + (chunk[AW-LP-1:0] << LP) +
                            {{(AW - LP){1'b0}}, pcount[LP-1:0]};
    wire add_last = chunk == d_ngroups - 1'b1 && {1'b0, pcount[3:0]} == d_lastl - 5'd1;
    integer i;

    // ---------------------------------------------------------------- lane multipliers
    // lane i's operands (registered inside effc_mul2, stage 2): the input byte as it is,
    // byte 0 (broadcast) or byte i, and the weight word's byte i (pools: ones); a
    // padding tap reads the descriptor's input zero point (convolutions: the compiler
    // took zp * sum(weights) off the bias; average pool: 0); max pool takes every byte
    // (padding is never the largest). int8 x int8: two lanes share one effc_mul2 (one
    // SB_MAC16 in its dual 8x8 mode on iCE40).
    wire [8*P-1:0] x_op, w_op;
    genvar l;
    generate
        for (l = 0; l < P; l = l + 1) begin : lane
            wire [LP-1:0] src = l[LP-1:0] & lmask;
            assign x_byte[8*l +: 8] = vec[8*src +: 8];
            assign x_op[8*l +: 8] = s1_valid || op == 4'd3 ? x_byte[8*l +: 8] : d_in_zp;
            assign w_op[8*l +: 8] = w_rdata[8*l +: 8];
        end
        for (l = 0; l < P; l = l + 2) begin : pair
            wire [15:0] pa, pb;
            effc_mul2 mul (.clk(clk), .xa(x_op[8*l +: 8]), .wa(w_op[8*l +: 8]),
                           .xb(x_op[8*l+8 +: 8]), .wb(w_op[8*l+8 +: 8]), .pa(pa), .pb(pb));
            assign s3_p[l] = pa;
            assign s3_p[l+1] = pb;
        end
    endgenerate

    // ---------------------------------------------------------------- requantizer
    reg         rq_v;
    reg  [31:0] rq_x, rq_m;
    reg  [4:0]  rq_left, rq_right;
    // constant a descriptor (the next one is fetched after the requantizer is empty)
    wire [7:0]  rq_zp = op == 4'd3 ? 8'h80 : d_out_zp;
    reg  [TAGW-1:0] rq_tag;
    wire        rq_ov, rq_rv;
    wire [7:0]  rq_y;
    wire [31:0] rq_raw;
    wire [TAGW-1:0] rq_otag, rq_rtag;
    effc_rq #(.TAGW(TAGW)) rq (
        .clk(clk), .in_valid(rq_v), .x(rq_x), .m(rq_m), .left(rq_left), .right(rq_right),
        .zp(rq_zp), .amin(d_amin), .amax(d_amax), .tag(rq_tag), .raw_valid(rq_rv),
        .y_raw(rq_raw), .raw_tag(rq_rtag), .out_valid(rq_ov), .y(rq_y), .out_tag(rq_otag));
    // tag: {raw, accumulate, write, address}
    wire rt_raw = rq_rtag[TAGW-1], rt_acc = rq_rtag[TAGW-2];
    wire ot_raw = rq_otag[TAGW-1], ot_we = rq_otag[TAGW-3];
    wire [AW-1:0] ot_addr = rq_otag[AW-1:0];

    reg signed [ACCW-1:0] accn [0:P-1];
    always @(*) begin
        for (i = 0; i < P; i = i + 1) begin
            // accumulators restart from 0 at a group's first tap (they hold the sums
            // until drained); max pool keeps x + 128 (0..255), so padding (-128) is
            // that 0 as well; the lane's weight is 1 there, so its product is the byte
            // (max pool uses the low 8 bits only: the others just add)
            accn[i] = (s3_first ? {ACCW{1'b0}} : acc[i]) +
                      {{(ACCW - 16){s3_p[i][15]}}, s3_p[i]};
            if (op == 4'd3) begin
                if (s3_valid && ({~s3_p[i][7], s3_p[i][6:0]} > acc[i][7:0] || s3_first))
                    accn[i][7:0] = {~s3_p[i][7], s3_p[i][6:0]};
                else
                    accn[i][7:0] = s3_first ? 8'd0 : acc[i][7:0];
            end
        end
    end
    wire [CW-1:0] cntn = (s3_first ? {CW{1'b0}} : cnt) + {{(CW - 1){1'b0}}, s3_valid};
    wire signed [ACCW-1:0] d_acc = shd[0];
    wire signed [31:0] d_val = {{(32 - ACCW){d_acc[ACCW-1]}}, d_acc};

    wire [AW-1:0] drain_addr = sh_addr + {{(AW - LP - 1){1'b0}}, d_ch};
    // |s| + c/2 (|s| <= 2^23: at most 2^16 int8 values), as (s ^ -neg) + neg + c/2
    wire        s_neg = d_val[31];
    wire [23:0] dv_init = (d_val[23:0] ^ {24{s_neg}}) + {{(25 - CW){1'b0}}, sh_cnt[CW-1:1]} +
                          {23'd0, s_neg};
    wire [CW:0] dv_try = {dv_r, dv_q[23]};
    wire [CW+1:0] dv_sub = {1'b0, dv_try} - {2'b0, sh_cnt};
    // an average of int8 values is an int8 value: the quotient is at most 128
    wire signed [7:0] dv_res = dv_neg ? -dv_q[7:0] : dv_q[7:0];
    wire [7:0] e_shift = pram_q[71:64];

    always @(posedge clk) begin
        a_we <= 1'b0;
        rq_v <= 1'b0;
        // ------------------------------------------------ stage 1 -> 2: operands
        s2_issue <= s1_issue; s2_valid <= s1_valid; s2_first <= s1_first;
        s2_last <= s1_last;
        if (s1_param && !s1_pidx[0]) pram_shift <= w_rdata[7:0];
        // ------------------------------------------------ stage 2 -> 3
        s3_issue <= s2_issue; s3_valid <= s2_valid; s3_first <= s2_first;
        s3_last <= s2_last;
        // ------------------------------------------------ stage 3: accumulate
        if (s3_issue) begin
            for (i = 0; i < P; i = i + 1) acc[i] <= accn[i];
            cnt <= cntn;
        end
        s4_load <= s3_issue && s3_last;
        if (s4_load)
            for (i = 0; i < P; i = i + 1) shd[i] <= acc[i];
        else if (d_next)
            for (i = 0; i < P - 1; i = i + 1) shd[i] <= shd[i + 1];
        // ------------------------------------------------ drain
        // the parameter RAM is read two cycles ahead: lane 0's channel at the group's
        // last accumulation (below), then one a cycle (K-split: the lane's channel)
        pram_raddr <= sh_pidx + {{(PAW - LP - 1){1'b0}}, d_l2};
        if (s4_load) begin
            if (d_busy) error <= 1'b1;
            sh_cnt <= cnt;
            sh_addr <= c_opix;
            sh_nl <= c_nl;
            sh_pidx <= c_pidx;
            pram_raddr <= c_pidx + {{(PAW - 1){1'b0}}, ls == 2'd0};
            d_busy <= 1'b1;
            d_l <= 0;
            d_first <= 1'b1;
            d_lastk <= ls == 2'd0;
            d_div <= 5'd0;
        end else if (d_busy) begin
            if (op == 4'd4) begin
                // exact average: (|s| + c/2) / c with the sign of s, restoring division
                if (d_div == 5'd0) begin
                    dv_q <= dv_init;
                    dv_r <= {CW{1'b0}};
                    dv_neg <= s_neg;
                    d_div <= 5'd1;
                end else if (d_div <= 5'd24) begin
                    if (!dv_sub[CW+1]) begin
                        dv_r <= dv_sub[CW-1:0];
                        dv_q <= {dv_q[22:0], 1'b1};
                    end else begin
                        dv_r <= dv_try[CW-1:0];
                        dv_q <= {dv_q[22:0], 1'b0};
                    end
                    d_div <= d_div + 5'd1;
                end else begin
                    a_we <= {1'b0, d_l} < {1'b0, sh_nl};
                    a_waddr <= drain_addr[AW-1:0];
                    a_wdata <= dv_res < $signed(d_amin) ? d_amin :
                               dv_res > $signed(d_amax) ? d_amax : dv_res;
                    d_div <= 5'd0;
                    d_l <= d_l + 1;
                    if (d_l == P - 1) d_busy <= 1'b0;
                end
            end else begin
                // lane d_l's sum with its channel's parameters; a channel's lanes
                // (K-split) add up in rq_x, which goes into the requantizer at its last
                rq_v <= d_lastk;
                rq_tag <= {1'b0, 1'b0, {1'b0, d_ch} < {1'b0, sh_nl}, drain_addr};
                if (op == 4'd3) begin
                    rq_x <= {24'd0, d_acc[7:0]}; // identity: x * 2^31 / 2^31, then - 128
                    rq_m <= 32'h40000000; rq_left <= 5'd1; rq_right <= 5'd0;
                end else begin
                    rq_x <= d_val + (d_first ? pram_q[31:0] : rq_x);
                    rq_m <= pram_q[63:32];
                    rq_left <= e_shift[7] ? 5'd0 : e_shift[4:0];
                    rq_right <= e_shift[7] ? 5'd0 - e_shift[4:0] : 5'd0;
                end
                d_l <= d_l1;
                d_first <= (d_l1[LP-1:0] & smask) == {LP{1'b0}};
                d_lastk <= (d_l1[LP-1:0] & smask) == smask;
                if (d_l == P - 1) d_busy <= 1'b0;
            end
        end
        if (s3_issue && s3_last) pram_raddr <= c_pidx;
        // ------------------------------------------------ requantizer results
        // Add: A's scaled value waits; with B's, their sum goes in (the controller
        // issues nothing in S_ADD_WAIT)
        if (rq_rv && rt_raw) begin
            if (!rt_acc) add_a <= rq_raw;
            else begin
                rq_v <= 1'b1;
                rq_x <= add_a + rq_raw;
                rq_m <= d_mo; rq_left <= 5'd0; rq_right <= d_so;
                rq_tag <= {1'b0, 1'b0, 1'b1, add_out};
            end
        end
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
            // one shift for all channels: it comes from the descriptor, the parameter
            // words are the odd ones ({multiplier, bias})
            if (ushift) begin
                pram_shift <= d_ushv;
                pcount <= {{(CW - 1){1'b0}}, 1'b1};
            end
            if (op == 4'd0) state <= S_IDLE;
            else if (op == 4'd5) state <= S_ADD_A;
            else if (conv_op) state <= S_PARAMS;
            else state <= S_RUN;
        end
        S_PARAMS: begin
            // two words an output channel, read once a descriptor
            s1_param <= 1'b1;
            s1_pidx <= pcount[PAW:0];
            pcount <= pcount + {{(CW - 2){1'b0}}, ushift, !ushift};
            if (pcount + 1'b1 == {d_cout[CW-2:0], 1'b0}) begin
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
            if (tap_issue && t == d_k - 1) begin
                c_opix <= ogrp[AW-1:0];
                c_pidx <= gch[PAW-1:0];
                c_nl <= lanes_now;
            end
            if (t + 1 == d_period) begin
                t <= 0; ci <= 0; kw <= 0;
                ih <= ih0; iw <= iw0;
                if (!last_group) begin
                    // the next channel group of this pixel
                    g <= g + 1;
                    gorg <= gorg + d_goff;
                    arow <= gorg + d_goff; acol <= gorg + d_goff; aaddr <= gorg + d_goff;
                    ogrp <= ogrp + {{(AW - LP - 1){1'b0}}, gout};
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
                    aaddr <= aaddr + {{(AW - 4){1'b0}}, sstep};
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
        // Add, one element at a time: read A's chunk, then B's; each byte is held a cycle
        // (add_q), then goes into the requantizer (raw; B's added to A's); the sum goes
        // in when it comes out
        S_ADD_A: state <= S_ADD_B;
        S_ADD_B: begin
            state <= S_ADD_S1;
            add_q <= add_byte;
        end
        S_ADD_S1: begin
            state <= S_ADD_S2;
            add_q <= add_byte;
            rq_v <= 1'b1;
            rq_x <= {{24{add_q[7]}}, add_q} - {{24{d_in_zp[7]}}, d_in_zp};
            rq_m <= d_m1; rq_left <= d_left; rq_right <= d_s1;
            rq_tag <= {1'b1, 1'b0, 1'b0, {AW{1'b0}}};
        end
        S_ADD_S2: begin
            state <= S_ADD_WAIT;
            rq_v <= 1'b1;
            rq_x <= {{24{add_q[7]}}, add_q} - {{24{d_zpb[7]}}, d_zpb};
            rq_m <= d_m2; rq_left <= d_left; rq_right <= d_s2;
            rq_tag <= {1'b1, 1'b1, 1'b0, {AW{1'b0}}};
        end
        S_ADD_WAIT: if (rq_rv && rt_raw && rt_acc) begin
            // the sum went into the requantizer this cycle (above): the next element
            wait_n <= 0;
            if (add_last) state <= S_END;
            else begin
                state <= S_ADD_A;
                pcount <= pcount + 1;
                if (pcount[LP-1:0] == P - 1) begin pcount <= 0; chunk <= chunk + 1; end
            end
        end
        S_END: begin
            // the lanes, the drain and the requantizer finish before the next descriptor
            if (d_busy || s1_issue || s2_issue || s3_issue || s4_load) wait_n <= 0;
            else if (wait_n == 5'd3) begin
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
            state <= S_IDLE; d_busy <= 1'b0; error <= 1'b0; desc_index <= 0;
            s1_issue <= 1'b0; s2_issue <= 1'b0; s3_issue <= 1'b0; s1_param <= 1'b0;
            s4_load <= 1'b0;
            for (i = 0; i < P; i = i + 1) acc[i] <= {ACCW{1'b0}};
            cnt <= {CW{1'b0}};
        end
    end

    // activation read address: taps, the Add's two vectors, or the host
    always @(*) begin
        if (state == S_ADD_A)
            a_raddr = d_a_base[AW-1:0] + (chunk[AW-LP-1:0] << LP);
        else if (state == S_ADD_B)
            a_raddr = d_b_base[AW-1:0] + (chunk[AW-LP-1:0] << LP);
        else a_raddr = aaddr[AW-1:0];
    end
endmodule
`default_nettype wire
