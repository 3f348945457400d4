// effc_rq: the shared, pipelined TFLite-exact requantization unit.
//   y = clamp(RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(wrap32(x << left), m),
//                                 right) + zp, amin, amax)
// (tflite::MultiplyByQuantizedMultiplier). With raw=1 the int32 result before the zero
// point and the clamp comes out on y_raw. Latency: 6 cycles; one input per cycle.
// The tag travels with the value.
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
    localparam N = 6;
    // stage 1: the left shift (wraps to 32 bits, as the int32 C code)
    reg [31:0] s1_x, s1_m;
    reg [4:0]  r_right [1:N-1];
    reg [7:0]  r_zp [1:N-1], r_min [1:N-1], r_max [1:N-1];
    reg [TAGW-1:0] r_tag [1:N-1];
    reg        r_v [1:N-1];
    // stage 2: operands registered for the multiplier
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
    wire signed [33:0] t_hi = s3_p[63:30] + 34'sd1;

    wire [31:0] mask = (32'd1 << r_right[4]) - 32'd1;
    wire [31:0] rem = s4_h & mask;
    wire [31:0] thr = (mask >> 1) + {31'd0, s4_h[31]};
    wire signed [31:0] shifted = s4_h >>> r_right[4];
    wire signed [31:0] rdiv = shifted + ((rem > thr) ? 32'sd1 : 32'sd0);

    wire signed [31:0] with_zp = s5_r + {{24{r_zp[5][7]}}, r_zp[5]};
    wire signed [31:0] lo = {{24{r_min[5][7]}}, r_min[5]};
    wire signed [31:0] hi = {{24{r_max[5][7]}}, r_max[5]};

    integer i;
    always @(posedge clk) begin
        s1_x <= x << left;
        s1_m <= m;
        r_v[1] <= in_valid; r_right[1] <= right; r_zp[1] <= zp; r_min[1] <= amin;
        r_max[1] <= amax; r_tag[1] <= tag;
        for (i = 2; i < N; i = i + 1) begin
            r_v[i] <= r_v[i-1]; r_right[i] <= r_right[i-1]; r_zp[i] <= r_zp[i-1];
            r_min[i] <= r_min[i-1]; r_max[i] <= r_max[i-1]; r_tag[i] <= r_tag[i-1];
        end
        s2_a <= s1_x;
        s2_b <= s1_m;
        s2_ovf <= (s1_x == 32'h80000000) && (s1_m == 32'h80000000);
        s3_p <= s2_a * s2_b;
        s3_ovf <= s2_ovf;
        s4_h <= s3_ovf ? 32'sh7fffffff : t_hi[32:1];
        s5_r <= rdiv;
        out_valid <= r_v[5];
        out_tag <= r_tag[5];
        y_raw <= s5_r;
        if (with_zp < lo) y <= r_min[5];
        else if (with_zp > hi) y <= r_max[5];
        else y <= with_zp[7:0];
    end
endmodule
`default_nettype wire
