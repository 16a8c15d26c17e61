/* half.c -- exact IEEE binary16 <-> binary32 conversion in software (round to
 * nearest even, overflow to infinity, subnormals kept), used by the f16 storage mode
 * so that mixed precision and its overflow behaviour can be tested without a GPU.
 * The arithmetic is kernels_hd.h's, the same the CUDA kernels run.
 *
 * defines: tn_half_from_float, tn_float_from_half */
#include "tensor/backend.h"
#include "tensor/kernels_hd.h"

uint16_t tn_half_from_float(float f) { return tn_hd_half_from_float(f); }

float tn_float_from_half(uint16_t hv) { return tn_hd_float_from_half(hv); }
