/*
 * effc_conv_grouped_s8.c - int8 grouped 2-D convolution: each group's input
 * channels are copied into scratch, convolved with effc_conv_s8 and their
 * outputs copied back (bit-exact with TFLM's grouped ConvPerChannel).
 */
#include "effc_internal.h"

typedef struct {
    effc_dims in, f, out; /* one group's dims */
    size_t in_bytes, out_bytes;
} effc_group_dims;

static int effc_group_split(int32_t groups, const effc_dims *in, const effc_dims *f,
                            const effc_dims *out, effc_group_dims *g)
{
    if (groups < 1 || !effc_dims_ok(in) || !effc_dims_ok(f) || !effc_dims_ok(out) ||
        in->c != f->c * groups || f->n != out->c || out->c % groups != 0) {
        return 0;
    }
    g->in = *in;
    g->in.c = f->c;
    g->f = *f;
    g->f.n = out->c / groups;
    g->out = *out;
    g->out.c = out->c / groups;
    g->in_bytes = effc_align4((size_t)in->n * (size_t)in->h * (size_t)in->w * (size_t)f->c);
    g->out_bytes =
        effc_align4((size_t)out->n * (size_t)out->h * (size_t)out->w * (size_t)g->out.c);
    return 1;
}

size_t effc_grouped_conv_s8_scratch_size(const effc_conv_params *params, int32_t groups,
                                         const effc_dims *input_dims,
                                         const effc_dims *filter_dims,
                                         const effc_dims *output_dims)
{
    effc_group_dims g;
    if (!effc_group_split(groups, input_dims, filter_dims, output_dims, &g)) {
        return 0;
    }
    return g.in_bytes + g.out_bytes + effc_conv_s8_scratch_size(params, &g.in, &g.f, &g.out);
}

/* Copies `count` pixels of `width` channels between buffers of `src_c` and
 * `dst_c` channels per pixel. */
static void effc_copy_channels(int8_t *dst, size_t dst_c, const int8_t *src, size_t src_c,
                               size_t width, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++) {
        __builtin_memcpy(dst + i * dst_c, src + i * src_c, width);
    }
}

int effc_grouped_conv_s8(const effc_scratch *scratch, const effc_conv_params *params,
                         int32_t groups, const effc_per_channel_quant *quant,
                         const effc_dims *input_dims, const int8_t *input,
                         const effc_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias, const effc_dims *output_dims, int8_t *output)
{
    effc_group_dims g;
    int8_t *buf, *in_slice, *out_slice;
    effc_scratch rest;
    int32_t i;
    const size_t pixels_in = (size_t)input_dims->n * (size_t)input_dims->h *
                             (size_t)input_dims->w;
    const size_t pixels_out = (size_t)output_dims->n * (size_t)output_dims->h *
                              (size_t)output_dims->w;
    if (params == NULL || quant == NULL || input == NULL || output == NULL ||
        !effc_group_split(groups, input_dims, filter_dims, output_dims, &g) ||
        input == output || params->filter_layout != EFFC_FILTER_S8) {
        return EFFC_ERR_ARG;
    }
    buf = (int8_t *)effc_scratch_get(scratch, effc_grouped_conv_s8_scratch_size(
                                                  params, groups, input_dims, filter_dims,
                                                  output_dims));
    if (buf == NULL) {
        return EFFC_ERR_ARG;
    }
    in_slice = buf;
    out_slice = buf + g.in_bytes;
    rest.buf = out_slice + g.out_bytes;
    rest.size = scratch->size - g.in_bytes - g.out_bytes;
    for (i = 0; i < groups; i++) {
        const size_t cin = (size_t)g.in.c, cout = (size_t)g.out.c;
        effc_per_channel_quant q;
        int status;
        q.multiplier = quant->multiplier != NULL ? quant->multiplier + (size_t)i * cout : NULL;
        q.shift = quant->shift != NULL ? quant->shift + (size_t)i * cout : NULL;
        q.channels = quant->channels != NULL ? quant->channels + (size_t)i * cout : NULL;
        effc_copy_channels(in_slice, cin, input + (size_t)i * cin, (size_t)input_dims->c, cin,
                           pixels_in);
        status = effc_conv_s8(&rest, params, &q, &g.in, in_slice, &g.f,
                              filter + (size_t)i * cout * (size_t)(g.f.h * g.f.w * g.f.c),
                              bias != NULL ? bias + (size_t)i * cout : NULL, &g.out,
                              out_slice);
        if (status != EFFC_OK) {
            return status;
        }
        effc_copy_channels(output + (size_t)i * cout, (size_t)output_dims->c, out_slice, cout,
                           cout, pixels_out);
    }
    return EFFC_OK;
}
