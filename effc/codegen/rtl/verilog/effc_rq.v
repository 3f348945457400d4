// effc_rq: the shared, pipelined TFLite-exact requantization unit.
//   y = clamp(RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(wrap32(x << left), m),
//                                 right) + zp, amin, amax)
// (tflite::MultiplyByQuantizedMultiplier). With raw=1 the int32 result before the zero
// point and the clamp comes out on y_raw. Latency: 5 cycles; one input per cycle.
// The tag and the shift travel with the value; zp, amin and amax must stay constant
// while values are in flight (they are per descriptor), so they need no pipeline.
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
    output reg              out_valid,
    output reg  [7:0]       y,
    output reg  [31:0]      y_raw,
    output reg  [TAGW-1:0]  out_tag
);
    // the parameters travel beside the value (explicit registers: Icarus 11 mis-compiles
    // array elements in continuous assignments)
    reg        v2, v3, v4, v5;
    reg [4:0]  rt2, rt3, rt4;
    reg [TAGW-1:0] tg2, tg3, tg4, tg5;
    // stage 2: operands (x shifted left) registered for the multiplier
    reg signed [31:0] s2_a, s2_b;
    reg        s2_ovf;
    // stage 3: the 64-bit product
    reg signed [63:0] s3_p;
    reg        s3_ovf;
    // stage 4: the doubling high half, rounded half away from zero, truncated to zero
    reg signed [31:0] s4_h;
    // stage 5: rounding divide by 2^right
    reg signed [31:0] s5_r;

    // gemmlowp: t = p + (p >= 0 ? 2^30 : 1 - 2^30), then t / 2^31 truncated toward zero.
    // t has p's sign, and truncating a negative t adds 2^31 - 1 before the arithmetic
    // shift: both cases are floor((p + 2^30) / 2^31) = (p[63:30] + 1) >>> 1.
    wire [31:0] x_sh = x << left;
    wire signed [33:0] t_hi = s3_p[63:30] + 34'sd1;

    wire [31:0] mask = (32'd1 << rt4) - 32'd1;
    wire [31:0] rem = s4_h & mask;
    wire [31:0] thr = (mask >> 1) + {31'd0, s4_h[31]};
    wire signed [31:0] shifted = s4_h >>> rt4;
    wire signed [31:0] rdiv = shifted + ((rem > thr) ? 32'sd1 : 32'sd0);

    wire signed [31:0] with_zp = s5_r + {{24{zp[7]}}, zp};
    wire signed [31:0] lo = {{24{amin[7]}}, amin};
    wire signed [31:0] hi = {{24{amax[7]}}, amax};

    always @(posedge clk) begin
        v2 <= in_valid; v3 <= v2; v4 <= v3; v5 <= v4;
        rt2 <= right; rt3 <= rt2; rt4 <= rt3;
        tg2 <= tag; tg3 <= tg2; tg4 <= tg3; tg5 <= tg4;
        s2_a <= x_sh;
        s2_b <= m;
        s2_ovf <= (x_sh == 32'h80000000) && (m == 32'h80000000);
        s3_p <= s2_a * s2_b;
        s3_ovf <= s2_ovf;
        s4_h <= s3_ovf ? 32'sh7fffffff : t_hi[32:1];
        s5_r <= rdiv;
        out_valid <= v5;
        out_tag <= tg5;
        y_raw <= s5_r;
        if (with_zp < lo) y <= amin;
        else if (with_zp > hi) y <= amax;
        else y <= with_zp[7:0];
    end
endmodule
`default_nettype wire
