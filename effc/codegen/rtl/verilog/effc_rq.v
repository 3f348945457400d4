// effc_rq: the shared, pipelined TFLite-exact requantization unit.
//   y = clamp(RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(wrap32(x << left), m),
//                                 right) + zp, amin, amax)
// (tflite::MultiplyByQuantizedMultiplier) for 0 <= m < 2^31 (the compiler checks it; so
// the high multiply never saturates). The int32 result before the zero point and the
// clamp comes out on y_raw after 4 cycles (raw_valid, raw_tag), y two cycles later
// (out_valid, out_tag). One input per cycle. The tag and the shifts travel with the
// value; zp, amin and amax must stay constant while values are in flight (they are per
// descriptor), so they need no pipeline.
`default_nettype none
module effc_rq #(parameter TAGW = 24) (
    input  wire             clk,
    input  wire             in_valid,
    input  wire [31:0]      x,
    input  wire [31:0]      m,
    input  wire [4:0]       left,
    input  wire [4:0]       right,
    input  wire [7:0]       zp,
    input  wire [7:0]       amin,
    input  wire [7:0]       amax,
    input  wire [TAGW-1:0]  tag,
    output reg              raw_valid,
    output reg  [31:0]      y_raw,
    output reg  [TAGW-1:0]  raw_tag,
    output reg              out_valid,
    output reg  [7:0]       y,
    output reg  [TAGW-1:0]  out_tag
);
    // the parameters travel beside the value (explicit registers: Icarus 11 mis-compiles
    // array elements in continuous assignments)
    reg        v2, v3, v4;
    reg [4:0]  rt2, rt3, rt4;
    reg [TAGW-1:0] tg2, tg3, tg4, tg6;
    reg        v6;
    reg signed [9:0] sat_q;            // y_raw saturated to 10 bits
    // stage 2: operands (x shifted left) registered for the multiplier
    reg signed [31:0] s2_a;
    reg [30:0] s2_b;
    // stage 3: the product (|x m| < 2^62)
    reg signed [62:0] s3_p;
    // stage 4: both roundings' additions in one sum, S = P + K (see below)
    reg signed [34:0] s4_s;

    // With P = floor(p / 2^30): the doubling high half, rounded half away from zero, is
    // h = floor((P + 1) / 2) (gemmlowp). RoundingDivideByPOT(h, e) is
    // floor((h + 2^(e-1) - [h < 0]) / 2^e) for e >= 1 (h for e = 0). Both together:
    // floor((P + K) / 2^(e+1)) with K = 1 + 2^e - 2 [h < 0] (K = 1 for e = 0), and
    // h < 0 exactly when P <= -2.
    // (for e >= 1, K is 2^e - 1, e ones, when h < 0, else 2^e + 1)
    wire signed [32:0] big_p = s3_p[62:30];
    wire        h_neg = s3_p[62] && !(&s3_p[61:30]);
    wire [31:0] k_add;
    genvar i;
    generate
        for (i = 0; i < 32; i = i + 1) begin : kbit
            if (i == 0) begin : lsb
                assign k_add[i] = 1'b1;
            end else begin : rest
                assign k_add[i] = h_neg ? i < rt3 : i == rt3;
            end
        end
    endgenerate
    wire signed [34:0] shifted = (s4_s >>> 1) >>> rt4;

    // zero point and clamp on 10 bits: y_raw saturated to -512..511 first
    wire        fits = &y_raw[31:9] || !(|y_raw[31:9]);
    wire signed [9:0] sat = fits ? y_raw[9:0] : {y_raw[31], {9{!y_raw[31]}}};
    wire signed [10:0] with_zp = sat_q + $signed(zp);

    always @(posedge clk) begin
        v2 <= in_valid; v3 <= v2; v4 <= v3; raw_valid <= v4; v6 <= raw_valid;
        out_valid <= v6;
        rt2 <= right; rt3 <= rt2; rt4 <= rt3;
        tg2 <= tag; tg3 <= tg2; tg4 <= tg3; raw_tag <= tg4; tg6 <= raw_tag; out_tag <= tg6;
        s2_a <= x << left;
        s2_b <= m[30:0];
        s3_p <= s2_a * $signed({1'b0, s2_b});
        s4_s <= {{2{big_p[32]}}, big_p} + $signed({3'd0, k_add});
        y_raw <= shifted[31:0];
        sat_q <= sat;
        if (with_zp < $signed(amin)) y <= amin;
        else if (with_zp > $signed(amax)) y <= amax;
        else y <= with_zp[7:0];
    end
endmodule
`default_nettype wire
