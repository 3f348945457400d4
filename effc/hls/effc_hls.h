/*
 * effc_hls.h - effc's header-only HLS C++ layer library (Vitis HLS style).
 *
 * One template per layer kind, each configured by a compile-time config struct
 * whose every value effc's Python emitter computes (geometry, folding, beat
 * widths, zero points, clamps); weights and per-channel parameters are const
 * arrays the generated model header defines. Layers talk through
 * effc_hls::stream (hls::stream under Vitis HLS, a plain FIFO under g++).
 * Standard integer types only: the C-simulation compiles with plain g++.
 */
#ifndef EFFC_HLS_H
#define EFFC_HLS_H

#include "effc_hls_dataflow.h"
#include "effc_hls_eltwise.h"
#include "effc_hls_layout.h"
#include "effc_hls_mvau.h"
#include "effc_hls_pool.h"
#include "effc_hls_softmax.h"
#include "effc_hls_stream.h"
#include "effc_hls_window.h"

#endif /* EFFC_HLS_H */
