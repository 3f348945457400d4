/*
 * effc_firmware.h - what a generated model sees of the effc firmware.
 *
 * Model contract (the folder given to effc.engines.qemu.build_firmware):
 *   - effc_model.h defines EFFC_MODEL_INPUT_SIZE and EFFC_MODEL_OUTPUT_SIZE
 *     (bytes of one sample) and may define EFFC_MODEL_ENTRY (default
 *     model_run);
 *   - one .c file defines  int EFFC_MODEL_ENTRY(const int8_t *in, int8_t *out)
 *     returning 0 on success; in/out are 8-byte aligned.
 *   - For per-layer instruction counts, call EFFC_LAYER(i) before layer i;
 *     it compiles to nothing unless the firmware is built with EFFC_PROFILE.
 */
#ifndef EFFC_FIRMWARE_H
#define EFFC_FIRMWARE_H

#include <stdint.h>

/* Marker hook: instructions from this call to the next marker (or to the end
 * of the inference) are attributed to `layer`. Never inlined. */
void effc_layer_marker(int32_t layer);

#ifdef EFFC_PROFILE
#define EFFC_LAYER(i) effc_layer_marker(i)
#else
#define EFFC_LAYER(i) ((void)0)
#endif

#endif /* EFFC_FIRMWARE_H */
